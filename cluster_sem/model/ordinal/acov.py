"""Step 3 of Muthén (1984): the asymptotic covariance Γ of (thresholds, polychoric correlations).

lavaan (``muthen1984``) forms the sandwich WLS.W = B⁻¹ (Σᵢ scᵢ scᵢ') B⁻ᵀ with the block-triangular bread
B = [[A11, 0], [A21, A22]] of the two-step estimating equations (A11: per-item blocks of the threshold
scores' cross-products; A21: Σ sc_ρ · ∂log π/∂τ; A22: diagonal Σ sc_ρ²) and Γ = N · WLS.W.  We write the
same sandwich through casewise influence functions ψᵢ = B⁻¹ scᵢ, so Γ = N Σᵢ ψᵢψᵢ'.  Without covariates
every score depends only on the case's cell, so ψ is computed once per cell and gathered per case — and
the diagonal of Γ (all DWLS needs) is a weighted sum over cells, cheap for every bootstrap resample.

With a cluster (lavaan ≥ 0.7 ``cluster=`` + WLSMV, ``se = "robust.cluster.sem"``): ``muthen1984`` keeps the
same bread and sums the casewise scores within clusters before the outer product (``WLS.W.cluster``), and
``lav_samplestats`` takes NACOV = N · WLS.W.cluster · G/(G − 1) — ``gamma_full(cluster=)`` below.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..robust import first_order_blocks
from .polychoric import PairCells


@dataclass(frozen=True)
class Influence:
    """ψ at the category / cell level (leading axes ..., then item or pair)."""

    threshold: np.ndarray   # (..., p, K, K−1): ψ of item v's thresholds for a case in category c
    rho: np.ndarray         # (..., P, K, K): ψ of the pair's correlation for a case in cell (c, d)


def influence(counts: np.ndarray, uni_scores: np.ndarray, n_cat: np.ndarray, tables: np.ndarray,
              cells: PairCells, ia: np.ndarray, ib: np.ndarray) -> Influence:
    """Cell-level influence functions (all arrays may carry leading resample axes)."""
    k1 = uni_scores.shape[-1]
    real = np.arange(k1)[None, :] < (n_cat[:, None] - 1)                          # (p, K−1)
    a11 = np.einsum("...vc,...vcs,...vct->...vst", counts, uni_scores, uni_scores)
    pad = (~real)[:, :, None] & np.eye(k1, dtype=bool)[None]                       # identity on unused slots
    a11 = a11 + pad
    # one solve with the K categories as right-hand sides (broadcasting A11 over them is K³ numbers per item)
    psi_th = np.swapaxes(np.linalg.solve(a11, np.swapaxes(uni_scores, -1, -2)), -1, -2)  # (..., p, K, K−1)
    tab, s_rho = tables[..., 0, :, :], cells.score_rho[..., 0, :, :]        # drop the unit axis (U = 1)
    a21_1, a21_2 = _cross_scores(tab * s_rho, cells)
    a22 = np.einsum("...pcd,...pcd->...p", tab, s_rho ** 2)
    th_a = psi_th[..., ia, :, :]                                                   # (..., P, K, K−1)
    th_b = psi_th[..., ib, :, :]
    corr_a = np.einsum("...pt,...pct->...pc", a21_1, th_a)
    corr_b = np.einsum("...pt,...pdt->...pd", a21_2, th_b)
    psi_rho = (s_rho - corr_a[..., :, :, None] - corr_b[..., :, None, :]) / a22[..., None, None]
    return Influence(psi_th, psi_rho)


def _cross_scores(weight: np.ndarray, cells: PairCells) -> tuple[np.ndarray, np.ndarray]:
    """A21 of each item of every pair: Σ_cd n_cd s_ρ,cd ∂log π_cd/∂τ_t for the thresholds τ_t = b[t], t = 1…K−1.

    Threshold t is the lower bound of the cells in category t and the upper bound of those in t − 1, so
    the sum takes two slices of the cells' own-bound scores (``weight`` = n_cd s_ρ,cd, (..., P, K, K))."""
    lo1, hi1 = cells.score_lo1[..., 0, :, :], cells.score_hi1[..., 0, :, :]
    lo2, hi2 = cells.score_lo2[..., 0, :, :], cells.score_hi2[..., 0, :, :]
    first = (weight * lo1)[..., 1:, :].sum(-1) + (weight * hi1)[..., :-1, :].sum(-1)
    second = (weight * lo2)[..., :, 1:].sum(-2) + (weight * hi2)[..., :, :-1].sum(-2)
    return first, second


def casewise(inf: Influence, codes: np.ndarray, n_cat: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """ψ per case (n × (thresholds + pairs)), in the order of the sample-statistics vector."""
    cols = []
    for v in range(codes.shape[1]):
        cols.append(inf.threshold[v][codes[:, v], : n_cat[v] - 1])
    P = len(ia)
    cols.append(inf.rho[np.arange(P)[None, :], codes[:, ia], codes[:, ib]])
    return np.concatenate(cols, axis=1)


_PSI_BLOCK = 1 << 21   # numbers in one row block of the casewise ψ (16 MiB)


def casewise_blocks(inf: Influence, codes: np.ndarray, n_cat: np.ndarray, ia: np.ndarray,
                    ib: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """``casewise`` in row blocks (rows, ψ of those rows): ψ has a column per statistic (1,029 at 42 items of
    5 categories), so all cases at once were ~8 KB per case and Γ only needs their cross-products."""
    size = max(1, _PSI_BLOCK // (int((n_cat - 1).sum()) + len(ia)))
    for start in range(0, codes.shape[0], size):
        rows = slice(start, start + size)
        yield rows, casewise(inf, codes[rows], n_cat, ia, ib)


def gamma_full(inf: Influence, codes: np.ndarray, n_cat: np.ndarray, ia: np.ndarray, ib: np.ndarray,
               cluster: np.ndarray | None = None) -> np.ndarray:
    """Γ = N Σᵢ ψᵢψᵢ' (lavaan's NACOV for categorical data), summed over row blocks of ψ (``casewise_blocks``).

    With ``cluster`` (0..G−1 codes) the cluster-robust Γ = G/(G − 1) · N Σ_c (Σ_{i∈c} ψᵢ)(Σ_{i∈c} ψᵢ)' — the
    MLR meat's cluster sums in Γ's scale.  Only Γ (the SEs and the scaled test) changes: the DWLS weights
    stay 1/diag of the i.i.d. Γ, so the estimates equal the unclustered fit's.  With one case per cluster it
    is N/(N − 1) times that Γ."""
    n = codes.shape[0]
    return n * n * first_order_blocks(casewise_blocks(inf, codes, n_cat, ia, ib), n, cluster)


def gamma_diag(inf: Influence, counts: np.ndarray, n_cat: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """diag Γ from cell sums, batched over leading axes (the DWLS weights of each bootstrap resample)."""
    n = counts[..., 0, :].sum(-1)
    th = np.einsum("...vc,...vct->...vt", counts, inf.threshold ** 2)
    parts = [th[..., v, : n_cat[v] - 1] for v in range(len(n_cat))]
    parts.append(np.einsum("...pcd,...pcd->...p", tables[..., 0, :, :], inf.rho ** 2))
    return n[..., None] * np.concatenate(parts, axis=-1)
