"""Reliability: Cronbach's α, composite reliability ω and AVE in semTools' conventions.

* α (Cronbach 1951) on the recoded items, complete cases: k/(k−1)·(1 − Σσ²ᵢ / σ²_total), sample
  variances with N − 1 (any divisor cancels).
* ω: semTools ``compRelSEM()`` default (``obs.var = TRUE``): (Σλ)²ψ / 1'S1, the model-implied common
  variance of the sum score over its *observed* variance (S with divisor N, lavaan's sample covariance).
  With ``obs.var = FALSE`` the denominator would be the implied variance (Σλ)²ψ + 1'Θ1 — not the default.
* AVE: semTools ``AVE()`` default (``obs.var = TRUE``): Σλ²ψ / Σ diag(S).
Checked against semTools output for HolzingerSwineford1939 in tests/test_quality_reliability.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# Criteria the report applies (Fornell & Larcker 1981; Hair et al. 2019): α and ω ≥ .70, AVE ≥ .50, and a
# standardized loading of at least .50 on its construct.  A value below its criterion is flagged.
ALPHA_MIN, OMEGA_MIN, AVE_MIN, LOADING_MIN = 0.70, 0.70, 0.50, 0.50


def below(value: float | None, criterion: float) -> bool:
    """A reported value under its criterion (a missing value is not flagged)."""
    return value is not None and value < criterion


def cronbach_alpha(items: pd.DataFrame) -> float:
    x = items.dropna().to_numpy(dtype=float)
    k = x.shape[1]
    if k < 2 or x.shape[0] < 2:
        return float("nan")
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_var / total_var))


def composite_reliability(loadings: pd.Series, factor_variance: float, sample_cov: pd.DataFrame) -> float:
    items = list(loadings.index)
    common = loadings.sum() ** 2 * factor_variance
    return float(common / sample_cov.loc[items, items].to_numpy().sum())


def average_variance_extracted(loadings: pd.Series, factor_variance: float, sample_cov: pd.DataFrame) -> float:
    items = list(loadings.index)
    return float((loadings ** 2).sum() * factor_variance / np.trace(sample_cov.loc[items, items].to_numpy()))


def measurement_quality(loadings: dict[str, pd.Series], factor_cov: pd.DataFrame, sample_cov: pd.DataFrame,
                        data: pd.DataFrame) -> dict[str, dict[str, float]]:
    """α, ω and AVE for every first-order construct (unstandardized CFA loadings as input)."""
    out = {}
    for construct, lam in loadings.items():
        psi = float(factor_cov.loc[construct, construct])
        out[construct] = {"alpha": cronbach_alpha(data[list(lam.index)]),
                          "omega": composite_reliability(lam, psi, sample_cov),
                          "ave": average_variance_extracted(lam, psi, sample_cov)}
    return out
