"""Robust inference for DWLS: sandwich vcov, scaled-shifted χ², and the categorical fit indices.

As lavaan (``se = "robust.sem"``, ``test = "scaled.shifted"``, one group):
* vcov = (Δ'WΔ)⁻¹ Δ'WΓWΔ (Δ'WΔ)⁻¹ / (N − 1)   (lavaan divides by N − #groups for non-ML estimators);
* T = (N − 1) · F_DWLS (lavaan's test statistic for DWLS uses N − #groups as well);  U = W − WΔ(Δ'WΔ)⁻¹Δ'W;  a = √(df / tr((UΓ)²)),  b = df − a·tr(UΓ);  T_ss = a·T + b on df;
* baseline: thresholds (and slopes) free, correlations 0 — T_b = (N − 1) Σ w_k r_k², its own a_b, b_b from the correlation
  block of W and Γ;
* CFI/TLI/RMSEA from (T, df) and (T_b, df_b), the `.scaled` versions from the scaled-shifted statistics
  (RMSEA with N − 1, as lavaan's ``lav_inspect_ntotal`` for non-ML estimators);
* SRMR = lavaan's categorical "srmr" (``srmr_bentler_nomean``): the off-diagonal residual (given the
  controls: residual) correlations, squared, summed and divided by p(p − 1)/2 + nvar, where lavaan's nvar
  counts every observed variable of the model, the controls included (``srmr_categorical``).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..fit_indices import cfi, rmsea, rmsea_ci, tli


def robust_vcov(J: np.ndarray, w: np.ndarray, gamma: np.ndarray, n: int) -> np.ndarray:
    WJ = w[:, None] * J
    try:
        bread = np.linalg.inv(J.T @ WJ)
    except np.linalg.LinAlgError:
        return np.full((J.shape[1], J.shape[1]), np.nan)
    return bread @ (WJ.T @ gamma @ WJ) @ bread / (n - 1)


def scaled_shifted(T: float, df: int, U: np.ndarray, gamma: np.ndarray) -> dict:
    UG = U @ gamma
    tr1 = float(np.trace(UG))
    tr2 = float(np.sum(UG * UG.T))
    if df <= 0 or tr2 <= 0:
        return {"stat": T, "a": 1.0, "b": 0.0}
    a = math.sqrt(df / tr2)
    b = df - a * tr1
    return {"stat": a * T + b, "a": a, "b": b}


def residual_projection(J: np.ndarray, w: np.ndarray) -> np.ndarray:
    WJ = w[:, None] * J
    return np.diag(w) - WJ @ np.linalg.solve(J.T @ WJ, WJ.T)


def srmr_categorical(R: np.ndarray, R_hat: np.ndarray, n_covariates: int = 0) -> float:
    """lavaan 0.6's categorical SRMR of one group (``lav_residuals_summary``, type "srmr"): the p(p − 1)/2
    off-diagonal residual correlations over pstar = p(p − 1)/2 + nvar, nvar = p items + the controls
    (``pta$nvar``; the controls have no residual in the conditional correlations but still count)."""
    p = len(R)
    low = np.tril_indices(p, -1)
    return float(np.sqrt(np.sum((R - R_hat)[low] ** 2) / (p * (p - 1) / 2 + p + n_covariates)))


def fit_measures_dwls(*, s: np.ndarray, resid: np.ndarray, w: np.ndarray, gamma: np.ndarray, J: np.ndarray, n: int,
                      n_univariate: int, n_free: int, R: np.ndarray, R_hat: np.ndarray,
                      n_covariates: int = 0) -> dict:
    m = len(resid)
    df = m - n_free
    n_test = n - 1
    T = float(n_test * resid @ (w * resid))
    ss = scaled_shifted(T, df, residual_projection(J, w), gamma)
    # baseline (independence) model: thresholds fitted exactly, correlations zero
    corr = slice(n_univariate, m)
    r = s[corr]                                  # the baseline's residuals are the correlations themselves
    wb = w[corr]
    Tb = float(n_test * r @ (wb * r))
    df_b = m - n_univariate
    Ub = np.diag(wb)
    ssb = scaled_shifted(Tb, df_b, Ub, gamma[corr, corr])
    n_rmsea = n - 1
    Ts, Tbs = ss["stat"], ssb["stat"]
    lo, hi = rmsea_ci(T, df, n_rmsea)
    lo_s, hi_s = rmsea_ci(Ts, df, n_rmsea)
    srmr = srmr_categorical(R, R_hat, n_covariates)
    return {
        "chi2": T, "df": int(df), "pvalue": float(stats.chi2.sf(T, df)) if df > 0 else None,
        "cfi": cfi(T, df, Tb, df_b), "tli": tli(T, df, Tb, df_b),
        "rmsea": rmsea(T, df, n_rmsea), "rmsea_ci90": [lo, hi],
        "srmr": srmr, "aic": None, "bic": None, "n": int(n), "npar": int(n_free), "loglik": None,
        "baseline_chi2": Tb, "baseline_df": int(df_b),
        "chi2_scaled": Ts, "df_scaled": int(df), "pvalue_scaled": float(stats.chi2.sf(Ts, df)) if df > 0 else None,
        "chi2_scaling_factor": ss["a"], "chi2_shift_parameter": ss["b"],
        "cfi_scaled": cfi(Ts, df, Tbs, df_b), "tli_scaled": tli(Ts, df, Tbs, df_b),
        "rmsea_scaled": rmsea(Ts, df, n_rmsea), "rmsea_ci90_scaled": [lo_s, hi_s],
        "baseline_chi2_scaled": Tbs, "test": "scaled.shifted",
    }

