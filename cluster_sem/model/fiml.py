"""The casewise (FIML) normal log-likelihood as a function of (μ, Σ), grouped by missing-data pattern.

    ℓ(μ, Σ) = Σ_k −½ [ n_k (p_k log 2π + log|Σ_k|) + tr(Σ_k⁻¹ T_k) ],   T_k = Σ_{i∈k} w_i (x_i − μ_k)(x_i − μ_k)'

with Σ_k = Σ[o_k, o_k], μ_k = μ[o_k] for the items o_k answered in pattern k.  Only pattern-wise weighted
sums enter (n_k = Σ w_i, s_k = Σ w_i x_i, C_k = Σ w_i x_i x_i'), so a bootstrap resample — integer case
weights w_i — costs one (R × n)·(n × p_k²) product per pattern, and R resamples share every pattern.

The objective knows nothing about how μ(θ) and Σ(θ) are built: it returns ∂ℓ/∂μ and G = ∂ℓ/∂Σ (a symmetric
matrix with dℓ = tr(G dΣ)); ``chain`` in the model layer maps them to the parameters.
    ∂ℓ/∂μ_k = Σ_k⁻¹ (s_k − n_k μ_k),     G_k = ½ (Σ_k⁻¹ T_k Σ_k⁻¹ − n_k Σ_k⁻¹),   embedded at (o_k, o_k).
Casewise scores (the MLR "meat") are the same formulas with one case per pattern.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .missing import LOG2PI, Patterns


@dataclass(frozen=True)
class PatternSums:
    """Weighted sufficient statistics of every pattern for R replicates (R = 1 for the data themselves)."""

    index: tuple[np.ndarray, ...]   # observed item indices per pattern
    n: tuple[np.ndarray, ...]       # (R,)
    s: tuple[np.ndarray, ...]       # (R, p_k)
    C: tuple[np.ndarray, ...]       # (R, p_k, p_k)
    p: int

    @property
    def R(self) -> int:
        return self.n[0].shape[0]


def pattern_sums(data: Patterns, weights: np.ndarray | None = None, center: np.ndarray | None = None) -> PatternSums:
    """Sums per pattern; ``weights`` (R, n) are case multiplicities (None: every case once).

    ``center`` (p,) is subtracted from the data first (numerically kinder for cross-products); callers must
    then pass μ − center to ``loglik``.
    """
    x = data.x if center is None else data.x - center
    R = 1 if weights is None else weights.shape[0]
    idx, ns, ss, Cs = [], [], [], []
    for pat in data.patterns:
        o = pat.index
        xo = x[np.ix_(pat.rows, o)]
        if weights is None:
            w = np.ones((1, len(pat.rows)))
        else:
            w = weights[:, pat.rows]
        outer = (xo[:, :, None] * xo[:, None, :]).reshape(len(pat.rows), -1)
        idx.append(o)
        ns.append(w.sum(axis=1))
        ss.append(w @ xo)
        Cs.append((w @ outer).reshape(R, len(o), len(o)))
    return PatternSums(tuple(idx), tuple(ns), tuple(ss), tuple(Cs), data.p)


def loglik(sums: PatternSums, mu: np.ndarray, sigma: np.ndarray, *, gradient: bool = True):
    """(ℓ[R], ∂ℓ/∂μ [R, p], G [R, p, p]); ℓ = −inf where some Σ_k is not positive definite."""
    R, p = mu.shape[0], sums.p
    ll = np.zeros(R)
    gmu = np.zeros((R, p)) if gradient else None
    G = np.zeros((R, p, p)) if gradient else None
    bad = np.zeros(R, dtype=bool)
    for o, n, s, C in zip(sums.index, sums.n, sums.s, sums.C):
        sk = sigma[:, o][:, :, o]
        mk = mu[:, o]
        try:
            chol = np.linalg.cholesky(sk)
        except np.linalg.LinAlgError:
            ok = np.array([_pd(a) for a in sk])
            bad |= ~ok
            sk = np.where(ok[:, None, None], sk, np.eye(len(o)))
            chol = np.linalg.cholesky(sk)
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        inv = np.linalg.inv(sk)
        sm = s[:, :, None] * mk[:, None, :]
        T = C - sm - np.swapaxes(sm, 1, 2) + n[:, None, None] * mk[:, :, None] * mk[:, None, :]
        IT = inv @ T
        ll += -0.5 * (n * (len(o) * LOG2PI + logdet) + np.trace(IT, axis1=1, axis2=2))
        if gradient:
            gmu[:, o] += np.einsum("rij,rj->ri", inv, s - n[:, None] * mk)
            G[:, o[:, None], o[None, :]] += 0.5 * (IT @ inv - n[:, None, None] * inv)
    if bad.any():
        ll[bad] = -np.inf
        if gradient:
            gmu[bad] = np.nan
            G[bad] = np.nan
    return ll, gmu, G


def casewise_scores(data: Patterns, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per case ∂ℓ_i/∂μ (n, p) and G_i = ∂ℓ_i/∂Σ (n, p, p) at one (μ, Σ) — the ingredients of the MLR meat."""
    n, p = data.x.shape
    gmu = np.zeros((n, p))
    G = np.zeros((n, p, p))
    for pat in data.patterns:
        o = pat.index
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        d = data.x[np.ix_(pat.rows, o)] - mu[o]
        z = d @ inv                                            # Σ_k⁻¹ d_i, one row per case
        gmu[np.ix_(pat.rows, o)] = z
        block = 0.5 * (z[:, :, None] * z[:, None, :] - inv[None])
        G[pat.rows[:, None, None], o[None, :, None], o[None, None, :]] = block
    return gmu, G


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row/column of vech(Σ) (lower triangle, column-major as lavaan's ``lav_matrix_vech``)."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows), np.array(cols)


def h1_scores(data: Patterns, mu: np.ndarray, sigma: np.ndarray, *, means: bool = True) -> np.ndarray:
    """Casewise scores w.r.t. the saturated parameters (μ, vech Σ): (n, p + p*) or (n, p*) without means."""
    gmu, G = casewise_scores(data, mu, sigma)
    r, c = vech_indices(data.p)
    gs = G[:, r, c] * np.where(r == c, 1.0, 2.0)
    return np.hstack([gmu, gs]) if means else gs


def h1_observed_information(data: Patterns, mu: np.ndarray, sigma: np.ndarray, *, means: bool = True,
                            h: float = 1e-6) -> np.ndarray:
    """−(1/N) ∂²ℓ/∂(μ, vech Σ)² by central differences of the analytic gradient (lavaan: h1 "observed").

    For complete data at the saturated ML estimates this equals the expected information.
    """
    sums = pattern_sums(data)
    p = data.p
    r, c = vech_indices(p)
    base = np.concatenate([mu, sigma[r, c]]) if means else sigma[r, c]

    def grad(v):
        m = v[:p] if means else mu
        sv = v[p:] if means else v
        S = np.zeros((p, p))
        S[r, c] = sv
        S[c, r] = sv
        _, gmu, G = loglik(sums, m[None], S[None])
        gs = G[0, r, c] * np.where(r == c, 1.0, 2.0)
        return np.concatenate([gmu[0], gs]) if means else gs

    dim = len(base)
    H = np.zeros((dim, dim))
    for j in range(dim):
        step = h * max(1.0, abs(base[j]))
        up, dn = base.copy(), base.copy()
        up[j] += step
        dn[j] -= step
        H[:, j] = (grad(up) - grad(dn)) / (2 * step)
    H = 0.5 * (H + H.T)
    return -H / data.n


def _pd(a: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(a)
        return True
    except np.linalg.LinAlgError:
        return False
