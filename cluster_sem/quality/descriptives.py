"""Item descriptives as SPSS reports them: mean, SD (N − 1), skewness G1 and excess kurtosis G2 (the
bias-adjusted estimators, ``scipy.stats.skew/kurtosis(bias=False)``), min, max and % missing."""
from __future__ import annotations

import pandas as pd
from scipy import stats


def item_descriptives(raw: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    rows = []
    for item in items:
        col = pd.to_numeric(raw[item], errors="coerce")
        x = col.dropna().to_numpy(dtype=float)
        rows.append({"item": item, "n": int(len(x)), "mean": float(x.mean()) if len(x) else None,
                     "sd": float(x.std(ddof=1)) if len(x) > 1 else None,
                     "skewness": float(stats.skew(x, bias=False)) if len(x) > 2 else None,
                     "kurtosis": float(stats.kurtosis(x, bias=False)) if len(x) > 3 else None,
                     "min": float(x.min()) if len(x) else None, "max": float(x.max()) if len(x) else None,
                     "pct_missing": float(100 * col.isna().mean())})
    return pd.DataFrame(rows)
