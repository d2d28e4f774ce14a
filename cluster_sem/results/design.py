"""The ``design`` block of results.json (complex samples): clusters, weights, ICCs, design effects.

Written once by the pipeline from the fitted structural model's ``SampleDesign`` (the rows actually fitted)
and the analysed data frame.

ICC: the one-way ANOVA estimator ICC(1) of each item and construct score (mean of its items),
    σ²_B = (MSB − MSW)/n₀,  ICC = σ²_B/(σ²_B + MSW),  n₀ = (N − Σ n_j²/N)/(G − 1)
on the answered cases (negative estimates are reported as 0, as a variance share cannot be negative).  It
is the moment estimator of the random-intercept variance share that lavaan's two-level ICC
(``lavInspect(fit, "icc")``, an EM estimate of the saturated two-level model) estimates by ML: on
Demo.twolevel they agree to .003.  Design effect (Kish): 1 + (m̄ − 1)·ICC with m̄ = n/G the mean cluster
size; effective n = n / design effect.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

MIN_CLUSTERS = 20       # Mplus' authors' advice: cluster-robust SEs need at least 20 clusters (Muthén & Satorra 1995)


def icc1(values: np.ndarray, cluster: np.ndarray) -> float | None:
    """ANOVA ICC(1) of ``values`` grouped by integer ``cluster`` codes (NaN values ignored)."""
    ok = ~np.isnan(values)
    y, c = values[ok], cluster[ok]
    codes, c = np.unique(c, return_inverse=True)
    g, n = len(codes), len(y)
    if g < 2 or n <= g:
        return None
    size = np.bincount(c, minlength=g).astype(float)
    means = np.bincount(c, weights=y, minlength=g) / size
    msb = float((size * (means - y.mean()) ** 2).sum() / (g - 1))
    msw = float(((y - means[c]) ** 2).sum() / (n - g))
    n0 = (n - (size ** 2).sum() / n) / (g - 1)
    between = max((msb - msw) / n0, 0.0)
    total = between + msw
    return between / total if total > 0 else None


def few_clusters_warning(n_clusters: int) -> str:
    """The results.json / terminal wording (the report translates it from its phrase catalogue)."""
    return (f"only {n_clusters} clusters: cluster-robust standard errors are unreliable with fewer than "
            f"{MIN_CLUSTERS} clusters (Mplus' authors advise at least {MIN_CLUSTERS}); some shrink, others "
            "inflate. Alternatives: enter the clusters as fixed effects (dummy controls), or use a cluster "
            "bootstrap of the indirect effects")


MIN_BOOTSTRAP_CLUSTERS = 10   # below this a cluster bootstrap has few distinct resamples (C(2G − 1, G): 126 at G = 5)


def few_clusters_bootstrap_warning(n_clusters: int) -> str:
    """Why a cluster bootstrap with very few clusters is no remedy either: its resamples are multisets of the
    G clusters, only C(2G − 1, G) distinct ones, and its percentile limits are then coarse and too narrow."""
    distinct = math.comb(2 * n_clusters - 1, n_clusters)
    return (f"cluster bootstrap with only {n_clusters} clusters: its resamples come from {distinct} distinct sets "
            f"of clusters, so its percentile limits are coarse and too narrow (at least {MIN_BOOTSTRAP_CLUSTERS} "
            "clusters are advised); read its CIs with care and prefer cluster fixed effects")


def design_block(fit, frame: pd.DataFrame, scores: dict[str, list[str]], *,
                 cluster_bootstrap: bool = False) -> dict | None:
    """The ``design`` block for a fit with a cluster and/or weights column; None without either.

    ``scores``: construct → its items (construct scores = item means, for their ICC).  ``cluster_bootstrap``:
    the run resamples whole clusters (then very few clusters get their own warning)."""
    design = getattr(fit, "design", None)
    if design is None:
        return None
    out: dict = {"cluster": design.cluster_column, "n_clusters": None, "cluster_size": None,
                 "weights": design.weights_column, "se": design.se_name, "test": fit.test_name,
                 "icc": {}, "design_effect": {}, "effective_n": {}, "warnings": []}
    if not design.clustered:
        return out
    codes = design.cluster
    sizes = np.bincount(codes)
    g, n = len(sizes), int(sizes.sum())
    out["n_clusters"] = g
    out["cluster_size"] = {"min": int(sizes.min()), "median": float(np.median(sizes)), "max": int(sizes.max())}
    mean_size = n / g
    cluster = pd.factorize(frame[design.cluster_column].astype(str), sort=False)[0]
    columns = {item: frame[item].to_numpy(dtype=float) for items in scores.values() for item in items}
    columns.update({c: frame[items].mean(axis=1, skipna=True).to_numpy(dtype=float) for c, items in scores.items()})
    for name, values in columns.items():
        icc = icc1(values, cluster)
        out["icc"][name] = icc
        deff = None if icc is None else 1.0 + (mean_size - 1.0) * icc
        out["design_effect"][name] = deff
        out["effective_n"][name] = None if deff is None else n / deff
    if g < MIN_CLUSTERS:
        out["warnings"].append(few_clusters_warning(g))
    if cluster_bootstrap and g < MIN_BOOTSTRAP_CLUSTERS:
        out["warnings"].append(few_clusters_bootstrap_warning(g))
    return out


__all__ = ["design_block", "icc1", "few_clusters_bootstrap_warning", "few_clusters_warning", "MIN_BOOTSTRAP_CLUSTERS",
           "MIN_CLUSTERS"]
