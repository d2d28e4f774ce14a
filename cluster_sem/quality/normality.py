"""Mardia's multivariate skewness and kurtosis, exactly as semTools ``mardiaSkew`` / ``mardiaKurtosis``.

semTools centres the data and uses the *unbiased* covariance (divisor n − 1):
    b1d = Σ_i Σ_j (d_i'S⁻¹d_j)³ / n²,   χ² = n·b1d/6 with df = p(p+1)(p+2)/6;
    b2d = Σ_i (d_i'S⁻¹d_i)² / n,        z = (b2d − p(p+2)) / sqrt(8p(p+2)/n), two-sided normal p.
Only rows with every item answered enter (semTools' default ``use = "everything"`` gives NA otherwise).
Why it is in the report: a significant kurtosis means normal-theory SEs and χ² are too optimistic, and
MLR (sandwich SEs, Yuan–Bentler χ²) is the usual remedy.
"""
from __future__ import annotations

import numpy as np
from ..special import chdtrc, ndtr  # scipy.stats' chi2.sf / norm.cdf without importing it


def mardia(x: np.ndarray) -> dict:
    """{"mardia_skewness": {b1d, chi2, df, pvalue}, "mardia_kurtosis": {b2d, z, pvalue}, "n": complete rows}."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x).any(axis=1)]
    n, p = x.shape
    if n <= p + 1:   # the covariance of the complete rows is singular: Mardia's statistics do not exist
        return {"mardia_skewness": None, "mardia_kurtosis": None, "n": int(n), "p": int(p)}
    d = x - x.mean(axis=0)
    inv = np.linalg.inv(d.T @ d / (n - 1))
    g = d @ inv @ d.T
    b1d = float((g ** 3).sum() / n ** 2)
    chi2 = n * b1d / 6
    df = p * (p + 1) * (p + 2) / 6
    b2d = float((np.diag(g) ** 2).sum() / n)
    z = (b2d - p * (p + 2)) / np.sqrt(8 * p * (p + 2) / n)
    return {"mardia_skewness": {"b1d": b1d, "chi2": float(chi2), "df": float(df),
                                "pvalue": float(chdtrc(df, chi2))},
            "mardia_kurtosis": {"b2d": b2d, "z": float(z), "pvalue": float(2 * ndtr(-abs(z)))},
            "n": int(n), "p": int(p)}
