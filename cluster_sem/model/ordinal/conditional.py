"""Muthén (1984) with exogenous covariates (lavaan ``conditional.x = TRUE``): controls stay continuous.

With covariates x, each item gets an ordered probit P(y ≤ k | x) = Φ(τ_k − x'β) (step 1, lavaan
``lav_uvord_fit``), and each pair a *residual* polychoric correlation given x, with every case's bounds
shifted by its own x'β (step 2).  The statistics are (τ, β, ρ); their Γ is the same sandwich as without
covariates, but scores now differ case by case, so the bivariate likelihood runs over cases (a 1×1
"table" per case on the unit axis of ``polychoric``).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import ndtr

from .bvn import BIG
from ..robust import cluster_meat
from .categories import Coding
from .polychoric import fit_polychoric, pair_cells
from .univariate import bounds_from_counts


def _dens(z):
    return np.where(np.abs(z) >= BIG, 0.0, np.exp(-0.5 * np.clip(z, -BIG, BIG) ** 2) / np.sqrt(2 * np.pi))


def _case_bounds(b: np.ndarray, codes: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) bound of every case's category, shifted by −x'β (infinite bounds stay infinite)."""
    lo, hi = b[codes], b[codes + 1]
    lo = np.where(np.abs(lo) >= BIG, lo, lo - eta)
    hi = np.where(np.abs(hi) >= BIG, hi, hi - eta)
    return lo, hi


def probit(codes: np.ndarray, n_cat: int, X: np.ndarray, start_bounds: np.ndarray):
    """Ordered probit ML: (thresholds, slopes) and casewise scores (n × (K−1 + nx))."""
    k1, nx = n_cat - 1, X.shape[1]

    def unpack(par):
        b = np.full(len(start_bounds), BIG)
        b[0] = -BIG
        b[1:n_cat] = par[:k1]
        return b, par[k1:]

    def scores(par):
        b, beta = unpack(par)
        lo, hi = _case_bounds(b, codes, X @ beta)
        prob = np.maximum(ndtr(np.clip(hi, -BIG, BIG)) - ndtr(np.clip(lo, -BIG, BIG)), 1e-300)
        return _probit_scores(codes, n_cat, X, b, beta), np.log(prob)

    def negll(par):
        sc, ll = scores(par)
        return -ll.sum(), -sc.sum(0)

    start = np.concatenate([start_bounds[1:n_cat], np.zeros(nx)])
    res = optimize.minimize(negll, start, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 2000})
    par = res.x
    for _ in range(5):  # Newton polish with the outer-product information (the gradient is exact)
        sc, _ = scores(par)
        g = sc.sum(0)
        par = par + np.linalg.solve(sc.T @ sc, g)
    sc, _ = scores(par)
    b, beta = unpack(par)
    return b, beta, sc


def probit_newton(codes: np.ndarray, n_cat: int, X: np.ndarray, w: np.ndarray, b0: np.ndarray, beta0: np.ndarray,
                  *, tol: float = 1e-9, max_iter: int = 50):
    """Weighted ordered probit by Newton with the outer-product information, warm-started (bootstrap)."""
    k1, nx = n_cat - 1, X.shape[1]
    par = np.concatenate([b0[1:n_cat], beta0])
    b = b0.copy()
    for _ in range(max_iter):
        b[1:n_cat] = par[:k1]
        sc = _probit_scores(codes, n_cat, X, b, par[k1:])
        g = w @ sc
        info = (sc * w[:, None]).T @ sc
        try:
            step = np.linalg.solve(info, g)
        except np.linalg.LinAlgError:
            return None
        par = par + step
        if np.abs(step).max() < tol:
            break
    b[1:n_cat] = par[:k1]
    if np.any(np.diff(b[:n_cat + 1]) <= 0):
        return None
    return b, par[k1:], _probit_scores(codes, n_cat, X, b, par[k1:])


def _probit_scores(codes, n_cat, X, b, beta):
    k1 = n_cat - 1
    lo, hi = _case_bounds(b, codes, X @ beta)
    prob = np.maximum(ndtr(np.clip(hi, -BIG, BIG)) - ndtr(np.clip(lo, -BIG, BIG)), 1e-300)
    dlo, dhi = _dens(lo) / prob, _dens(hi) / prob
    return _pair_uni_scores(codes, n_cat, X, -dlo, dhi)


def conditional_stats(coding: Coding, X: np.ndarray, start_rho: np.ndarray, ia: np.ndarray, ib: np.ndarray,
                      *, weights: np.ndarray | None = None, start=None, diagonal_only: bool = False,
                      newton_steps: int = 100, cluster: np.ndarray | None = None):
    """(bounds, thresholds, slopes (p × nx), residual correlations, Γ or diag Γ) with covariates X (n × nx).

    ``cluster`` (0..G−1 per case, no resample): a sixth element, the cluster-robust Γ (``acov.gamma_full(cluster=)``).

    ``weights`` are case multiplicities (a bootstrap resample); ``start`` = (bounds, slopes) warm-starts
    the probits by Newton instead of the cold BFGS fit; ``newton_steps`` caps the polychoric Newton steps
    from ``start_rho`` (the bootstrap allows 8; the loop stops once every pair moves < 1e-10 — on an
    HS1939 resample the error was 3e-2, 4e-3, 8e-5, 3e-8, 3e-11 after 1…5 steps).  Returns None if a resample cannot be fitted.
    """
    if weights is not None:  # a resample: only the cases drawn at least once carry likelihood terms
        keep = np.asarray(weights) > 0
        coding = Coding(coding.items, coding.levels, coding.codes[keep])
        X = X[keep]
        weights = np.asarray(weights, dtype=float)[keep]
    n, p = coding.codes.shape
    w = np.ones(n) if weights is None else weights
    n_cat = coding.n_categories
    fitted = _probits(coding, X, w, start)
    if fitted is None:
        return None
    bounds, slopes, uni_scores = fitted
    lohi = []
    for v in range(p):
        lo, hi = _case_bounds(bounds[v], coding.codes[:, v], X @ slopes[v])
        lohi.append(np.stack([lo, hi], axis=-1))                          # (n, 2)
    lohi = np.stack(lohi)                                                 # (p, n, 2)
    rho = np.empty(len(ia))
    uni = _univariate_influence(coding, w, uni_scores, X.shape[1])        # (n, thresholds + slopes)
    del fitted, uni_scores
    correction = np.zeros((uni.shape[1], len(ia)))                        # ψ_ρ = (s_ρ − uni @ correction) / a22
    a22 = np.empty(len(ia))
    for pairs in _pair_chunks(len(ia), n):   # every per-case array is (pairs × n × …): bounded chunks
        b1, b2 = lohi[ia[pairs]], lohi[ib[pairs]]                          # (chunk, n, 2)
        tables = np.broadcast_to(w[None, :, None, None], (len(b1), n, 1, 1))
        rho[pairs] = fit_polychoric(b1, b2, tables, max_iter=newton_steps,
                                    start=None if start_rho is None else np.asarray(start_rho)[pairs])
        _pair_correction(correction, a22, coding, X, w, pair_cells(b1, b2, rho[pairs]), ia, ib, pairs)
    N = w.sum()
    total, sums = None, None
    for rows, psi in _psi_blocks(uni, lohi, rho, correction, a22, ia, ib):
        wr = w[rows]
        if diagonal_only:
            part = wr @ psi ** 2
        else:   # unit weights (no resample): psi' psi without the weighted copy
            part = (psi * wr[:, None]).T @ psi if weights is not None else psi.T @ psi
        total = part if total is None else total + part
        if cluster is not None:
            sums = np.zeros((int(cluster.max()) + 1, psi.shape[1])) if sums is None else sums
            np.add.at(sums, cluster[rows], psi)
    gamma = N * total
    thresholds = np.concatenate([bounds[v][1:n_cat[v]] for v in range(p)])
    out = (np.stack(bounds), thresholds, np.stack(slopes), rho, gamma)
    return out if cluster is None else out + (n * n * cluster_meat(sums, n),)


def _psi_blocks(uni: np.ndarray, lohi: np.ndarray, rho: np.ndarray, correction: np.ndarray, a22: np.ndarray,
                ia: np.ndarray, ib: np.ndarray):
    """The casewise influence functions ψ (thresholds, slopes, ρ) in row blocks (rows, ψ of those rows).

    Why blocks: ψ has a column per pair (861 at 42 items), so all cases at once were ~1,100 numbers per
    case; Γ needs only Σ ψ_i ψ_i' (or its diagonal, or cluster sums).  The ρ scores of a block are the
    cells of every pair at the block's cases, P × rows ≤ ``_CASE_PAIRS``."""
    n, P = uni.shape[0], len(ia)
    size = max(1, _CASE_PAIRS // max(P, 1))
    for start in range(0, n, size):
        rows = slice(start, min(n, start + size))
        cells = pair_cells(lohi[ia, rows], lohi[ib, rows], rho)
        s_rho = cells.score_rho[:, :, 0, 0].T                             # (rows, P)
        psi = np.empty((s_rho.shape[0], uni.shape[1] + P))
        psi[:, : uni.shape[1]] = uni[rows]
        psi[:, uni.shape[1]:] = (s_rho - uni[rows] @ correction) / a22
        yield rows, psi


def _probits(coding: Coding, X: np.ndarray, w: np.ndarray, start):
    """Per item the ordered probit on X: (bounds, slopes, casewise scores), cold (BFGS from the
    marginal thresholds) or warm from ``start`` by Newton; None if a warm fit fails."""
    n_cat = coding.n_categories
    bounds, slopes, uni_scores = [], [], []
    if start is None:
        margins = bounds_from_counts(coding.counts(), n_cat)
    for v in range(coding.codes.shape[1]):
        if start is None:
            b, beta, sc = probit(coding.codes[:, v], int(n_cat[v]), X, margins[v])
        else:
            out = probit_newton(coding.codes[:, v], int(n_cat[v]), X, w, start[0][v], start[1][v], tol=1e-9)
            if out is None:
                return None
            b, beta, sc = out
        bounds.append(b)
        slopes.append(beta)
        uni_scores.append(sc)
    return bounds, slopes, uni_scores


_CASE_PAIRS = 1 << 19   # pairs × cases per chunk of the residual polychorics (~4 MB per per-case array)


def _pair_chunks(n_pairs: int, n: int) -> list[slice]:
    """Consecutive pair ranges of at most ``_CASE_PAIRS / n`` pairs (all pairs at once for small samples)."""
    size = max(1, _CASE_PAIRS // max(n, 1))
    return [slice(start, start + size) for start in range(0, n_pairs, size)]


def _univariate_influence(coding: Coding, w: np.ndarray, uni_scores: list, nx: int) -> np.ndarray:
    """Casewise influence functions of the univariate statistics (n × (all thresholds, all slopes)): per
    item A11⁻¹ · score (A11 = Σ w · score score'), written into its columns item by item (one n × p(K−1+nx)
    array, not a second copy of every item's block)."""
    n_cat = coding.n_categories
    out = np.empty((len(w), int((n_cat - 1).sum()) + len(n_cat) * nx))
    for v, sc in enumerate(uni_scores):
        out[:, _item_columns(n_cat, nx, v)] = sc @ np.linalg.inv((sc * w[:, None]).T @ sc)
    return out


def _item_columns(n_cat: np.ndarray, nx: int, v: int) -> np.ndarray:
    """Columns of item v's (thresholds, slopes) in the influence matrix (all thresholds, then all slopes)."""
    k1 = n_cat - 1
    start = int(k1[:v].sum())
    slopes = int(k1.sum()) + v * nx
    return np.r_[start:start + int(k1[v]), slopes:slopes + nx]


def _pair_correction(correction: np.ndarray, a22: np.ndarray, coding: Coding, X: np.ndarray, w: np.ndarray,
                     cells, ia: np.ndarray, ib: np.ndarray, pairs: slice) -> None:
    """For the correlations of ``pairs`` (``cells`` of those pairs only): A21 (Σ w s_ρ ∂log π/∂(τ, β) of both
    items) into the columns of ``correction`` and A22 = Σ w s_ρ² — ψ_ρ is the ρ score corrected for the
    estimated univariate parameters of both items, (s_ρ − ψ_a·A21_a − ψ_b·A21_b) / A22 (``_psi_blocks``)."""
    n_cat = coding.n_categories
    s_rho = cells.score_rho[:, :, 0, 0]                                   # (chunk, n)
    d_lo1, d_hi1 = cells.score_lo1[:, :, 0, 0], cells.score_hi1[:, :, 0, 0]
    d_lo2, d_hi2 = cells.score_lo2[:, :, 0, 0], cells.score_hi2[:, :, 0, 0]
    for j, k in enumerate(range(*pairs.indices(len(ia)))):
        a, b = ia[k], ib[k]
        da = _pair_uni_scores(coding.codes[:, a], int(n_cat[a]), X, d_lo1[j], d_hi1[j])
        db = _pair_uni_scores(coding.codes[:, b], int(n_cat[b]), X, d_lo2[j], d_hi2[j])
        ws = w * s_rho[j]
        correction[_item_columns(n_cat, X.shape[1], a), k] = ws @ da
        correction[_item_columns(n_cat, X.shape[1], b), k] = ws @ db
        a22[k] = ws @ s_rho[j]


def _pair_uni_scores(codes, n_cat, X, d_lo, d_hi):
    """∂ log π_i / ∂(τ, β) of one item in a pair, from the derivatives wrt the case's two bounds."""
    k1 = n_cat - 1
    out = np.zeros((len(codes), k1 + X.shape[1]))
    rows = np.arange(len(codes))
    up = codes < k1
    out[rows[up], codes[up]] += d_hi[up]
    down = codes > 0
    out[rows[down], codes[down] - 1] += d_lo[down]
    out[:, k1:] = -(d_hi + d_lo)[:, None] * X
    return out
