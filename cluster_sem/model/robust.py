"""Robust ML (lavaan ``estimator = "MLR"``): sandwich vcov, Yuan–Bentler (Mplus variant) scaled χ², robust
CFI/TLI/RMSEA and the Satorra–Bentler (2001) scaled difference test.

All information matrices are *unit* (per case) matrices, as in lavaan.
* vcov (``se = "robust.huber.white"``) = A⁻¹ B A⁻¹ / N with A the observed information (lavaan's default
  for MLR) and B = (1/N) Σ_i s_i s_i' the crossproduct of the casewise scores.
* Yuan–Bentler, Mplus variant (``lav_test_yb_mplus_trace``): tr(UΓ) = tr(A1⁻¹B1) − tr(E⁻¹B0), with A1/B1 the
  unstructured h1 observed/first-order information, E/B0 the model's; scaling factor c = tr(UΓ)/df.
* Robust CFI/TLI (Brosseau-Liard & Savalei 2014) and RMSEA (Brosseau-Liard, Savalei & Li 2012) use the
  *unscaled* χ² with c·df in place of df (``lav_fit_cfi``/``lav_fit_rmsea`` with ``c.hat``).  With missing
  data lavaan (≥ 0.6-13) uses Zhang & Savalei's FIML-corrected χ² and c instead (``fiml_corrected``).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .fit_indices import rmsea_ci


def first_order(scores: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """Unit first-order information (the sandwich "meat") from casewise scores (n × k).

    Without clusters (1/N) Σ_i s_i s_i'.  With clusters (lavaan ``se = "robust.cluster"``,
    ``lav_mvnorm_information_firstorder(cluster.idx=)``): the scores are summed within each cluster first,
    B = G/(G − 1) · (1/N) Σ_c s_c s_c', because cases of one cluster are not independent — only clusters
    are.  Sampling weights are already in the scores (w_i s_i) and N = Σ w_i = n after normalisation."""
    n = scores.shape[0]
    if cluster is not None:
        sums = np.zeros((int(cluster.max()) + 1, scores.shape[1]))
        np.add.at(sums, cluster, scores)
        return cluster_meat(sums, n)
    return scores.T @ scores / n


def cluster_meat(sums: np.ndarray, n: int) -> np.ndarray:
    """G/(G − 1) · (1/N) Σ_c s_c s_c' from the G × k cluster sums of the scores."""
    g = sums.shape[0]
    return sums.T @ sums / n * (g / (g - 1))


def first_order_blocks(blocks: Iterable[tuple[slice, np.ndarray]], n: int,
                       cluster: np.ndarray | None = None) -> np.ndarray:
    """``first_order`` of scores that come in row blocks (rows, scores of those rows), in order.

    The casewise scores of a FIML/MLR fit are p + p* numbers per case for the h1 model (945 at p = 42);
    summing s_i s_i' (or the cluster sums) block by block keeps only one block and the k × k result."""
    total, sums = None, None
    for rows, block in blocks:
        if cluster is None:
            part = block.T @ block
            total = part if total is None else total + part
            continue
        sums = np.zeros((int(cluster.max()) + 1, block.shape[1])) if sums is None else sums
        np.add.at(sums, cluster[rows], block)
    return cluster_meat(sums, n) if cluster is not None else total / n


def sandwich(info_unit: np.ndarray, scores: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """Huber–White (or cluster-robust) vcov from the unit observed information and casewise scores (n × k)."""
    return sandwich_from_meat(info_unit, first_order(scores, cluster), scores.shape[0])


def sandwich_from_meat(info_unit: np.ndarray, meat: np.ndarray, n: int) -> np.ndarray:
    """A⁻¹ B A⁻¹ / N from the unit observed information A and the unit first-order information B."""
    a_inv = np.linalg.inv(info_unit)
    return a_inv @ meat @ a_inv / n


def yb_mplus_trace_meats(h1_info: np.ndarray, b1: np.ndarray, info_unit: np.ndarray, b0: np.ndarray) -> float:
    """tr(UΓ) of lavaan's ``yuan.bentler.mplus`` test: tr(A1⁻¹B1) − tr(E⁻¹B0) (single group); with clusters
    B1 and B0 are the cluster-summed first-order informations (lavaan's cluster-robust scaled test)."""
    return float(np.trace(np.linalg.solve(h1_info, b1)) - np.trace(np.linalg.solve(info_unit, b0)))


@dataclass(frozen=True)
class ScaledTest:
    chi2_scaled: float
    df_scaled: int
    pvalue_scaled: float | None
    chi2_scaling_factor: float


def scaled_test(chi2: float, df: int, trace_ugamma: float) -> ScaledTest:
    c = trace_ugamma / df if df > 0 else float("nan")
    if not (c > 0):
        c = float("nan")
    t = chi2 / c
    p = float(stats.chi2.sf(t, df)) if df > 0 and math.isfinite(t) else None
    return ScaledTest(float(t), int(df), p, float(c))


def cfi_robust(chi2: float, df: int, c: float, chi2_b: float, df_b: int, c_b: float) -> float:
    t1 = max(chi2 - c * df, 0.0)
    t2 = max(chi2 - c * df, chi2_b - c_b * df_b, 0.0)
    return 1.0 if t1 == 0 and t2 == 0 else 1.0 - t1 / t2


def tli_robust(chi2: float, df: int, c: float, chi2_b: float, df_b: int, c_b: float) -> float:
    t1 = (chi2 - c * df) * df_b
    t2 = (chi2_b - c_b * df_b) * df
    return 1.0 - t1 / t2 if df > 0 and abs(t2) > 0 else 1.0


def rmsea_robust(chi2: float, df: int, n: int, c: float, groups: int = 1) -> float:
    """lavaan's ``rmsea.robust``: √(T/(N·df) − ĉ/N), times √G over G groups (lavaan's multigroup RMSEA)."""
    return math.sqrt(max(chi2 / n / df - c / n, 0.0)) * math.sqrt(groups) if df > 0 else 0.0


def rmsea_ci_robust(chi2: float, df: int, n: int, c: float, groups: int = 1, level: float = 0.90) -> list[float]:
    """90 % CI of the robust RMSEA (lavaan ``rmsea.ci.lower/upper.robust``, Brosseau-Liard, Savalei & Li 2012).

    lavaan's ``lav_fit_rmsea_ci(x2 = T/ĉ, df, n, c_hat = ĉ)``: the non-centrality interval of the *scaled*
    statistic, each bound times √ĉ — so the interval sits around ``rmsea_robust`` (= √ĉ · RMSEA of T/ĉ) the
    way the plain CI sits around the plain RMSEA.  ``chi2``/``c`` are the unscaled statistic and its scaling
    factor (with FIML blanks: Zhang & Savalei's XX3 and ĉ3); bounds times √G over G groups, as lavaan."""
    lo, hi = rmsea_ci(chi2 / c, df, n, level)
    return [lo * math.sqrt(c) * math.sqrt(groups), hi * math.sqrt(c) * math.sqrt(groups)]


def fiml_corrected_k(w_m: np.ndarray, j_m: np.ndarray, w_c: np.ndarray, delta: np.ndarray) -> float:
    """Zhang & Savalei (2023) FIML-corrected trace, version V3 (lavaan ``lav_fit_fiml_corrected``).

    W_m: h1 observed information of the missing-data likelihood at the EM moments; J_m: its first-order
    counterpart; W_c: complete-data h1 information at the EM moments; Δ: ∂(μ, vech Σ)/∂φ at φ̂;
    E = Δ'W_mΔ (``observed.information = "h1"``), U = W_m − W_mΔE⁻¹Δ'W_m, Γ = W_m⁻¹J_mW_m⁻¹,
    k = tr(U W_m⁻¹ W_c W_m⁻¹ U Γ).
    """
    wmi = np.linalg.inv(w_m)
    e = delta.T @ w_m @ delta
    u = w_m - w_m @ delta @ np.linalg.solve(e, delta.T @ w_m)
    gamma = wmi @ j_m @ wmi
    return float(np.trace(u @ wmi @ w_c @ wmi @ u @ gamma))


def satorra_bentler_2001(chi2_0: float, df_0: int, c_0: float, chi2_1: float, df_1: int, c_1: float) -> dict:
    """Scaled χ² difference of nested models (model 0 restricted, more df) — lavTestLRT "satorra.bentler.2001".

    cd = (df0·c0 − df1·c1)/(df0 − df1), T = (T0 − T1)/cd with the *unscaled* statistics.
    """
    ddf = df_0 - df_1
    if ddf <= 0:
        raise ValueError("the restricted model must have more degrees of freedom")
    cd = (df_0 * c_0 - df_1 * c_1) / ddf
    if not cd > 0:
        # lavaan's lav_test_diff_SatorraBentler2001: "scaling factor is negative" → NA; a negative χ² is no test
        return {"chi2": math.nan, "df": int(ddf), "pvalue": math.nan, "scaling_factor": float(cd)}
    t = (chi2_0 - chi2_1) / cd
    return {"chi2": float(t), "df": int(ddf), "pvalue": float(stats.chi2.sf(t, ddf)), "scaling_factor": float(cd)}
