"""Batched ML for bootstrap resamples: all replicates of a block are fitted together in numpy.

Why it is fast: every resample's solution is close to the full-sample θ̂, so we (1) compute all B
sample covariances with one BLAS call from resampling multiplicities, (2) warm-start at θ̂, (3) use the
analytic batched gradient of F_ML (``objective.BatchedObjective``, same formulas as
``MatrixModel.gradient``), and (4) take quasi-Newton steps whose metric starts as the inverse
full-sample expected Hessian (the first step is a Fisher-scoring step) and is refined per replicate by
BFGS — no q×q information matrix is ever formed per replicate.  Measured: the fixed metric alone
(constant-metric Fisher scoring) converges only linearly and needs > 100 iterations for 1e-9 at n = 128;
BFGS needs ~20–35.  Per-replicate backtracking keeps each step downhill and Σ positive definite.
Replicates are processed ~50 at a time (the cache sweet spot for numpy's stacked small-matrix calls).

Rule for non-convergence (one sentence, reported as ``BootstrapResult.rule``): see ``RULE``.
Inadmissible solutions (negative variance, |standardized loading| > 1, non-positive-definite latent or
residual covariance matrix) are kept, as lavaan keeps them, and counted.

Exactness: converged means max|∂F/∂θ| < 1e-9 (F per case), which leaves estimates within ~1e-7 of a full
refit — tested in tests/test_bootstrap_exact.py.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..model.estimator import fisher_scoring, simple_start
from ..model.inference import defined_values
from ..model.matrices import LAMBDA, PSI, THETA, MatrixModel
from ..model.partable import ParTable
from ..model.objective import BatchedObjective

RULE = ("a resample counts as converged when max|dF/dtheta| < 1e-9 after batched quasi-Newton (BFGS) "
        "iterations from the full-sample estimates or, failing that, after single-sample Fisher scoring from "
        "the batched end point, the full-sample estimates, simple start values or a semopy refit; "
        "resamples that still fail (or whose sample covariance is singular) are excluded from SEs and CIs, "
        "while inadmissible but converged solutions are kept, as lavaan does")


CHUNK = 50


@dataclass(frozen=True)
class ModelCore:
    """What a worker needs to fit resamples (picklable; no semopy objects, no DataFrame)."""

    partable: ParTable
    matrix_model: MatrixModel
    data: np.ndarray            # n × p, columns in matrix_model.ov order
    theta_hat: np.ndarray
    metric_inv: np.ndarray      # inverse of the full-sample expected Hessian of F_ML
    tol: float = 1e-9
    max_iter: int = 100
    semopy_fallback: bool = True


@dataclass(frozen=True)
class BlockResult:
    start: int                  # first replicate number of the block
    theta: np.ndarray           # (b, q)
    defined: np.ndarray         # (b, d)
    converged: np.ndarray       # (b,) bool
    admissible: np.ndarray      # (b,) bool
    fallback: np.ndarray        # (b,) bool: finished by the single-replicate fallback
    iterations: int


def make_core(fit, data, **kw) -> ModelCore:
    """ModelCore from a ModelFit and a DataFrame (or an n × p array already in ``mm.ov`` order)."""
    if getattr(fit, "group_model", None) is not None:
        raise ValueError("this bootstrap engine takes single-group covariance-structure fits; "
                         "multigroup/mean-structure fits use bootstrap.groups")
    mm = fit.matrix_model
    if hasattr(data, "columns"):
        missing = [v for v in mm.ov if v not in data.columns]
        if missing:
            raise ValueError(f"data has no column(s) {', '.join(missing)} used by the model")
        x = data[list(mm.ov)].to_numpy(dtype=float)
    else:
        x = np.asarray(data, dtype=float)
    if np.isnan(x).any():
        raise ValueError("the bootstrap needs complete data (the same rows the model was fitted to)")
    if len(x) != fit.n:
        raise ValueError(f"data has {len(x)} rows but the model was fitted to n = {fit.n}")
    H = mm.expected_hessian(fit.theta, fit.sample_cov)
    try:
        metric_inv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        metric_inv = np.linalg.pinv(H)
    return ModelCore(fit.partable, mm, x, np.asarray(fit.theta, float), metric_inv, **kw)


def sample_covariances(data: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """ML covariance (divisor N) of every resample, shape (b, p, p), in one BLAS call.

    With multiplicities w_b (how often each row is drawn) S_b = Σ_i w_bi x_i x_i'/N − x̄_b x̄_b'; the data
    are centred at the full-sample mean first, which keeps the subtraction well conditioned.
    """
    b, n = indices.shape
    p = data.shape[1]
    x = data - data.mean(axis=0)
    w = np.zeros((b, n))
    np.add.at(w, (np.repeat(np.arange(b), n), indices.ravel()), 1.0)
    w /= n
    outer = (x[:, :, None] * x[:, None, :]).reshape(n, p * p)
    mean = w @ x
    S = (w @ outer).reshape(b, p, p) - mean[:, :, None] * mean[:, None, :]
    return 0.5 * (S + np.swapaxes(S, 1, 2))


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

    def grad(th, rows):
        return objective(th, S[rows], logdet_S[rows])

    theta = np.repeat(start[None], R, axis=0)
    with np.errstate(all="ignore"):
        f, g = grad(theta, np.arange(R))
    converged = np.zeros(R, dtype=bool)
    ids = np.flatnonzero(np.isfinite(f) & np.all(np.isfinite(g), axis=1))
    th_w, f_w, g_w = theta[ids], f[ids], g[ids]
    h_w = np.repeat(metric_inv[None], len(ids), axis=0)
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
        d = -np.einsum("rij,rj->ri", h_w, g_w)
        slope = np.einsum("ri,ri->r", g_w, d)
        bad = ~(slope < 0)                     # metric lost positive definiteness: restart it
        if bad.any():
            h_w[bad] = metric_inv
            d[bad] = -g_w[bad] @ metric_inv
            slope[bad] = np.einsum("ri,ri->r", g_w[bad], d[bad])
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
        # BFGS update of the inverse metric, in place (skipped when the curvature condition fails):
        # H += c·ss' − ρ(s·Hy' + Hy·s'),  c = ρ + ρ²·y'Hy
        s, y = new_th - th_w, new_g - g_w
        sy = np.einsum("ri,ri->r", s, y)
        upd = sy > 1e-12 * np.linalg.norm(s, axis=1) * np.linalg.norm(y, axis=1)
        rho = np.where(upd, 1.0 / np.where(upd, sy, 1.0), 0.0)
        hy = np.einsum("rij,rj->ri", h_w, y)
        c = rho + rho ** 2 * np.einsum("ri,ri->r", y, hy)
        rhy = rho[:, None] * hy
        h_w += s[:, :, None] * (c[:, None] * s - rhy)[:, None, :]
        h_w -= rhy[:, :, None] * s[:, None, :]
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


def admissible(pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
    """No negative variance, no |standardized loading| > 1, latent and residual covariances PD."""
    lam, beta, psi, th = mm.matrices(theta, S)
    ok = np.ones(theta.shape[0], dtype=bool)
    for mid, mat in ((PSI, psi), (THETA, th)):
        sel = (mm.f_mat == mid) & (mm.f_row == mm.f_col)
        if sel.any():
            ok &= (mat[:, mm.f_row[sel], mm.f_row[sel]] >= 0).all(axis=1)
    A = np.linalg.inv(np.eye(mm.m)[None] - beta)
    M = A @ psi @ np.swapaxes(A, 1, 2)
    sigma = lam @ M @ np.swapaxes(lam, 1, 2) + th
    sel = mm.f_mat == LAMBDA
    if sel.any():
        r, c = mm.f_row[sel], mm.f_col[sel]
        with np.errstate(invalid="ignore", divide="ignore"):
            std = lam[:, r, c] * np.sqrt(np.abs(M[:, c, c])) / np.sqrt(np.abs(sigma[:, r, r]))
        ok &= (np.abs(std) <= 1).all(axis=1)
    latent = [i for i, v in enumerate(mm.eta) if v in pt.variables.lv]
    if latent:
        ok &= np.linalg.eigvalsh(psi[:, latent][:, :, latent]).min(axis=1) > 0
    ind = [i for i, v in enumerate(mm.ov) if v in pt.variables.ov_ind]
    if ind:
        ok &= np.linalg.eigvalsh(th[:, ind][:, :, ind]).min(axis=1) > 0
    return ok


def _semopy_start(core: ModelCore, rows: np.ndarray) -> np.ndarray | None:
    try:
        import pandas as pd

        from ..model.semopy_backend import semopy_estimates
        frame = pd.DataFrame(core.data[rows], columns=list(core.matrix_model.ov))
        theta, note = semopy_estimates(core.partable, core.matrix_model, frame, core.theta_hat)
        return None if note.startswith("semopy failed") else theta
    except Exception:  # noqa: BLE001 - any semopy failure just means this start is unavailable
        return None


def fit_resamples(core: ModelCore, indices: np.ndarray, start: int = 0) -> BlockResult:
    """Fit the resamples given by ``indices`` (b, n): batched first, then the per-replicate fallback."""
    mm, pt = core.matrix_model, core.partable
    S = sample_covariances(core.data, indices)
    pd_ok = np.linalg.eigvalsh(S).min(axis=1) > 1e-12
    objective = BatchedObjective(mm)
    theta = np.empty((len(S), mm.n_free))
    converged = np.zeros(len(S), dtype=bool)
    iterations = 0
    for lo in range(0, len(S), CHUNK):   # ~50 replicates per numpy call is the cache sweet spot
        sl = slice(lo, lo + CHUNK)
        theta[sl], converged[sl], its = batched_ml(mm, S[sl], core.theta_hat, core.metric_inv, tol=core.tol,
                                                   max_iter=core.max_iter, objective=objective)
        iterations = max(iterations, its)
    converged &= pd_ok
    fallback = np.zeros(len(theta), dtype=bool)
    for r in np.flatnonzero(~converged & pd_ok):
        starts = [theta[r] if np.all(np.isfinite(theta[r])) else core.theta_hat, core.theta_hat,
                  simple_start(mm, S[r])]
        if core.semopy_fallback:
            starts.append(lambda r=r: _semopy_start(core, indices[r]))
        for st in starts:
            if callable(st):
                st = st()
                if st is None:
                    continue
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    sol = fisher_scoring(mm, S[r], st, tol=core.tol)
            except (np.linalg.LinAlgError, ValueError):
                continue
            if sol.converged and sol.max_gradient < 10 * core.tol:
                theta[r], converged[r], fallback[r] = sol.theta, True, True
                break
    theta[~converged] = np.nan
    with np.errstate(all="ignore"):
        ok = np.zeros(len(theta), dtype=bool)
        if converged.any():
            ok[converged] = admissible(pt, mm, theta[converged], S[converged])
        dvals = defined_values(pt, theta)
    return BlockResult(start, theta, dvals, converged, ok, fallback, iterations)

