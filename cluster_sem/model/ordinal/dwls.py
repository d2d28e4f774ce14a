"""DWLS on (thresholds, polychoric correlations): model vector, its Jacobian, Gauss–Newton estimation.

    F(θ) = (s − σ(θ))' W (s − σ(θ)),   W = diag(1/diag Γ)   (lavaan ``estimator = "DWLS"``)

σ(θ) = (τ, Π, off-diagonal Σ*_y|x(θ)) in the delta parameterization: thresholds are free parameters (one
per sample threshold); the slopes Π on the covariates (conditional.x) and the residual correlations come
from Σ(θ) = ΛAΨA'Λ' + Θ of the project's LISREL matrices (``DeltaModel.moments``).  Only off-diagonal
residual covariances enter, so the derived residual variances never matter for the fit.  θ = (θ_model, τ).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .delta import DeltaModel


@dataclass(frozen=True)
class DWLSSolution:
    theta: np.ndarray
    fmin: float
    iterations: int
    converged: bool


class ModelVector:
    """σ(θ) and Δ = ∂σ/∂θ for one delta model and pair layout."""

    def __init__(self, dm: DeltaModel, n_thresholds: int, pair_a: np.ndarray, pair_b: np.ndarray):
        self.dm = dm
        self.q_model = dm.delta.n_free
        self.n_th = n_thresholds
        self.n_sl = len(dm.y_idx) * len(dm.x_idx)
        self.ra, self.ca = pair_b, pair_a

    @property
    def q(self) -> int:
        return self.q_model + self.n_th

    def sigma(self, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
        pi, resid = self.dm.moments(theta[: self.q_model], S)
        return np.concatenate([theta[self.q_model:], pi.ravel(), resid[self.ra, self.ca]])

    def jacobian(self, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
        u = self.n_th + self.n_sl
        J = np.zeros((u + len(self.ra), self.q))
        J[: self.n_th, self.q_model:] = np.eye(self.n_th)
        if self.q_model:
            dpi, dres = self.dm.moments_jacobian(theta[: self.q_model], S)
            J[self.n_th:u, : self.q_model] = dpi.reshape(self.n_sl, self.q_model)
            J[u:, : self.q_model] = dres[self.ra, self.ca, :]
        return J


def gauss_newton(mv: ModelVector, s: np.ndarray, w: np.ndarray, S: np.ndarray, start: np.ndarray, *,
                 tol: float = 1e-10, max_iter: int = 500, ftol: float | None = None,
                 ftol_step: float = 1e-4) -> DWLSSolution:
    """Minimise F by Gauss–Newton with step halving (F is quadratic in σ, so GN converges fast).

    ``ftol``: also stop once F changes by less than ftol·F and the step is below ``ftol_step``.  Why:
    with large residuals (many parameters for few cases, Heywood cases) Gauss–Newton converges only
    linearly in flat directions — 40+ iterations whose steps no longer move F (seen on the 42-item
    example's multigroup path model); lavaan's nlminb stops on the relative change of F as well."""
    theta = start.copy()

    def objective(t):
        r = s - mv.sigma(t, S)
        return float(r @ (w * r)), r

    f, r = objective(theta)
    for it in range(1, max_iter + 1):
        J = mv.jacobian(theta, S)
        H = J.T @ (w[:, None] * J)
        g = J.T @ (w * r)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        alpha = 1.0
        for _ in range(40):
            trial = theta + alpha * step
            f_new, r_new = objective(trial)
            if np.isfinite(f_new) and f_new <= f + 1e-14:
                break
            alpha /= 2
        else:
            return DWLSSolution(theta, f, it, bool(np.abs(g).max() < 1e-6))
        moved = np.abs(alpha * step).max()
        flat = ftol is not None and f - f_new <= ftol * max(f, 1.0) and moved < ftol_step
        theta, f, r = trial, f_new, r_new
        if moved < tol or flat:
            return DWLSSolution(theta, f, it, True)
    return DWLSSolution(theta, f, max_iter, False)
