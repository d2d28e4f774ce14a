"""Item descriptives as SPSS reports them: mean, SD (N − 1), skewness G1 and excess kurtosis G2 (the
bias-adjusted estimators, the formulas of ``scipy.stats.skew/kurtosis(bias=False)``, written out here so
that a fit does not import scipy.stats), min, max and % missing."""
from __future__ import annotations

import numpy as np
import pandas as pd


def _central_moments(x: np.ndarray) -> tuple[float, float, float, bool]:
    """m2, m3, m4 (divisor n) and whether the variance is numerically zero (scipy: then NaN)."""
    mean = x.mean()
    d = x - mean
    m2 = np.mean(d * d)
    return m2, np.mean(d * d * d), np.mean((d * d) ** 2), bool(m2 <= (np.finfo(float).eps * mean) ** 2)


def skewness(x: np.ndarray) -> float:
    """G1 = √(n(n−1))/(n−2) · m3/m2^1.5."""
    n = len(x)
    m2, m3, _, zero = _central_moments(x)
    return float("nan") if zero else float(((n - 1.0) * n) ** 0.5 / (n - 2.0) * m3 / m2 ** 1.5)


def kurtosis(x: np.ndarray) -> float:
    """G2 = ((n²−1)·m4/m2² − 3(n−1)²)/((n−2)(n−3)) (excess kurtosis)."""
    n = len(x)
    m2, _, m4, zero = _central_moments(x)
    if zero:
        return float("nan")
    g2 = 1.0 / (n - 2) / (n - 3) * ((n ** 2 - 1.0) * m4 / m2 ** 2.0 - 3 * (n - 1) ** 2.0)
    return float((g2 + 3.0) - 3)  # scipy's order of operations (kurtosis + 3, then Fisher's − 3)


def item_descriptives(raw: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    rows = []
    for item in items:
        col = pd.to_numeric(raw[item], errors="coerce")
        x = col.dropna().to_numpy(dtype=float)
        rows.append({"item": item, "n": int(len(x)), "mean": float(x.mean()) if len(x) else None,
                     "sd": float(x.std(ddof=1)) if len(x) > 1 else None,
                     "skewness": skewness(x) if len(x) > 2 else None,
                     "kurtosis": kurtosis(x) if len(x) > 3 else None,
                     "min": float(x.min()) if len(x) else None, "max": float(x.max()) if len(x) else None,
                     "pct_missing": float(100 * col.isna().mean())})
    return pd.DataFrame(rows)
