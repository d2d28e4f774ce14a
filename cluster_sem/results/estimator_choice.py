"""The "estimator choice" note: should these Likert items be treated as ordered categories (WLSMV)?

Rule (Rhemtulla, Brosseau-Liard & Savalei 2012; Finney & DiStefano 2013): with five or more categories
and roughly symmetric answers, ML (or MLR) on the codes is fine; with fewer than five categories used, or
strongly asymmetric answers (|skewness| > 1, typically answers piled up at "agree"), loadings and fit from
ML are biased and WLSMV with polychoric correlations is recommended.  Computed from the observed category
counts of every item, so the report can say *why*.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

FEW_CATEGORIES = 5
SKEW_LIMIT = 1.0


def estimator_choice(frame: pd.DataFrame, items: list[str], used: str) -> dict:
    """{recommended, used, min_categories, max_abs_skewness, few_categories: [...], asymmetric: [...]}."""
    few, asym, n_cat, skews = [], [], [], []
    for item in items:
        x = frame[item].dropna().to_numpy(dtype=float)
        k = len(np.unique(x))
        sd = x.std()
        skew = float(((x - x.mean()) ** 3).mean() / sd ** 3) if sd > 0 else 0.0
        n_cat.append(k)
        skews.append(abs(skew))
        if k < FEW_CATEGORIES:
            few.append(item)
        if abs(skew) > SKEW_LIMIT:
            asym.append(item)
    recommended = "WLSMV" if few or asym else "ML"
    return {"recommended": recommended, "used": used.upper(),
            "min_categories": int(min(n_cat)) if n_cat else None,
            "max_abs_skewness": float(max(skews)) if skews else None,
            "few_categories": few, "asymmetric": asym,
            "rule": f"WLSMV if an item uses fewer than {FEW_CATEGORIES} categories or |skewness| > {SKEW_LIMIT:g}"}
