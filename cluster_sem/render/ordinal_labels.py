"""en / zh phrases for ordinal items (WLSMV): estimator block, estimator-choice note, ordinal reliability.
Merged into ``labels.LABELS`` at import, so templates use them through the same ``t(key)``."""
from __future__ import annotations

ORDINAL_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "method_ML": "ML (maximum likelihood on the item codes; expected-information SEs)",
        "method_WLSMV": "WLSMV (items as ordered categories: thresholds and polychoric correlations, DWLS with "
                        "diagonal weights, robust SEs, mean-and-variance adjusted χ²)",
        "sec_estimator_choice": "Estimator choice",
        "choice_wlsmv": "Some items use fewer than {k} answer categories or have strongly asymmetric answers "
                        "(|skewness| > {s}): {items}. ML on the raw codes would bias loadings and fit "
                        "(Rhemtulla, Brosseau-Liard & Savalei, 2012); WLSMV, which treats the answers as ordered "
                        "categories, is recommended.",
        "choice_ml": "Every item uses at least {k} answer categories and answers are roughly symmetric "
                     "(|skewness| ≤ {s}); ML (or MLR) on the item codes is fine (Rhemtulla et al., 2012).",
        "choice_used": "Estimator used: {used}.",
        "choice_mismatch": "The estimator used differs from the recommendation; rerun with --estimator {rec} to compare.",
        "ordinal_rel_table": "Reliability of ordinal items",
        "omega_cat": "ω (categorical)",
        "alpha_ord": "α (ordinal)",
        "alpha_raw": "α (item codes)",
        "omega_latent": "ω (latent responses)",
        "ordinal_rel_note": "ω (categorical) = Green & Yang (2009) reliability of the observed sum score, as "
                            "semTools compRelSEM(ord.scale = TRUE); α (ordinal) = Cronbach's α from the polychoric "
                            "correlations (Zumbo et al., 2007), which refers to the latent responses; α (item codes) "
                            "treats the codes as continuous; ω (latent responses) = composite reliability of the "
                            "latent responses (ord.scale = FALSE).",
        "fit_scaled_note": "WLSMV: χ² is the scaled-shifted statistic; CFI, TLI and RMSEA are the scaled versions.",
    },
    "zh": {
        "method_ML": "ML（以题目编码作极大似然估计；期望信息矩阵标准误）",
        "method_WLSMV": "WLSMV（题目作为有序类别：阈值与多分格相关，对角加权最小二乘 DWLS，稳健标准误，均值与方差校正 χ²）",
        "sec_estimator_choice": "估计方法的选择",
        "choice_wlsmv": "部分题目使用的作答类别少于 {k} 个，或作答分布明显偏斜（|偏度| > {s}）：{items}。"
                        "对原始编码使用 ML 会使载荷和拟合指标产生偏差（Rhemtulla, Brosseau-Liard & Savalei, 2012）；"
                        "建议使用把作答视为有序类别的 WLSMV。",
        "choice_ml": "所有题目至少使用 {k} 个作答类别且分布大致对称（|偏度| ≤ {s}）；对题目编码使用 ML（或 MLR）即可"
                     "（Rhemtulla 等, 2012）。",
        "choice_used": "本报告使用的估计方法：{used}。",
        "choice_mismatch": "所用估计方法与建议不同；可用 --estimator {rec} 重新运行以作比较。",
        "ordinal_rel_table": "有序类别题目的信度",
        "omega_cat": "ω（类别）",
        "alpha_ord": "α（有序）",
        "alpha_raw": "α（题目编码）",
        "omega_latent": "ω（潜在反应）",
        "ordinal_rel_note": "ω（类别）= Green & Yang (2009) 观测总分信度，与 semTools compRelSEM(ord.scale = TRUE) 一致；"
                            "α（有序）= 由多分格相关计算的 Cronbach α（Zumbo 等, 2007），针对潜在反应；"
                            "α（题目编码）把编码视为连续变量；ω（潜在反应）= 潜在反应的组合信度（ord.scale = FALSE）。",
        "fit_scaled_note": "WLSMV：χ² 为均值与方差校正（scaled-shifted）统计量；CFI、TLI 与 RMSEA 为校正后的版本。",
    },
}
