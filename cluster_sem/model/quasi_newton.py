"""Batched quasi-Newton (BFGS) minimisation of F_ML for many sample covariances at once.

Used by the bootstrap (thousands of resamples warm-started at θ̂) and, with a batch of one, as the
finish of a single fit (``estimator.fit_ml``): Fisher scoring converges only linearly when the model does
not fit exactly (rate ≈ 0.7 per iteration on HS1939), while BFGS from the Fisher point with the inverse
expected Hessian as initial metric needs ~10 iterations to max|∂F/∂θ| < 1e-9.
"""
from __future__ import annotations

import numpy as np

from .matrices import MatrixModel
from .objective import BatchedObjective


def batched_ml(mm: MatrixModel, S: np.ndarray, start: np.ndarray, metric_inv: np.ndarray, *, tol: float,
               max_iter: int, objective=None) -> tuple[np.ndarray, np.ndarray, int]:
    """Batched quasi-Newton (dense BFGS) for all replicates; returns (theta, converged, iterations).

    Every replicate starts at θ̂ with the inverse full-sample expected Hessian as its metric — so the
    first step is a Fisher-scoring step — and then updates its own metric by BFGS, which removes the
    slow linear convergence of a fixed metric (resample Hessians differ from the full-sample one by
    20–50 % at n ≈ 100; measured: a fixed metric needs > 100 iterations for 1e-9, BFGS ~20).  Steps are
    backtracked per replicate until Armijo's condition holds (or, once F no longer changes in floating
    point, until the gradient norm decreases); only replicates still working are evaluated, and the
    working arrays are kept compacted.  A replicate whose step cannot be accepted in 30 halvings is left
    (not converged) for the single-replicate fallback.  (Measured alternative: L-BFGS with the same
    initial metric needs ~15–30 % more gradient evaluations and was slower on both benchmark models.)
    """
    R = S.shape[0]
    if objective is None:
        objective = BatchedObjective(mm)
    with np.errstate(all="ignore"):
        logdet_S = np.linalg.slogdet(S)[1]

    return batched_quasi_newton(lambda th, rows: objective(th, S[rows], logdet_S[rows]), R, start, metric_inv,
                                tol=tol, max_iter=max_iter)


def batched_quasi_newton(grad, R: int, start: np.ndarray, metric_inv: np.ndarray, *, tol: float,
                         max_iter: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The engine of ``batched_ml`` for any batched objective: ``grad(theta[r, q], rows) -> (F[r], g[r, q])``
    evaluates replicates ``rows``; the multigroup bootstrap (``bootstrap.groups``) passes its own.
    ``start`` (q,) and ``metric_inv`` (q, q) are shared by all replicates, or given per replicate as
    (R, q) and (R, q, q) (the bootstrap fallback restarts failed replicates from their own start values)."""
    per_rep = metric_inv.ndim == 3
    theta = np.repeat(start[None], R, axis=0) if start.ndim == 1 else np.array(start, dtype=float)
    with np.errstate(all="ignore"):
        f, g = grad(theta, np.arange(R))
    converged = np.zeros(R, dtype=bool)
    ids = np.flatnonzero(np.isfinite(f) & np.all(np.isfinite(g), axis=1))
    th_w, f_w, g_w = theta[ids], f[ids], g[ids]
    h_w = metric_inv[ids].copy() if per_rep else np.repeat(metric_inv[None], len(ids), axis=0)
    it = 0
    for it in range(1, max_iter + 1):
        done = np.abs(g_w).max(axis=1) < tol
        if done.any():
            converged[ids[done]] = True
            theta[ids[done]] = th_w[done]
            keep = ~done
            ids, th_w, f_w, g_w, h_w = ids[keep], th_w[keep], f_w[keep], g_w[keep], h_w[keep]
        if not len(ids):
            break
        d, slope = _search_direction(h_w, g_w, metric_inv, ids, per_rep)
        new_th, new_f, new_g, pending = _backtrack(grad, ids, th_w, f_w, g_w, d, slope)
        _bfgs_update(h_w, new_th - th_w, new_g - g_w)
        th_w, f_w, g_w = new_th, new_f, new_g
        if len(pending):                       # stalled: left (not converged) for the fallback
            keep = np.ones(len(ids), dtype=bool)
            keep[pending] = False
            theta[ids[pending]] = th_w[pending]
            ids, th_w, f_w, g_w, h_w = ids[keep], th_w[keep], f_w[keep], g_w[keep], h_w[keep]
    done = np.abs(g_w).max(axis=1) < tol if len(ids) else np.zeros(0, dtype=bool)
    converged[ids[done]] = True
    theta[ids] = th_w
    return theta, converged, it


def _search_direction(h_w: np.ndarray, g_w: np.ndarray, metric_inv: np.ndarray, ids: np.ndarray,
                      per_rep: bool) -> tuple[np.ndarray, np.ndarray]:
    """Quasi-Newton direction d = −H g and its slope g'd per replicate.  A replicate whose inverse metric
    lost positive definiteness (slope not < 0) has ``h_w`` reset in place to its start metric and steps along
    −M⁻¹ g instead."""
    d = -(h_w @ g_w[:, :, None])[:, :, 0]          # batched matvec (matmul: ~1.6x einsum here)
    slope = np.einsum("ri,ri->r", g_w, d)
    bad = ~(slope < 0)                     # metric lost positive definiteness: restart it
    if bad.any():
        h_w[bad] = metric_inv[ids[bad]] if per_rep else metric_inv
        d[bad] = (-np.einsum("rij,rj->ri", h_w[bad], g_w[bad]) if per_rep else -g_w[bad] @ metric_inv)
        slope[bad] = np.einsum("ri,ri->r", g_w[bad], d[bad])
    return d, slope


def _backtrack(grad, ids: np.ndarray, th_w: np.ndarray, f_w: np.ndarray, g_w: np.ndarray, d: np.ndarray,
               slope: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Armijo backtracking (step halved up to 30 times), all replicates at once.  A step is also taken when
    F does not rise (to round-off) and the gradient shrinks: near the optimum F is flat to machine precision.
    Returns the accepted points and ``pending``: positions (in the working set) that found no step."""
    gnorm = np.linalg.norm(g_w, axis=1)
    new_th, new_f, new_g = th_w.copy(), f_w.copy(), g_w.copy()
    alpha = np.ones(len(ids))
    pending = np.arange(len(ids))
    for _ in range(30):
        trial = th_w[pending] + alpha[pending, None] * d[pending]
        with np.errstate(all="ignore"):
            ft, gt = grad(trial, ids[pending])
        f0 = f_w[pending]
        ok = (np.isfinite(ft) & np.all(np.isfinite(gt), axis=1)
              & ((ft <= f0 + 1e-4 * alpha[pending] * slope[pending])
                 | ((ft <= f0 + 1e-12 * (1 + np.abs(f0)))
                    & (np.linalg.norm(gt, axis=1) < gnorm[pending]))))
        acc = pending[ok]
        new_th[acc], new_f[acc], new_g[acc] = trial[ok], ft[ok], gt[ok]
        pending = pending[~ok]
        if not len(pending):
            break
        alpha[pending] /= 2
    return new_th, new_f, new_g, pending


def _bfgs_update(h_w: np.ndarray, s: np.ndarray, y: np.ndarray) -> None:
    """BFGS update of the inverse metric, in place (skipped when the curvature condition fails):
    H += c·ss' − ρ(s·Hy' + Hy·s'),  c = ρ + ρ²·y'Hy."""
    sy = np.einsum("ri,ri->r", s, y)
    upd = sy > 1e-12 * np.linalg.norm(s, axis=1) * np.linalg.norm(y, axis=1)
    rho = np.where(upd, 1.0 / np.where(upd, sy, 1.0), 0.0)
    hy = (h_w @ y[:, :, None])[:, :, 0]
    c = rho + rho ** 2 * np.einsum("ri,ri->r", y, hy)
    rhy = rho[:, None] * hy
    # both rank-one terms as one stacked (q × 2)(2 × q) product: one temporary instead of two
    h_w += np.stack([s, -rhy], axis=2) @ np.stack([c[:, None] * s - rhy, s], axis=1)
