"""Casewise-likelihood model: the FIML objective (``fiml.loglik``) chained to the free parameters.

Parameters φ = (θ, ν): θ the covariance-structure parameters of ``MatrixModel`` (Σ(θ) = ΛAΨA'Λ' + Θ) and ν
the free observed intercepts.  With lavaan's defaults (latent means fixed at 0) μ(φ) = ν for the
endogenous items; intercepts of fixed.x covariates stay at their sample means.  Without a mean structure
(complete data, MLR) ν is empty and μ is fixed at the sample means, which leaves covariance estimates,
SEs and scaling factors exactly as lavaan's.

The chain rule is the only place that knows how Σ(θ) is built:  ∂ℓ/∂θ_k = tr(G ∂Σ/∂θ_k),  ∂ℓ/∂ν = ∂ℓ/∂μ.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .fiml import PatternSums, casewise_scores, loglik, pattern_sums
from .matrices import THETA, MatrixModel, structural_inverse
from .missing import Patterns

_SCORE_BUDGET = 1 << 22   # per-case p × p numbers in one block of casewise scores (32 MiB)


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
        g_theta = sigma_chain(self.mm.objective, theta[None], self.S_x[None], G)[0]
        return float(ll[0]), np.concatenate([g_theta, gmu[0, self.free_mu]])

    def hessian(self, phi: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """∂²ℓ/∂φ² = Δ'(∂²ℓ/∂m²)Δ + Σ_α (∂ℓ/∂σ_α) ∂²σ_α/∂φ∂φ'  (m = (μ, vech Σ), Δ = ∂m/∂φ').

        The first term uses the closed-form observed information of the saturated likelihood; the second
        differentiates ∂tr(GΣ(θ))/∂θ by central differences with G = ∂ℓ/∂Σ held fixed (μ is linear in φ),
        all q perturbations in one batched ``sigma_chain`` call.  Same quantity as lavaan's finite-difference
        Hessian of the analytic gradient, much cheaper.
        """
        from .fiml import h1_observed_information
        mu, sigma = self.moments(phi)
        delta = self.delta(phi)
        H = -self.data.n * delta.T @ h1_observed_information(self.data, mu, sigma) @ delta
        _, _, G = loglik(self.sums, mu[None], sigma[None])
        theta = phi[: self.q]
        steps = h * np.maximum(1.0, np.abs(theta))
        up = theta[None] + np.diag(steps)
        dn = theta[None] - np.diag(steps)
        Gq = np.repeat(G, self.q, axis=0)
        Sq = np.repeat(self.S_x[None], self.q, axis=0)
        d = (sigma_chain(self.mm.objective, up, Sq, Gq) - sigma_chain(self.mm.objective, dn, Sq, Gq)) / (2 * steps[:, None])
        H[: self.q, : self.q] += d
        H[: self.q, : self.q] = 0.5 * (H[: self.q, : self.q] + H[: self.q, : self.q].T)
        return H

    def scores(self, phi: np.ndarray) -> np.ndarray:
        """Casewise ∂ℓ_i/∂φ, shape (n, n_par)."""
        return np.vstack([block for _, block in self.score_blocks(phi)])

    def score_blocks(self, phi: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """``scores`` in row blocks (rows, ∂ℓ_i/∂φ of those rows): G_i and the chain rule's per-case matrices
        are p² numbers per case, so only one block of them is held (``robust.first_order_blocks``)."""
        theta, mu = self.split(phi)
        sigma = self.mm.implied(theta[None], self.S_x[None])[0]
        n, p = self.data.n, self.data.p
        size = max(1, _SCORE_BUDGET // (p * p))
        for start in range(0, n, size):
            rows = slice(start, min(n, start + size))
            gmu, G = casewise_scores(self.data, mu, sigma, rows)
            m = len(G)
            out = np.empty((m, self.n_par))
            out[:, : self.q] = sigma_chain(self.mm.objective, np.repeat(theta[None], m, axis=0),
                                           np.repeat(self.S_x[None], m, axis=0), G)
            out[:, self.q:] = gmu[:, self.free_mu]
            yield rows, out

    def intercepts(self, phi: np.ndarray) -> np.ndarray:
        """lavaan's intercepts of the free means for φ (R, n_par) — ``lavaan_intercepts``."""
        return lavaan_intercepts(self.mm, self.S_x, self.mu_fixed, self.free_mu, phi)

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


def lavaan_intercepts(mm: MatrixModel, S_x: np.ndarray, mu_fixed: np.ndarray, free_mu: np.ndarray,
                      phi: np.ndarray) -> np.ndarray:
    """lavaan's intercepts (R, len(free_mu)) for casewise parameters φ (R, q + len(free_mu)).

    The casewise model frees the *means* μ of the non-fixed.x variables; lavaan frees intercepts τ with
    μ = ν + ΛA(α_τ + α_x): ν for indicators, α for the phantom latent of an observed non-indicator, α_x the
    fixed.x means of the controls' phantoms (latent means 0).  The map is 1:1 for given θ, so the fit is
    the same; only the ``~1`` rows differ when a control predicts something (else τ = μ).  Solved per
    replicate: τ = M⁻¹(μ − ΛAα_x), M's column for variable j = e_j (indicator) or (ΛA)[:, phantom(j)]."""
    q = mm.n_free
    R = phi.shape[0]
    lam, beta, _, _ = mm.matrices(phi[:, :q], np.broadcast_to(S_x, (R,) + S_x.shape))
    LA = lam @ np.linalg.inv(np.eye(mm.m)[None] - beta)
    eta = {v: k for k, v in enumerate(mm.eta)}
    alpha_x = np.zeros(mm.m)
    for j, v in enumerate(mm.ov):
        if v in eta and j not in set(free_mu.tolist()):
            alpha_x[eta[v]] = mu_fixed[j]
    b = LA @ alpha_x
    M = np.zeros((R, mm.p, len(free_mu)))
    for k, j in enumerate(free_mu):
        v = mm.ov[j]
        if v in eta:
            M[:, :, k] = LA[:, :, eta[v]]
        else:
            M[:, j, k] = 1.0
    rhs = phi[:, q:] - b[:, free_mu]
    return np.linalg.solve(M[:, free_mu, :], rhs[..., None])[..., 0]


def sigma_chain(obj, theta: np.ndarray, S: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Batched ∂/∂θ of tr(G Σ(θ)) for G = ∂ℓ/∂Σ: the chain rule from (μ, Σ) to the LISREL parameters.

    The F_ML gradient's chain rule (``objective.BatchedObjective.chain``) with Ω = G.
    """
    R = theta.shape[0]
    lam, beta, psi, _ = obj.matrices(theta, S)
    A = structural_inverse(beta)
    LA = lam @ A
    return obj.chain(np.swapaxes(LA, 1, 2), G @ LA, psi @ np.swapaxes(A, 1, 2),
                     lambda: G.reshape(R, -1)[:, obj.pos[THETA]])


def maximise(model: CasewiseModel, start: np.ndarray, *, tol: float = 1e-9, max_iter: int = 100):
    """Maximise ℓ from ``start``: Newton steps with the observed Hessian (step-halving keeps ℓ rising);
    if Newton cannot make progress (Hessian not negative definite far from the optimum) BFGS takes over
    and Newton finishes.  Returns (φ̂, ℓ̂, Hessian at φ̂, converged, iterations); converged means
    max|∂ℓ/∂φ|/N < 1e-6, and in practice Newton ends near 1e-12 (lavaan's estimates to 1e-6).
    """
    n = model.data.n
    phi = np.asarray(start, dtype=float).copy()
    ll, g = model.value_gradient(phi)
    used_bfgs = False
    its = 0
    H = None
    for its in range(1, max_iter + 1):
        H = model.hessian(phi)
        if np.abs(g).max() / n < tol:
            break
        step = _newton_step(H, g)
        ok = False
        if step is not None:
            alpha = 1.0
            for _ in range(30):
                trial = phi - alpha * step
                ll_t, g_t = model.value_gradient(trial)
                if np.isfinite(ll_t) and ll_t >= ll - 1e-12 * abs(ll):
                    ok = True
                    break
                alpha /= 2
        if ok:
            phi, ll, g = trial, ll_t, g_t
            continue
        if used_bfgs:
            break
        phi, ll, g = _bfgs(model, phi)
        used_bfgs = True
    if H is None:
        H = model.hessian(phi)
    converged = bool(np.abs(g).max() / n < 1e-6)
    return phi, float(ll), H, converged, its


def _newton_step(H: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """Solve H·step = g when −H is positive definite (an ascent direction), else None."""
    try:
        np.linalg.cholesky(-H)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.solve(H, g)


def _bfgs(model: CasewiseModel, phi: np.ndarray):
    from scipy import optimize
    n = model.data.n

    def fun(x):
        ll, g = model.value_gradient(x)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(x)
        return -ll / n, -g / n

    res = optimize.minimize(fun, phi, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 5000})
    ll, g = model.value_gradient(res.x)
    return res.x, ll, g
