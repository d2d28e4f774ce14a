"""The FIML objective for G groups — lavaan ``missing = "ml"`` as one more pluggable objective.

    F(θ) = (2/N) Σ_g [ ℓ_h1,g − ℓ_g(μ_g(θ), Σ_g(θ)) ],     so χ² = N·F = Σ_g 2(ℓ_h1,g − ℓ_g)

with ℓ_g the casewise (pattern-wise) normal log-likelihood of group g's rows (``fiml.loglik``) and ℓ_h1,g
the saturated log-likelihood at the EM moments.  F is on the scale of the multigroup F_ML (for complete
data it *is* F_ML: ℓ_h1 − ℓ = (n/2)·F_ML,g), so the estimator, the vcov stage and the statistic stage
(``statistic.standard_test``: χ² = N·F) are shared with ML unchanged.

Gradient: the casewise objective returns ∂ℓ/∂μ and G = ∂ℓ/∂Σ per group; the covariance part goes through
``casewise.sigma_chain`` and the mean part through ``MLObjective.mean_gradient`` (ν, α, Λ, B).
Metric (``expected_hessian``): (2/N) Σ_g Δ_g' I_g Δ_g with I_g the pattern-wise expected information
(``fiml.h1_expected_information``) at the implied moments and Δ_g = ∂(μ_g, vech Σ_g)/∂θ' — lavaan's
expected information for missing = "ml".  The reported SEs use the observed information (``vcov_observed``),
lavaan's default for FIML.

A batch (``FimlBatch``) holds pattern sums of R replicates per group, so the bootstrap passes case weights
and refits all resamples at once with the same objective.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .casewise import sigma_chain
from .fiml import PatternSums, h1_expected_information, loglik, pattern_sums, vech_indices
from .group_model import GroupModel
from .objective_ml import MLObjective
from .sample_stats_missing import MissingSampleStats


@dataclass(frozen=True)
class FimlBatch:
    """What the FIML objective reads, for R replicates (R = 1: the data themselves)."""

    sums: tuple[PatternSums, ...]   # per group; data centred at ``center[g]``
    center: np.ndarray              # (G, p)
    cov: np.ndarray                 # (G, R, p, p) EM covariances: fixed.x entries of Ψ
    mean: np.ndarray                # (G, R, p) EM means: exogenous (fixed.x) means
    h1_loglik: np.ndarray           # (G, R) saturated log-likelihood (0 where only θ̂ matters)
    ntotal: float

    @classmethod
    def from_stats(cls, stats: MissingSampleStats, weights: list[np.ndarray] | None = None) -> "FimlBatch":
        """The data (``weights`` None) or R resamples given as case weights, one (R, n_g) array per group.

        Resamples carry no h1 log-likelihood (it is a constant for their estimates) and keep the
        full-sample EM moments for the fixed.x block, as the single-group FIML bootstrap does."""
        R = 1 if weights is None else weights[0].shape[0]
        sums = tuple(pattern_sums(pat, None if weights is None else weights[g], center=stats.mean[g])
                     for g, pat in enumerate(stats.patterns))
        h1 = stats.h1_loglik[:, None] if weights is None else np.zeros((stats.n_groups, R))
        cov = np.repeat(stats.cov[:, None], R, axis=1)
        mean = np.repeat(stats.mean[:, None], R, axis=1)
        return cls(sums, stats.mean.copy(), cov, mean, h1, float(stats.ntotal))


    def take(self, rows: np.ndarray) -> "FimlBatch":
        """The replicates ``rows`` of this batch (the batched optimiser drops converged ones)."""
        sums = tuple(s.take(rows) for s in self.sums)
        return FimlBatch(sums, self.center, self.cov[:, rows], self.mean[:, rows], self.h1_loglik[:, rows],
                         self.ntotal)


class FimlObjective(MLObjective):
    name = "FIML"

    def __init__(self, model: GroupModel):
        super().__init__(model)
        if any(m is None for m in model.means):
            raise ValueError("FIML needs a mean structure (meanstructure=True)")

    def batch(self, stats: MissingSampleStats) -> FimlBatch:
        return FimlBatch.from_stats(stats)

    def __call__(self, theta: np.ndarray, batch: FimlBatch) -> tuple[np.ndarray, np.ndarray]:
        R = theta.shape[0]
        ll_total, g_total = np.zeros(R), np.zeros((R, self.q))
        bad = np.zeros(R, dtype=bool)
        p = len(self.model.ov)
        for g, part in enumerate(self.parts):
            # a batch of one (the data) serves any number of θ: its sums broadcast in ``fiml.loglik``
            S = np.broadcast_to(batch.cov[g], (R, p, p))
            lam, beta, psi, th = part.matrices(theta, S)
            nu, alpha = self.model.means[g].vectors(theta, np.broadcast_to(batch.mean[g], (R, p)))
            A = np.linalg.inv(self.eye_m[None] - beta)
            LA = lam @ A
            a_alpha = np.einsum("rij,rj->ri", A, alpha)
            mu = nu + np.einsum("rij,rj->ri", lam, a_alpha)
            sigma = LA @ psi @ np.swapaxes(LA, 1, 2) + th
            ll, gmu, G = loglik(batch.sums[g], mu - batch.center[g], sigma)
            ok = np.isfinite(ll)
            bad |= ~ok
            G = np.where(ok[:, None, None], G, 0.0)
            gmu = np.where(ok[:, None], gmu, 0.0)
            ll_total += np.where(ok, ll - batch.h1_loglik[g], 0.0)
            g_total += sigma_chain(part, theta, S, G) + self.mean_gradient(g, part, gmu, LA, a_alpha)
        f = -2.0 / batch.ntotal * ll_total
        grad = -2.0 / batch.ntotal * g_total
        f[bad] = np.inf
        grad[bad] = np.nan
        return f, grad

    def deltas(self, theta: np.ndarray, stats) -> list[np.ndarray]:
        """Δ_g = ∂(μ_g, vech Σ_g)/∂θ' per group (p + p*, q), analytic (lavaan's Delta with means)."""
        p = len(self.model.ov)
        r, c = vech_indices(p)
        out = []
        for g, mm in enumerate(self.model.blocks):
            J = mm.jacobian(theta, stats.cov[g])
            out.append(np.vstack([self.model.mean_jacobian(g, theta, stats.cov[g], stats.mean[g]), J[r, c, :]]))
        return out

    def expected_hessian(self, theta: np.ndarray, stats: MissingSampleStats) -> np.ndarray:
        sigma, _ = self.model.implied(theta, stats.cov, stats.mean)
        H = np.zeros((self.q, self.q))
        for g, delta in enumerate(self.deltas(theta, stats)):
            info = stats.n[g] * h1_expected_information(stats.patterns[g], sigma[g])
            H += delta.T @ info @ delta
        return 2.0 / stats.ntotal * H
