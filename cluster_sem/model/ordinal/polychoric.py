"""Step 2 of Muthén (1984): polychoric correlations by two-step bivariate ML, all pairs at once.

With the thresholds fixed at their univariate values, each pair's correlation maximises
    ℓ(ρ) = Σ_cells n_cd · log π_cd(ρ),   π_cd = Φ₂(b_{c+1}, b'_{d+1}) − Φ₂(b_c, b'_{d+1}) − Φ₂(b_{c+1}, b'_d) + Φ₂(b_c, b'_d)
(lavaan ``lav_bvord_cor_twostep_fit``).  Φ₂ is evaluated once per corner of the bound grid, so one Newton
step costs (K+1)² bivariate normal evaluations per pair, vectorised over pairs *and* bootstrap resamples
(any leading axes).  Newton uses the analytic ∂²π/∂ρ² (∂φ₂/∂ρ); bounds ±0.999 as lavaan's nlminb.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .bvn import BIG, Phi2, phi2

RHO_BOUND = 0.999


@dataclass(frozen=True)
class PairCells:
    """Cell-level quantities of every pair at the fitted correlations (leading axes ..., P, K, K)."""

    rho: np.ndarray
    prob: np.ndarray         # π_cd
    score_rho: np.ndarray    # ∂ log π_cd / ∂ρ
    score_th1: np.ndarray    # ∂ log π_cd / ∂τ of the first item, (..., P, K, K, K−1)
    score_th2: np.ndarray    # ∂ log π_cd / ∂τ of the second item


def pair_tables(codes: np.ndarray, ia: np.ndarray, ib: np.ndarray, k_max: int,
                weights: np.ndarray | None = None) -> np.ndarray:
    """Bivariate frequency tables (..., P, K, K); ``weights`` (R, n) gives one table set per resample."""
    cells = codes[:, ia] * k_max + codes[:, ib]                         # (n, P)
    P = len(ia)
    flat = cells + (np.arange(P) * k_max * k_max)[None, :]
    if weights is None:
        tab = np.bincount(flat.ravel(), minlength=P * k_max * k_max).astype(float)
        return tab.reshape(P, k_max, k_max)
    R = weights.shape[0]
    out = np.empty((R, P * k_max * k_max))
    w_rep = np.repeat(weights, P, axis=1).reshape(R, -1)               # weight of case i, for each pair
    for r in range(R):
        out[r] = np.bincount(flat.ravel(), weights=w_rep[r], minlength=P * k_max * k_max)
    return out.reshape(R, P, k_max, k_max)


def _corners(b1: np.ndarray, b2: np.ndarray, rho: np.ndarray):
    """Φ₂ and φ₂ on the bound grid: (..., P, K+1, K+1)."""
    h = b1[..., :, None]
    k = b2[..., None, :]
    r = rho[..., None, None]
    return Phi2(h, k, r), phi2(h, k, r)


def _cells(grid: np.ndarray) -> np.ndarray:
    return grid[..., 1:, 1:] - grid[..., :-1, 1:] - grid[..., 1:, :-1] + grid[..., :-1, :-1]


def _dphi2_drho(h, k, r, dens):
    one = 1.0 - r * r
    hh, kk = np.clip(h, -BIG, BIG), np.clip(k, -BIG, BIG)
    q = hh * hh - 2 * r * hh * kk + kk * kk
    return dens * (r / one + hh * kk / one - r * q / one ** 2)


def fit_polychoric(b1: np.ndarray, b2: np.ndarray, tables: np.ndarray, *, tol: float = 1e-10,
                   max_iter: int = 100) -> np.ndarray:
    """Two-step ML correlations for tables (..., P, K, K) with bounds b1, b2 (..., P, K+1)."""
    n = tables.sum(axis=(-1, -2))
    # start: the correlation of the normal scores of the categories (close to the ML value)
    mid1 = _midpoints(b1)
    mid2 = _midpoints(b2)
    p1 = tables.sum(-1) / n[..., None]
    p2 = tables.sum(-2) / n[..., None]
    m1, m2 = (p1 * mid1).sum(-1), (p2 * mid2).sum(-1)
    v1 = (p1 * (mid1 - m1[..., None]) ** 2).sum(-1)
    v2 = (p2 * (mid2 - m2[..., None]) ** 2).sum(-1)
    c12 = (tables / n[..., None, None] * (mid1 - m1[..., None])[..., :, None]
           * (mid2 - m2[..., None])[..., None, :]).sum((-1, -2))
    rho = np.clip(c12 / np.sqrt(v1 * v2), -0.9, 0.9)
    active = np.ones(rho.shape, dtype=bool)
    for _ in range(max_iter):
        g, h = _grad_hess(b1, b2, tables, rho)
        step = np.where(h < 0, -g / np.where(h < 0, h, -1.0), 0.01 * np.sign(g))
        new = np.clip(rho + step, -RHO_BOUND, RHO_BOUND)
        # keep only steps that do not lower the log-likelihood (halve otherwise)
        ll_old = _loglik(b1, b2, tables, rho)
        for _ in range(30):
            worse = _loglik(b1, b2, tables, new) < ll_old - 1e-12
            if not worse.any():
                break
            new = np.where(worse, (rho + new) / 2, new)
        delta = np.abs(new - rho)
        rho = np.where(active, new, rho)
        active = active & (delta > tol)
        if not active.any():
            break
    return rho


def _midpoints(b: np.ndarray) -> np.ndarray:
    lo = np.clip(b[..., :-1], -3.5, 3.5)
    hi = np.clip(b[..., 1:], -3.5, 3.5)
    return (lo + hi) / 2


def _loglik(b1, b2, tables, rho):
    Phi, _ = _corners(b1, b2, rho)
    prob = _cells(Phi)
    return (tables * np.log(np.where(tables > 0, np.maximum(prob, 1e-300), 1.0))).sum((-1, -2))


def _grad_hess(b1, b2, tables, rho):
    Phi, dens = _corners(b1, b2, rho)
    prob = np.where(tables > 0, np.maximum(_cells(Phi), 1e-300), 1.0)
    d1 = _cells(dens)
    d2 = _cells(_dphi2_drho(b1[..., :, None], b2[..., None, :], rho[..., None, None], dens))
    s = d1 / prob
    g = (tables * s).sum((-1, -2))
    h = (tables * (d2 / prob - s * s)).sum((-1, -2))
    return g, h


def pair_cells(b1: np.ndarray, b2: np.ndarray, rho: np.ndarray) -> PairCells:
    """Probabilities and casewise scores of every cell (lavaan ``lav_bvord_cor_sc``)."""
    Phi, dens = _corners(b1, b2, rho)
    prob = _cells(Phi)
    safe = np.where(prob > 1e-300, prob, 1.0)
    score_rho = _cells(dens) / safe
    r = np.sqrt(1.0 - rho * rho)[..., None, None]
    rr = rho[..., None, None]
    g1 = _dens1(b1)[..., :, None] * ndtr((np.clip(b2, -BIG, BIG)[..., None, :] - rr * np.clip(b1, -BIG, BIG)[..., :, None]) / r)
    g2 = _dens1(b2)[..., None, :] * ndtr((np.clip(b1, -BIG, BIG)[..., :, None] - rr * np.clip(b2, -BIG, BIG)[..., None, :]) / r)
    # ∂π_cd/∂b1_i: the column difference of g1 at row i (row i = c+1 upper, c lower)
    dg1 = g1[..., :, 1:] - g1[..., :, :-1]                              # (..., P, K+1, K)
    dg2 = g2[..., 1:, :] - g2[..., :-1, :]                              # (..., P, K, K+1)
    K = prob.shape[-1]
    th1 = np.zeros(prob.shape + (K - 1,))
    th2 = np.zeros(prob.shape + (K - 1,))
    for t in range(1, K):
        th1[..., t - 1, :, t - 1] = dg1[..., t, :] / safe[..., t - 1, :]
        th1[..., t, :, t - 1] = -dg1[..., t, :] / safe[..., t, :]
        th2[..., :, t - 1, t - 1] = dg2[..., :, t] / safe[..., :, t - 1]
        th2[..., :, t, t - 1] = -dg2[..., :, t] / safe[..., :, t]
    return PairCells(rho, prob, score_rho, th1, th2)


def _dens1(b: np.ndarray) -> np.ndarray:
    return np.where(np.abs(b) >= BIG, 0.0, np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi))
