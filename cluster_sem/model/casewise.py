"""Casewise-likelihood model: the FIML objective (``fiml.loglik``) chained to the free parameters.

Parameters φ = (θ, ν): θ the covariance-structure parameters of ``MatrixModel`` (Σ(θ) = ΛAΨA'Λ' + Θ) and ν
the free observed intercepts.  With lavaan's defaults (latent means fixed at 0) μ(φ) = ν for the
endogenous items; intercepts of fixed.x covariates stay at their sample means.  Without a mean structure
(complete data, MLR) ν is empty and μ is fixed at the sample means, which leaves covariance estimates,
SEs and scaling factors exactly as lavaan's.

The chain rule is the only place that knows how Σ(θ) is built:  ∂ℓ/∂θ_k = tr(G ∂Σ/∂θ_k),  ∂ℓ/∂ν = ∂ℓ/∂μ.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .fiml import PatternSums, casewise_scores, loglik, pattern_sums
from .matrices import MatrixModel
from .missing import Patterns


@dataclass(frozen=True)
class CasewiseModel:
    mm: MatrixModel
    data: Patterns
    S_x: np.ndarray            # covariance used for fixed.x entries of Ψ (EM/sample values)
    mu_fixed: np.ndarray       # (p,) means used where μ is not free
    free_mu: np.ndarray        # item indices whose intercept is a free parameter
    sums: PatternSums = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "sums", pattern_sums(self.data))

    @property
    def q(self) -> int:
        return self.mm.n_free

    @property
    def n_par(self) -> int:
        return self.q + len(self.free_mu)

    def split(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = phi[: self.q]
        mu = self.mu_fixed.copy()
        mu[self.free_mu] = phi[self.q:]
        return theta, mu

    def moments(self, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta, mu = self.split(phi)
        return mu, self.mm.implied(theta[None], self.S_x[None])[0]

    def value_gradient(self, phi: np.ndarray, sums=None) -> tuple[float, np.ndarray]:
        """(ℓ, ∂ℓ/∂φ) — total over cases."""
        sums = sums if sums is not None else self.sums
        theta, mu = self.split(phi)
        sigma = self.mm.implied(theta[None], self.S_x[None])[0]
        ll, gmu, G = loglik(sums, mu[None], sigma[None])
        if not np.isfinite(ll[0]):
            return -np.inf, np.full(self.n_par, np.nan)
        J = self.mm.jacobian(theta, self.S_x)
        return float(ll[0]), np.concatenate([np.einsum("ab,abk->k", G[0], J), gmu[0, self.free_mu]])

    def hessian(self, phi: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """∂²ℓ/∂φ² by central differences of the analytic gradient (as lavaan's observed information)."""
        k = len(phi)
        H = np.zeros((k, k))
        for j in range(k):
            step = h * max(1.0, abs(phi[j]))
            up, dn = phi.copy(), phi.copy()
            up[j] += step
            dn[j] -= step
            H[:, j] = (self.value_gradient(up)[1] - self.value_gradient(dn)[1]) / (2 * step)
        return 0.5 * (H + H.T)

    def scores(self, phi: np.ndarray) -> np.ndarray:
        """Casewise ∂ℓ_i/∂φ, shape (n, n_par)."""
        theta, mu = self.split(phi)
        sigma = self.mm.implied(theta[None], self.S_x[None])[0]
        gmu, G = casewise_scores(self.data, mu, sigma)
        J = self.mm.jacobian(theta, self.S_x)
        return np.hstack([np.einsum("iab,abk->ik", G, J), gmu[:, self.free_mu]])

    def delta(self, phi: np.ndarray, *, means: bool = True) -> np.ndarray:
        """∂(μ, vech Σ)/∂φ' — lavaan's Delta, rows in ``fiml.vech_indices`` order."""
        from .fiml import vech_indices
        theta, _ = self.split(phi)
        J = self.mm.jacobian(theta, self.S_x)
        r, c = vech_indices(self.data.p)
        p = self.data.p
        top = np.zeros((p, self.n_par))
        top[self.free_mu, self.q + np.arange(len(self.free_mu))] = 1.0
        bottom = np.hstack([J[r, c, :], np.zeros((len(r), len(self.free_mu)))])
        return np.vstack([top, bottom]) if means else bottom


def maximise(model: CasewiseModel, start: np.ndarray, *, tol: float = 1e-9, max_iter: int = 200):
    """Maximise ℓ: BFGS (scipy) from ``start``, then Newton steps with the finite-difference Hessian.

    Returns (φ̂, ℓ̂, Hessian at φ̂, converged, iterations).  Newton's last steps make the gradient vanish to
    ~1e-10 per case, which is what reproduces lavaan's estimates to 1e-6.
    """
    from scipy import optimize
    n = model.data.n

    def fun(phi):
        ll, g = model.value_gradient(phi)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(phi)
        return -ll / n, -g / n

    res = optimize.minimize(fun, start, jac=True, method="BFGS", options={"gtol": 1e-7, "maxiter": 2000})
    phi = res.x
    ll, g = model.value_gradient(phi)
    H = model.hessian(phi)
    its = int(res.nit)
    for it in range(max_iter):
        if np.abs(g).max() / n < tol:
            break
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        alpha = 1.0
        for _ in range(30):
            trial = phi - alpha * step
            ll_t, g_t = model.value_gradient(trial)
            if np.isfinite(ll_t) and ll_t >= ll - 1e-10 * abs(ll):
                break
            alpha /= 2
        else:
            break
        phi, ll, g = trial, ll_t, g_t
        H = model.hessian(phi)
        its += 1
    converged = bool(np.abs(g).max() / n < 1e-6)
    return phi, float(ll), H, converged, its
