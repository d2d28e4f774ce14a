"""The ML objective for G groups with a mean structure — one pluggable objective (see docs/architecture.md).

    F(θ) = Σ_g (n_g/N) · [ log|Σ_g| + tr(S_g Σ_g⁻¹) − log|S_g| − p + (ȳ_g − μ_g)' Σ_g⁻¹ (ȳ_g − μ_g) ]

so that χ² = N·F (lavaan: fmin = F/2, χ² = 2N·fmin).  Without a mean structure the last term is 0
(μ_g = ȳ_g) and for one group this is exactly the single-group F_ML.

The covariance part and its gradient come from the batched single-group ``BatchedObjective`` of every
group with S replaced by S + dd' (d = ȳ − μ) in the trace term — that adds the mean term and its
derivative through Σ; the derivative through μ is added here:
    ∂/∂μ = −2Σ⁻¹d =: v,   ∂F/∂ν = v,  ∂F/∂α = (ΛA)'v,  ∂F/∂Λ = v (Aα)',  ∂F/∂B = (ΛA)'v (Aα)'.
Its expected Hessian is Σ_g (n_g/N) [tr(Σ⁻¹Δ_kΣ⁻¹Δ_l) + 2 Δμ_k'Σ⁻¹Δμ_l].

Protocol of an objective (what ``estimate`` and the bootstrap call):
* ``__call__(theta[R, q], stats: BatchStats) -> (F[R], ∂F/∂θ[R, q])`` (F = +inf where Σ is not PD);
* ``expected_hessian(theta[q], stats: SampleStats) -> (q, q)`` E[∂²F/∂θ∂θ'] (the metric of Fisher scoring
  and, via ``vcov.py``, the expected information: I₁ = H/2 per case).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .group_model import ALPHA, NU, GroupModel
from .matrices import BETA, LAMBDA, structural_inverse
from .objective import BatchedObjective
from .sample_stats import SampleStats


@dataclass(frozen=True)
class BatchStats:
    """Statistics of R replicates per group (the bootstrap passes resamples; a fit passes R = 1)."""

    cov: np.ndarray       # (G, R, p, p)
    mean: np.ndarray      # (G, R, p)
    logdet: np.ndarray    # (G, R)
    weights: np.ndarray   # (G,) n_g / N

    @classmethod
    def single(cls, stats: SampleStats) -> "BatchStats":
        return cls(stats.cov[:, None], stats.mean[:, None], stats.logdet[:, None], stats.weights)


def single_batch(objective, stats: SampleStats):
    """The objective's batch (R = 1) for the data themselves: ``objective.batch(stats)`` when the objective
    reads other statistics than moments (FIML: pattern sums), else ``BatchStats.single``."""
    make = getattr(objective, "batch", None)
    return make(stats) if make is not None else BatchStats.single(stats)


class MLObjective:
    name = "ML"

    def __init__(self, model: GroupModel):
        self.model = model
        self.parts = [BatchedObjective(mm) for mm in model.blocks]
        self.q = model.n_free
        self.eye_m = np.eye(model.blocks[0].m)
        self.maps = []
        for mean in model.means:
            if mean is None:
                self.maps.append(None)
                continue
            maps = {}
            for vid in (NU, ALPHA):
                sel = mean.f_vec == vid
                gmap = np.zeros((int(sel.sum()), self.q))
                gmap[np.arange(int(sel.sum())), mean.f_idx[sel]] = 1.0
                maps[vid] = (mean.f_pos[sel], gmap)
            self.maps.append(maps)

    def __call__(self, theta: np.ndarray, stats: BatchStats) -> tuple[np.ndarray, np.ndarray]:
        R = theta.shape[0]
        f_total, g_total = np.zeros(R), np.zeros((R, self.q))
        for g, part in enumerate(self.parts):
            S, ybar = stats.cov[g], stats.mean[g]
            mean = self.model.means[g]
            if mean is None:
                f, grad = part(theta, S, stats.logdet[g])
            else:
                f, grad = self._with_means(g, part, theta, S, ybar, stats.logdet[g])
            f_total += stats.weights[g] * f
            g_total += stats.weights[g] * grad
        return f_total, g_total

    def _with_means(self, g, part, theta, S, ybar, logdet):
        lam, beta, psi, th = part.matrices(theta, S)
        nu, alpha = self.model.means[g].vectors(theta, ybar)
        A = structural_inverse(beta)
        LA = lam @ A
        a_alpha = np.einsum("rij,rj->ri", A, alpha)
        mu = nu + np.einsum("rij,rj->ri", lam, a_alpha)      # ν + Λ(Aα)
        d = ybar - mu
        f, grad = part(theta, S, logdet, S_fit=S + d[:, :, None] * d[:, None, :])
        ok = np.isfinite(f)
        if not ok.any():
            return f, grad
        sigma = LA @ psi @ np.swapaxes(LA, 1, 2) + th
        sigma[~ok] = np.eye(sigma.shape[1])
        v = -2.0 * np.linalg.solve(sigma, d[:, :, None])[:, :, 0]     # ∂F/∂μ
        grad = np.where(ok[:, None], grad + self.mean_gradient(g, part, v, LA, a_alpha), grad)
        return f, grad

    def mean_gradient(self, g: int, part, v: np.ndarray, LA: np.ndarray, a_alpha: np.ndarray) -> np.ndarray:
        """∂/∂θ of v'μ_g(θ) for a batch of v = ∂F/∂μ (R, p), μ = ν + ΛAα: through ν, α, Λ and B.

        Shared by every objective with a mean structure (ML here, FIML in ``objective_fiml``)."""
        extra = np.zeros((len(v), self.q))
        pos, gmap = self.maps[g][NU]
        if len(pos):
            extra += v[:, pos] @ gmap
        lav = np.einsum("rji,rj->ri", LA, v)                           # (ΛA)'v
        pos, gmap = self.maps[g][ALPHA]
        if len(pos):
            extra += lav[:, pos] @ gmap
        if len(part.pos[LAMBDA]):
            extra += (v[:, :, None] * a_alpha[:, None, :]).reshape(len(v), -1)[:, part.pos[LAMBDA]] @ part.gmap[LAMBDA]
        if len(part.pos[BETA]):
            extra += (lav[:, :, None] * a_alpha[:, None, :]).reshape(len(v), -1)[:, part.pos[BETA]] @ part.gmap[BETA]
        return extra

    def expected_hessian(self, theta: np.ndarray, stats: SampleStats) -> np.ndarray:
        H = np.zeros((self.q, self.q))
        for g, mm in enumerate(self.model.blocks):
            H_g = mm.expected_hessian(theta, stats.cov[g])
            if self.model.means[g] is not None:
                sigma = mm.implied(theta[None], stats.cov[g][None])[0]
                dmu = self.model.mean_jacobian(g, theta, stats.cov[g], stats.mean[g])
                H_g = H_g + 2.0 * dmu.T @ np.linalg.solve(sigma, dmu)
            H += stats.weights[g] * H_g
        return H
