"""Sample statistics of ordinal items for WLSMV: thresholds, polychoric matrix, Γ and the DWLS weights.

The statistics vector s is (thresholds item by item, slopes on the covariates item by item (only with
covariates, lavaan's conditional.x), then the correlations of the pairs (a, b), a < b, in lavaan's
column-wise lower-triangle order); Γ is its asymptotic covariance (N · ACOV).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .acov import Influence, gamma_diag, gamma_full, influence
from .categories import Coding, code_items, threshold_names
from .conditional import conditional_stats
from .polychoric import fit_polychoric, pair_cells, pair_tables
from .univariate import bounds_from_counts, category_scores, threshold_vector


@dataclass(frozen=True)
class OrdinalStats:
    coding: Coding
    n: int
    bounds: np.ndarray           # (p, K+1)
    thresholds: np.ndarray       # (n_th,)
    correlation: np.ndarray      # (p, p) polychoric matrix (residual, given the covariates)
    pair_a: np.ndarray
    pair_b: np.ndarray
    gamma: np.ndarray            # (m, m)
    slopes: np.ndarray           # (p, n_x) probit slopes on the covariates
    covariates: tuple[str, ...] = ()
    covariate_cov: np.ndarray | None = None   # sample covariance of the covariates, divisor N − 1 (fixed.x)
    gamma_cluster: np.ndarray | None = None   # cluster-robust Γ (``gamma_full(cluster=)``) when a cluster is given

    @property
    def gamma_robust(self) -> np.ndarray:
        """The Γ of the sandwich SEs and the scaled-shifted test: cluster-robust with a cluster, else Γ.
        The DWLS weights always come from the i.i.d. Γ (lavaan keeps WLS.V unchanged under ``cluster=``)."""
        return self.gamma if self.gamma_cluster is None else self.gamma_cluster

    @property
    def items(self) -> tuple[str, ...]:
        return self.coding.items

    @property
    def n_thresholds(self) -> int:
        return len(self.thresholds)

    @property
    def n_univariate(self) -> int:
        """Thresholds + slopes: the part of s every model (and the baseline) reproduces exactly."""
        return len(self.thresholds) + self.slopes.size

    @property
    def vector(self) -> np.ndarray:
        return np.concatenate([self.thresholds, self.slopes.ravel(), self.correlation[self.pair_b, self.pair_a]])

    @property
    def weight_diag(self) -> np.ndarray:
        """DWLS weights: 1 / diag Γ (lavaan ``WLS.VD``)."""
        return 1.0 / np.diag(self.gamma)

    def threshold_names(self) -> list[tuple[str, str]]:
        return threshold_names(self.items, self.coding.n_categories)


def pair_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) with a < b in lavaan's vech order (column by column of the lower triangle)."""
    a, b = [], []
    for j in range(p - 1):
        for i in range(j + 1, p):
            a.append(j)
            b.append(i)
    return np.asarray(a, dtype=int), np.asarray(b, dtype=int)


def two_step(coding: Coding, weights: np.ndarray | None = None):
    """Thresholds, correlations and cell-level influence functions; batched over resample ``weights`` (R, n)."""
    n_cat = coding.n_categories
    k_max = coding.k_max
    ia, ib = pair_index(len(coding.items))
    if weights is None:
        counts = coding.counts()
    else:
        counts = np.stack([np.stack([np.bincount(coding.codes[:, v], weights=w, minlength=k_max)
                                     for v in range(len(coding.items))]) for w in weights])
    tables = pair_tables(coding.codes, ia, ib, k_max, weights)
    bounds = bounds_from_counts(counts, n_cat)
    b1, b2 = bounds[..., ia, None, :], bounds[..., ib, None, :]
    rho = fit_polychoric(b1, b2, tables)
    cells = pair_cells(b1, b2, rho)
    inf = influence(counts, category_scores(bounds), n_cat, tables, cells, ia, ib)
    return counts, tables, bounds, rho, inf


def ordinal_stats(frame: pd.DataFrame, items, covariates=(), cluster: np.ndarray | None = None) -> OrdinalStats:
    """Sample statistics of ``items``; with ``covariates`` the conditional (probit-regression) version;
    with ``cluster`` (0..G−1 code per row) also the cluster-robust Γ."""
    coding = code_items(frame, list(items))
    counts, tables, bounds, rho, inf = two_step(coding)
    n_cat = coding.n_categories
    ia, ib = pair_index(len(coding.items))
    p = len(coding.items)
    n = coding.codes.shape[0]
    thresholds = threshold_vector(bounds, n_cat)
    slopes = np.zeros((p, 0))
    sxx = gamma_cl = None
    if covariates:
        X = frame[list(covariates)].to_numpy(dtype=float)
        bounds, thresholds, slopes, rho, gamma, *rest = conditional_stats(coding, X, rho, ia, ib, cluster=cluster)
        gamma_cl = rest[0] if rest else None
        sxx = covariate_covariance(X)
    else:
        gamma = gamma_full(inf, coding.codes, n_cat, ia, ib)
        if cluster is not None:
            gamma_cl = gamma_full(inf, coding.codes, n_cat, ia, ib, cluster)
    R = np.eye(p)
    R[ib, ia] = R[ia, ib] = rho
    return OrdinalStats(coding, n, bounds, thresholds, R, ia, ib, gamma, slopes, tuple(covariates), sxx, gamma_cl)


def covariate_covariance(X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The controls' covariance that fixes their (co)variance rows (fixed.x), divisor N − 1: lavaan rescales
    cov.x to divisor N only for ML-type estimators (``sample.cov.rescale``), never for DWLS, so its
    ``age ~~ age`` row is R's ``var(age)``.  ``weights``: case multiplicities of a resample (N = their sum,
    as if the drawn rows were listed)."""
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=float)
    N = w.sum()
    xc = X - (w @ X) / N
    return (xc * w[:, None]).T @ xc / (N - 1)


def resample_stats(coding: Coding, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, diag Γ) for each resample given as case weights (R, n) — polychorics recomputed, batched."""
    counts, tables, bounds, rho, inf = two_step(coding, weights)
    n_cat = coding.n_categories
    s = np.concatenate([threshold_vector(bounds, n_cat), rho], axis=-1)
    return s, gamma_diag(inf, counts, n_cat, tables)


__all__ = ["OrdinalStats", "ordinal_stats", "resample_stats", "covariate_covariance", "pair_index", "Influence"]
