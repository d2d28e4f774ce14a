"""Maximum likelihood by Fisher scoring on the LISREL matrices.

semopy's SLSQP stops when the objective changes little, which leaves estimates ~1e-3 away from lavaan's
(HS1939: x2 loading 0.5544 vs 0.5535).  We therefore start from semopy's solution and finish with Fisher
scoring (Gauss–Newton with the expected Hessian) until the gradient vanishes, which reproduces lavaan's
estimates to ~1e-6.  The same routine is the fallback when semopy fails.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrices import MatrixModel


@dataclass(frozen=True)
class MLSolution:
    theta: np.ndarray
    fmin: float          # F_ML at the solution
    iterations: int
    converged: bool
    max_gradient: float


def fisher_scoring(mm: MatrixModel, S: np.ndarray, start: np.ndarray, *, tol: float = 1e-9,
                   max_iter: int = 500) -> MLSolution:
    """Minimise the single-group F_ML from ``start`` (see ``minimise``)."""
    S1 = S[None]
    return minimise(lambda th: tuple(x[0] for x in mm.gradient(th[None], S1)),
                    lambda th: mm.expected_hessian(th, S), start, tol=tol, max_iter=max_iter)


def minimise(value_gradient, hessian, start: np.ndarray, *, tol: float = 1e-9,
             max_iter: int = 500) -> MLSolution:
    """Fisher scoring for any objective: ``value_gradient(θ) -> (F, ∂F/∂θ)``, ``hessian(θ)`` its expected
    Hessian.  Step halving keeps every step downhill and Σ positive definite (F finite)."""
    theta = np.asarray(start, dtype=float).copy()
    f, g = value_gradient(theta)
    if not np.isfinite(f):
        raise np.linalg.LinAlgError("start values give a non-positive-definite implied covariance")
    for it in range(1, max_iter + 1):
        H = hessian(theta)
        try:
            step = np.linalg.solve(H + 1e-12 * np.eye(len(theta)), g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        alpha = 1.0
        for _ in range(40):
            trial = theta - alpha * step
            f_new, g_new = value_gradient(trial)
            if np.isfinite(f_new) and f_new <= f + 1e-12:
                break
            alpha /= 2
        else:
            return MLSolution(theta, float(f), it, False, float(np.abs(g).max()))
        theta, f, g = trial, f_new, g_new
        if np.abs(g).max() < tol or np.abs(alpha * step).max() < tol * 1e-2:
            return MLSolution(theta, float(f), it, bool(np.abs(g).max() < 1e-5), float(np.abs(g).max()))
    return MLSolution(theta, float(f), max_iter, False, float(np.abs(g).max()))


def simple_start(mm: MatrixModel, S: np.ndarray) -> np.ndarray:
    """lavaan's 'simple' start values: loadings/regressions 0 or 1, residual variances half the sample variance."""
    from .matrices import BETA, LAMBDA, PSI, THETA
    theta = np.zeros(mm.n_free)
    diag = np.diag(S)
    for mid, i, j, k in zip(mm.f_mat, mm.f_row, mm.f_col, mm.f_idx):
        if mid == LAMBDA:
            theta[k] = 1.0
        elif mid == BETA:
            theta[k] = 0.0
        elif mid == PSI and i == j:
            theta[k] = 0.05 if mm.eta[i] not in mm.ov else diag[mm.ov.index(mm.eta[i])]
        elif mid == THETA and i == j:
            theta[k] = diag[i] / 2
    return theta


def minimise_quasi_newton(value_gradient, hessian, start: np.ndarray, *, tol: float = 1e-9,
                          max_iter: int = 1000, fisher_steps: int = 3) -> MLSolution:
    """Fisher scoring for a few steps, then BFGS from the expected Hessian as the initial metric.

    Why: with many parameters and a poorly fitting model the expected Hessian differs enough from the
    observed one that pure Fisher scoring converges only linearly (measured: ~60 iterations to
    |g| < 1e-9 on a 306-parameter two-group CFA, each with a q×q expected Hessian); BFGS refines the
    metric from gradients alone and reaches the same optimum in fewer, much cheaper iterations.
    """
    sol = minimise(value_gradient, hessian, start, tol=tol, max_iter=fisher_steps)
    theta = sol.theta
    f, g = value_gradient(theta)
    if np.abs(g).max() < tol:
        return MLSolution(theta, float(f), sol.iterations, True, float(np.abs(g).max()))
    H = hessian(theta)
    try:
        Hinv = np.linalg.inv(H + 1e-12 * np.eye(len(theta)))
    except np.linalg.LinAlgError:
        Hinv = np.linalg.pinv(H)
    metric0 = Hinv.copy()
    for it in range(sol.iterations + 1, max_iter + 1):
        d = -Hinv @ g
        slope = g @ d
        if not slope < 0:
            Hinv = metric0.copy()
            d = -Hinv @ g
            slope = g @ d
        alpha = 1.0
        for _ in range(40):
            trial = theta + alpha * d
            f_new, g_new = value_gradient(trial)
            if np.isfinite(f_new) and (f_new <= f + 1e-4 * alpha * slope
                                       or (f_new <= f + 1e-12 * (1 + abs(f))
                                           and np.linalg.norm(g_new) < np.linalg.norm(g))):
                break
            alpha /= 2
        else:
            return MLSolution(theta, float(f), it, bool(np.abs(g).max() < 1e-5), float(np.abs(g).max()))
        s, y = trial - theta, g_new - g
        theta, f, g = trial, f_new, g_new
        if np.abs(g).max() < tol:
            return MLSolution(theta, float(f), it, True, float(np.abs(g).max()))
        sy = s @ y
        if sy > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
            rho = 1.0 / sy
            hy = Hinv @ y
            Hinv += (rho + rho ** 2 * (y @ hy)) * np.outer(s, s) - rho * (np.outer(s, hy) + np.outer(hy, s))
    return MLSolution(theta, float(f), max_iter, bool(np.abs(g).max() < 1e-5), float(np.abs(g).max()))
