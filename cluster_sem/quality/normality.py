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
    """{"mardia_skewness": {b1d, chi2, df, pvalue}, "mardia_kurtosis": {b2d, z, pvalue}, "n": complete rows}.

    Neither statistic needs the n × n matrix G = D S⁻¹ D' (74.5 GiB at n = 100,000): with whitened rows
    z_i = C⁻¹ d_i (S = C C'), G_ij = z_i·z_j, so Σ_ij G_ij³ = Σ_rst m_rst² · n² where m_rst is the mean of
    z_r z_s z_t (the third-moment tensor, ``_skewness_tensor``), and G_ii = ‖z_i‖².  O(n p³) time, O(n p + p³)
    memory."""
    x = np.asarray(x, dtype=float)
    complete = ~np.isnan(x).any(axis=1)
    n, p = int(complete.sum()), x.shape[1]
    if n <= p + 1:   # the covariance of the complete rows is singular: Mardia's statistics do not exist
        return {"mardia_skewness": None, "mardia_kurtosis": None, "n": int(n), "p": int(p)}
    d = x[complete] if not complete.all() else x.copy()
    d -= d.mean(axis=0)
    chol = np.linalg.cholesky(d.T @ d / (n - 1))
    z = d @ np.linalg.inv(chol).T             # whitened rows: z_i·z_j = d_i' S⁻¹ d_j
    del d
    b1d = float(np.sum(_skewness_tensor(z) ** 2))
    chi2 = n * b1d / 6
    df = p * (p + 1) * (p + 2) / 6
    b2d = float(np.sum(np.einsum("ij,ij->i", z, z) ** 2) / n)
    z_kurt = (b2d - p * (p + 2)) / np.sqrt(8 * p * (p + 2) / n)
    return {"mardia_skewness": {"b1d": b1d, "chi2": float(chi2), "df": float(df),
                                "pvalue": float(chdtrc(df, chi2))},
            "mardia_kurtosis": {"b2d": b2d, "z": float(z_kurt), "pvalue": float(2 * ndtr(-abs(z_kurt)))},
            "n": int(n), "p": int(p)}


_BLOCK = 1 << 21   # numbers in one block of row-wise products z_r z_s (16 MiB)


def _skewness_tensor(z: np.ndarray) -> np.ndarray:
    """m[r, s, t] = mean_i z_ir z_is z_it, summed over row blocks: one (p² × rows)(rows × p) product each,
    so the only temporary is a block of the rows' z z' products."""
    n, p = z.shape
    rows = max(1, _BLOCK // (p * p))
    m = np.zeros((p * p, p))
    for start in range(0, n, rows):
        zb = z[start:start + rows]
        m += (zb[:, :, None] * zb[:, None, :]).reshape(len(zb), p * p).T @ zb
    return m.reshape(p, p, p) / n
