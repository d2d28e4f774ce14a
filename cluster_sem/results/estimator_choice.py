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

from ..lavoptions import categorical

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


def estimator_kind(estimator: str | None, missing: str | None) -> str:
    """The run's estimator as the reports name it: the ``kind`` of its row in the estimator table (``ML``,
    ``MLR``, ``FIML`` = ML with missing = "ml", ``FIML_MLR`` or ``WLSMV``).  Why one name: the test statistic,
    the fit indices and the advice all differ between these, and results.json spreads them over
    ``meta.estimator`` and ``meta.missing``."""
    from ..model.estimators import kind_of
    return kind_of(estimator, missing)


def advised_estimator(recommended: str | None, kurtosis_significant: bool) -> str:
    """The one estimator the report advises: WLSMV when the items call for it (``estimator_choice``),
    otherwise MLR when Mardia's multivariate kurtosis is significant (normal-theory SEs and χ² too
    optimistic), otherwise ML.  Why here: the estimator-choice note and the normality sentence must give
    the same advice, so both read it from this rule instead of each recommending its own estimator."""
    if categorical(recommended):
        return recommended
    return "MLR" if kurtosis_significant else "ML"


def rerun_options(advised: str, estimator: str | None, missing: str | None) -> str | None:
    """The command-line options that rerun the analysis with the advised estimator (None when it, or MLR
    where ML is advised, was used).
    FIML keeps ``--missing fiml`` when the advised estimator has a FIML row in the estimator table; one
    without (WLSMV) needs listwise."""
    used = (estimator or "ML").upper()
    if used == advised or (used == "MLR" and advised == "ML"):   # MLR is ML with robust SEs: never worse
        return None
    if missing != "ml":
        return f"--estimator {advised}"
    from ..model.estimators import find
    return f"--estimator {advised} --missing " + ("listwise" if find(advised, "fiml") is None else "fiml")
