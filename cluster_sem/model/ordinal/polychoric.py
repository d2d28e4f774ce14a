"""Step 2 of Muthén (1984): polychoric correlations by two-step bivariate ML, all pairs at once.

With the thresholds fixed at their univariate values, each pair's correlation maximises
    ℓ(ρ) = Σ_cells n_cd · log π_cd(ρ),   π_cd = Φ₂(b_{c+1}, b'_{d+1}) − Φ₂(b_c, b'_{d+1}) − Φ₂(b_{c+1}, b'_d) + Φ₂(b_c, b'_d)
(lavaan ``lav_bvord_cor_twostep_fit``).  Φ₂ is evaluated once per corner of the bound grid, so one Newton
step costs (K+1)² bivariate normal evaluations per pair, vectorised over pairs *and* bootstrap resamples
(any leading axes).  A "unit" axis U sits between pair and table axes: U = 1 with the bivariate frequency
table (no covariates: every case of a cell has the same bounds), or U = n with a 1×1 "table" per case when
covariates shift each case's thresholds (conditional.x).  Newton uses the analytic ∂²π/∂ρ² (∂φ₂/∂ρ); bounds ±0.999 as lavaan's nlminb.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .bvn import BIG, Phi2, phi2

RHO_BOUND = 0.999


@dataclass(frozen=True)
class PairCells:
    """Cell-level quantities of every pair at the fitted correlations (axes ..., P, U, K, K)."""

    rho: np.ndarray
    prob: np.ndarray         # π_cd
    score_rho: np.ndarray    # ∂ log π_cd / ∂ρ
    # ∂ log π_cd / ∂b of the two bounds each cell has per item (every other bound's derivative is 0, so a
    # dense (..., K, K, K+1) array would be K/2 times larger: 9 GiB for 10 items of 300 categories):
    # first item: its lower bound b1[c] and upper bound b1[c+1]; second item: b2[d] and b2[d+1]
    score_lo1: np.ndarray
    score_hi1: np.ndarray
    score_lo2: np.ndarray
    score_hi2: np.ndarray


def pair_tables(codes: np.ndarray, ia: np.ndarray, ib: np.ndarray, k_max: int,
                weights: np.ndarray | None = None) -> np.ndarray:
    """Bivariate frequency tables (..., P, K, K); ``weights`` (R, n) gives one table set per resample.

    Pairs are counted in chunks of at most ``_TABLE_CELLS / n`` pairs: the cell codes of all pairs would
    be n × P integers (0.7 GB for 42 items at n = 100,000), times R for weighted resamples."""
    n, P, kk = codes.shape[0], len(ia), k_max * k_max
    R = None if weights is None else weights.shape[0]
    out = np.empty((P * kk,) if R is None else (R, P * kk))
    size = max(1, _TABLE_CELLS // max(n, 1))
    for start in range(0, P, size):
        pairs = slice(start, min(P, start + size))
        m = pairs.stop - start
        flat = (codes[:, ia[pairs]] * k_max + codes[:, ib[pairs]]) + (np.arange(m) * kk)[None, :]   # (n, m)
        cells = slice(start * kk, pairs.stop * kk)
        if R is None:
            out[cells] = np.bincount(flat.ravel(), minlength=m * kk)
        else:
            for r in range(R):                 # weight of case i, for each pair of the chunk
                out[r, cells] = np.bincount(flat.ravel(), weights=np.repeat(weights[r], m), minlength=m * kk)
    return out.reshape(P, 1, k_max, k_max) if R is None else out.reshape(R, P, 1, k_max, k_max)


_TABLE_CELLS = 1 << 22   # cases × pairs of cell codes counted at once


def _corners(b1: np.ndarray, b2: np.ndarray, rho: np.ndarray):
    """Φ₂ and φ₂ on the bound grid: (..., P, U, K+1, K+1)."""
    h = b1[..., :, None]
    k = b2[..., None, :]
    r = rho[..., None, None, None]
    return Phi2(h, k, r), phi2(h, k, r)


def _cells(grid: np.ndarray) -> np.ndarray:
    return grid[..., 1:, 1:] - grid[..., :-1, 1:] - grid[..., 1:, :-1] + grid[..., :-1, :-1]


def _dphi2_drho(h, k, r, dens):
    one = 1.0 - r * r
    hh, kk = np.clip(h, -BIG, BIG), np.clip(k, -BIG, BIG)
    q = hh * hh - 2 * r * hh * kk + kk * kk
    return dens * (r / one + hh * kk / one - r * q / one ** 2)


def fit_polychoric(b1: np.ndarray, b2: np.ndarray, tables: np.ndarray, *, start: np.ndarray | None = None,
                   tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Two-step ML correlations for tables (..., P, U, K, K) with bounds b1, b2 (..., P, U, K+1)."""
    rho = _start(b1, b2, tables) if start is None else np.asarray(start, dtype=float).copy()
    rho = np.array(rho, dtype=float)
    ll, g, h = _evaluate(b1, b2, tables, rho)
    active = np.ones(rho.shape, dtype=bool)
    for _ in range(max_iter):
        # only the pairs still moving are evaluated (most converge in 3–4 steps; the bivariate normal
        # CDF over every corner is the whole cost, e.g. of the bootstrap with covariates)
        whole = active.all()
        sub = (lambda a: a) if whole else (lambda a: a[active])
        B1, B2, T = sub(b1), sub(b2), sub(tables)
        r0, l0, g0, h0 = sub(rho), sub(ll), sub(g), sub(h)
        step = np.where(h0 < 0, -g0 / np.where(h0 < 0, h0, -1.0), 0.01 * np.sign(g0))
        new = np.clip(r0 + step, -RHO_BOUND, RHO_BOUND)
        ll_new, g_new, h_new = _evaluate(B1, B2, T, new)
        # halve steps that lower the log-likelihood (rare: ℓ is concave near the top); "lower" beyond the
        # rounding of a sum over n cases (an absolute 1e-12 is below it from n ≈ 5,000 on: every converged
        # pair then halved 30 times per Newton step, the time growing faster than n)
        slack = 1e-12 * np.maximum(1.0, np.abs(l0))
        for _ in range(30):
            worse = ll_new < l0 - slack
            if not worse.any():
                break
            new = np.where(worse, (r0 + new) / 2, new)
            ll_new, g_new, h_new = _evaluate(B1, B2, T, new)
        delta = np.abs(new - r0)
        if whole:
            rho, ll, g, h = new, ll_new, g_new, h_new
            active = delta > tol
        else:
            rho[active], ll[active], g[active], h[active] = new, ll_new, g_new, h_new
            active[active] = delta > tol
        if not active.any():
            break
    return rho


def _start(b1, b2, tables):
    """The correlation of the categories' normal scores (close to the ML value) — for tables (U = 1)."""
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
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.nan_to_num(c12 / np.sqrt(v1 * v2))
    return np.clip(r.mean(-1), -0.9, 0.9)


def _midpoints(b: np.ndarray) -> np.ndarray:
    lo = np.clip(b[..., :-1], -3.5, 3.5)
    hi = np.clip(b[..., 1:], -3.5, 3.5)
    return (lo + hi) / 2


def _evaluate(b1, b2, tables, rho):
    """(ℓ, ∂ℓ/∂ρ, ∂²ℓ/∂ρ²) per pair from one pass over the bound grid."""
    Phi, dens = _corners(b1, b2, rho)
    prob = np.where(tables > 0, np.maximum(_cells(Phi), 1e-300), 1.0)
    d1 = _cells(dens)
    d2 = _cells(_dphi2_drho(b1[..., :, None], b2[..., None, :], rho[..., None, None, None], dens))
    with np.errstate(over="ignore", invalid="ignore"):  # empty cells (weight 0) may hold prob ≈ 0
        s = np.where(tables > 0, d1 / prob, 0.0)
        ll = (tables * np.log(prob)).sum((-1, -2, -3))
        g = (tables * s).sum((-1, -2, -3))
        h = (tables * np.where(tables > 0, d2 / prob - s * s, 0.0)).sum((-1, -2, -3))
    return ll, g, h


def pair_cells(b1: np.ndarray, b2: np.ndarray, rho: np.ndarray) -> PairCells:
    """Probabilities and casewise scores of every cell (lavaan ``lav_bvord_cor_sc``)."""
    Phi, dens = _corners(b1, b2, rho)
    prob = _cells(Phi)
    safe = np.where(prob > 1e-300, prob, 1.0)
    score_rho = _cells(dens) / safe
    r = np.sqrt(1.0 - rho * rho)[..., None, None, None]
    rr = rho[..., None, None, None]
    c1, c2 = np.clip(b1, -BIG, BIG), np.clip(b2, -BIG, BIG)
    g1 = _dens1(b1)[..., :, None] * ndtr((c2[..., None, :] - rr * c1[..., :, None]) / r)   # ∂Φ₂(b1_i, b2_j)/∂b1_i
    g2 = _dens1(b2)[..., None, :] * ndtr((c1[..., :, None] - rr * c2[..., None, :]) / r)   # ∂Φ₂(b1_i, b2_j)/∂b2_j
    dg1 = g1[..., :, 1:] - g1[..., :, :-1]                              # (..., K+1, K): row i, cell column d
    dg2 = g2[..., 1:, :] - g2[..., :-1, :]                              # (..., K, K+1)
    return PairCells(rho, prob, score_rho, -dg1[..., :-1, :] / safe, dg1[..., 1:, :] / safe,
                     -dg2[..., :, :-1] / safe, dg2[..., :, 1:] / safe)


def _dens1(b: np.ndarray) -> np.ndarray:
    return np.where(np.abs(b) >= BIG, 0.0, np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi))
