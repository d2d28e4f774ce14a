"""en / zh phrases for ordinal items (WLSMV): estimator block, estimator-choice note, ordinal reliability.
Merged into ``labels.LABELS`` at import, so templates use them through the same ``t(key)``."""
from __future__ import annotations

ORDINAL_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "sec_estimator_choice": "Estimator choice",
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
    },
    "zh": {
        "sec_estimator_choice": "估计方法的选择",
        "ordinal_rel_table": "有序类别题目的信度",
        "omega_cat": "ω（类别）",
        "alpha_ord": "α（有序）",
        "alpha_raw": "α（题目编码）",
        "omega_latent": "ω（潜在反应）",
        "ordinal_rel_note": "ω（类别）= Green & Yang (2009) 观测总分信度，与 semTools compRelSEM(ord.scale = TRUE) 一致；"
                            "α（有序）= 由多分格相关计算的 Cronbach α（Zumbo 等, 2007），针对潜在反应；"
                            "α（题目编码）把编码视为连续变量；ω（潜在反应）= 潜在反应的组合信度（ord.scale = FALSE）。",
    },
}
