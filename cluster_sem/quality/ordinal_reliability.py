"""Reliability of composites of ordinal items (WLSMV fits).

* Categorical ω (Green & Yang 2009), exactly semTools ``compRelSEM(ord.scale = TRUE)`` (``omegaCat``): the
  variance of the *observed* sum score explained by the factor, both computed through the thresholds,
      ω = Σ_jj' Σ_cc' [Φ₂(τ_jc, τ_j'c'; λ_jλ_j'ψ) − Φ(τ_jc)Φ(τ_j'c')]
        / Σ_jj' Σ_cc' [Φ₂(τ_jc, τ_j'c'; r_jj')      − Φ(τ_jc)Φ(τ_j'c')],
  with r the sample polychoric correlations (semTools' default ``obs.var = TRUE``; r_jj = 1) and
  delta-scaled latent responses (scale factors 1).
* Ordinal α (Zumbo, Gadermann & Zeisser 2007): Cronbach's α computed from the polychoric correlation
  matrix, k/(k−1)·(1 − k / Σ_jj' r_jj') — the reliability of the latent-response sum under
  tau-equivalence, *not* of the observed sum score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ..model.ordinal.bvn import Phi2


def _sum_covariance(thresholds: list[np.ndarray], corr: np.ndarray) -> float:
    """Σ_jj' Σ_cc' [Φ₂(τ_jc, τ_j'c'; corr_jj') − Φ(τ_jc)Φ(τ_j'c')] over all item pairs (j = j' included)."""
    total = 0.0
    for j, tj in enumerate(thresholds):
        for jp, tjp in enumerate(thresholds):
            h, k = np.meshgrid(tj, tjp, indexing="ij")
            both = Phi2(h, k, np.full(h.shape, corr[j, jp])).sum()
            total += both - ndtr(tj).sum() * ndtr(tjp).sum()
    return float(total)


def categorical_omega(loadings: pd.Series, factor_variance: float, thresholds: dict[str, np.ndarray],
                      polychoric: pd.DataFrame) -> float:
    items = list(loadings.index)
    lam = loadings.to_numpy(dtype=float)
    true_corr = np.outer(lam, lam) * factor_variance
    th = [np.asarray(thresholds[i], dtype=float) for i in items]
    return _sum_covariance(th, true_corr) / _sum_covariance(th, polychoric.loc[items, items].to_numpy())


def ordinal_alpha(polychoric: pd.DataFrame, items: list[str]) -> float:
    R = polychoric.loc[items, items].to_numpy(dtype=float)
    k = len(items)
    if k < 2:
        return float("nan")
    return float(k / (k - 1) * (1 - k / R.sum()))
