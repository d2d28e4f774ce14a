"""Robust inference for multigroup DWLS, as lavaan 0.6 (``lav_model_vcov``, ``lav_test_satorra_bentler``,
``lav_test_diff_Satorra2000``, ``lav_fit_*``) with G groups, f_g = n_g / N:

* objective Σ_g (n_g − 1) r_g' W_g r_g (lavaan: weighted mean of ½ (n_g − 1)/n_g · F_g); T = that sum;
* vcov = E⁻¹ B E⁻¹ / (N − G),  E = Σ f_g Δ_g'W_gΔ_g,  B = Σ f_g Δ_g'W_gΓ_gW_gΔ_g;
* scaled-shifted: U = V − VΔE⁻¹Δ'V with V = ⊕ f_g W_g and Γ = ⊕ Γ_g / f_g; a = √(df / tr((UΓ)²)),
  b = df − a tr(UΓ).  The traces are computed without forming the (Σ m_g)² matrix UΓ;
* RMSEA with N − G and × √G; SRMR the n_g/N-weighted mean of the groups' correlation SRMRs;
* Δχ² of nested fits: Satorra (2000) with H1 = the less restricted model, A by the delta method
  (A = orthogonal complement of Δ₁⁺Δ₀), scaled-shifted (lavaan ``lavTestLRT`` default for WLSMV).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import chdtrc

from ..fit_indices import cfi, rmsea, rmsea_ci, tli
from .robust import srmr_categorical


@dataclass(frozen=True)
class GroupDWLSTest:
    """What a Δ-test needs from a fitted multigroup WLSMV model (``ModelFit.test``)."""

    stat: float                     # unscaled T
    df: int
    J: tuple[np.ndarray, ...]       # per group Δ_g at θ̂
    w: tuple[np.ndarray, ...]       # per group diagonal weights
    gamma: tuple[np.ndarray, ...]   # per group Γ_g (N_g · ACOV)
    f: np.ndarray                   # n_g / N
    name: str = "scaled.shifted"


def information(J, w, f) -> np.ndarray:
    return sum(fg * (Jg.T @ (wg[:, None] * Jg)) for Jg, wg, fg in zip(J, w, f))


def _traces(J, w, gamma, f, Einv) -> tuple[float, float, np.ndarray]:
    """tr(UΓ), tr((UΓ)²) and B = Σ f_g Δ'WΓWΔ, with U, Γ as in the module docstring."""
    tr1 = tr2 = 0.0
    M1 = np.zeros_like(Einv)
    M2 = np.zeros_like(Einv)
    for Jg, wg, Gg, fg in zip(J, w, gamma, f):
        WG = wg[:, None] * Gg
        tr1 += float(np.trace(WG))
        tr2 += float(np.sum(WG * WG.T))
        X = Gg @ (wg[:, None] * Jg)                       # Γ W Δ
        M1 += fg * ((wg[:, None] * Jg).T @ X)
        M2 += fg * (X.T @ (wg[:, None] * X))
    EM1 = Einv @ M1
    tr1 -= float(np.trace(EM1))
    tr2 += -2.0 * float(np.sum(Einv * M2)) + float(np.sum(EM1 * EM1.T))
    return tr1, tr2, M1


def shifted(T: float, df: int, tr1: float, tr2: float) -> tuple[float, float, float]:
    if df <= 0 or tr2 <= 0:
        return T, 1.0, 0.0
    a = math.sqrt(df / tr2)
    b = df - a * tr1
    return a * T + b, a, b


def _p(x: float, df: int):
    return float(chdtrc(df, x)) if df > 0 else None


def robust_group_inference(*, J, w, gamma, resid, s, n, n_univariate, R, R_hat, n_free: int,
                           n_covariates: int = 0):
    """(vcov, fit dict) for a fitted multigroup model; per-group lists in every argument but ``n_free``."""
    G = len(J)
    n = np.asarray(n, dtype=float)
    N = float(n.sum())
    f = n / N
    E = information(J, w, f)
    try:
        Einv = np.linalg.inv(E)
    except np.linalg.LinAlgError:
        Einv = np.full_like(E, np.nan)
    tr1, tr2, B = _traces(J, w, gamma, f, Einv)
    vcov = Einv @ B @ Einv / (N - G)
    m = sum(len(r) for r in resid)
    df = m - n_free
    T = float(sum((ng - 1) * r @ (wg * r) for ng, r, wg in zip(n, resid, w)))
    Ts, a, b = shifted(T, df, tr1, tr2)
    # baseline: thresholds (and slopes) fitted exactly in every group, correlations 0
    Tb = b1 = b2 = 0.0
    df_b = 0
    for ng, sg, wg, Gg, u in zip(n, s, w, gamma, n_univariate):
        r, wc = sg[u:], wg[u:]
        Tb += float((ng - 1) * r @ (wc * r))
        WG = wc[:, None] * Gg[u:, u:]
        b1 += float(np.trace(WG))
        b2 += float(np.sum(WG * WG.T))
        df_b += len(r)
    Tbs, _, _ = shifted(Tb, df_b, b1, b2)
    n_rmsea = N - G
    root_g = math.sqrt(G)
    lo, hi = rmsea_ci(T, df, n_rmsea)
    lo_s, hi_s = rmsea_ci(Ts, df, n_rmsea)
    srmr = sum(fg * srmr_categorical(Rg, Hg, n_covariates) for fg, Rg, Hg in zip(f, R, R_hat))
    fit = {
        "chi2": T, "df": int(df), "pvalue": _p(T, df),
        "cfi": cfi(T, df, Tb, df_b), "tli": tli(T, df, Tb, df_b),
        "rmsea": rmsea(T, df, n_rmsea) * root_g, "rmsea_ci90": [lo * root_g, hi * root_g],
        "srmr": srmr, "aic": None, "bic": None, "n": int(N), "npar": int(n_free), "loglik": None,
        "baseline_chi2": Tb, "baseline_df": int(df_b),
        "chi2_scaled": Ts, "df_scaled": int(df), "pvalue_scaled": _p(Ts, df),
        "chi2_scaling_factor": a, "chi2_shift_parameter": b,
        "cfi_scaled": cfi(Ts, df, Tbs, df_b), "tli_scaled": tli(Ts, df, Tbs, df_b),
        "rmsea_scaled": rmsea(Ts, df, n_rmsea) * root_g, "rmsea_ci90_scaled": [lo_s * root_g, hi_s * root_g],
        "baseline_chi2_scaled": Tbs, "test": "scaled.shifted",
        "chi2_groups": [float((ng - 1) * r @ (wg * r)) for ng, r, wg in zip(n, resid, w)],
    }
    test = GroupDWLSTest(T, int(df), tuple(J), tuple(w), tuple(gamma), f)
    return vcov, fit, test


def _complement(H: np.ndarray) -> np.ndarray:
    """Rows spanning the orthogonal complement of the column space of H (lavaan
    ``lav_matrix_orthogonal_complement``: the trailing columns of a complete QR; any basis gives the
    same test)."""
    Q, R, _ = linalg.qr(H, mode="full", pivoting=True)
    d = np.abs(np.diag(R))
    rank = int(np.sum(d > 1e-8 * max(d.max(initial=0.0), 1.0)))
    return Q[:, rank:].T


def satorra2000_traces(free: GroupDWLSTest, restricted: GroupDWLSTest) -> tuple[float, float]:
    """tr(UΓ), tr((UΓ)²) of lavaan's ``lav_test_diff_Satorra2000`` (H1 = ``free``, A.method "delta")."""
    D1 = np.vstack(free.J)
    D0 = np.vstack(restricted.J)
    # Δ₁⁺Δ₀ through the normal equations (Δ₁ has full column rank: an identified model); an SVD of the
    # (Σ m_g) × q matrix took seconds per test on the 42-item example
    A = _complement(np.linalg.solve(D1.T @ D1, D1.T @ D0))
    P = information(free.J, free.w, free.f)
    Pinv = np.linalg.inv(P)
    APA = A @ Pinv @ A.T
    Q = Pinv @ A.T @ np.linalg.pinv(APA) @ A @ Pinv
    N1 = sum(fg * ((wg[:, None] * Jg).T @ Gg @ (wg[:, None] * Jg))
             for Jg, wg, Gg, fg in zip(free.J, free.w, free.gamma, free.f))
    QN = Q @ N1
    return float(np.trace(QN)), float(np.sum(QN * QN.T))


def satorra2000_difference(restricted, free) -> dict:
    """lavTestLRT's scaled-shifted difference (method "satorra.2000") of two nested WLSMV fits."""
    t0, t1 = restricted.test, free.test
    m = int(t0.df - t1.df)
    d = float(t0.stat - t1.stat)
    if m <= 0:
        return {"chi2": d, "df": m, "pvalue": None, "chi2_unscaled": d}
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):     # called outside the fits; threaded BLAS thrashes a shared machine
        tr1, tr2 = satorra2000_traces(t1, t0)
    a = math.sqrt(m / tr2)
    b = m - a * tr1
    stat = d * a + b
    return {"chi2": stat, "df": m, "pvalue": _p(stat, m), "chi2_unscaled": d, "scaling_factor": a, "shift": b}
