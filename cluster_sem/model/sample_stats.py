"""Sample statistics per group — lavaan's ``lavSampleStats`` stage (complete data).

Everything an objective needs from the data lives here, computed once: per group n, the ML covariance
(divisor n, as lavaan for ``likelihood = "normal"``), the means and log|S|.  This is the seam for the
other estimators: FIML adds missing-data patterns (per-pattern n, means, crossproducts) and the
saturated (h1) model; WLSMV adds thresholds, polychoric correlations and their asymptotic covariance.
Add them as new optional fields filled by new functions, so objectives that do not need them ignore them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import FitError


@dataclass(frozen=True)
class SampleStats:
    ov: tuple[str, ...]          # observed variables in model order
    groups: tuple[str, ...]      # group names ("" for a single group)
    n: tuple[int, ...]           # cases per group
    cov: np.ndarray              # (G, p, p) ML covariance, divisor n_g
    mean: np.ndarray             # (G, p)
    logdet: np.ndarray           # (G,) log|S_g|
    data: tuple[np.ndarray, ...] = ()   # raw complete-case rows per group (n_g × p), for resampling
    cluster: tuple[np.ndarray, ...] = ()   # cluster codes 0..G_g−1 of each group's rows (lavaan cluster=), or ()

    @property
    def n_groups(self) -> int:
        return len(self.n)

    @property
    def ntotal(self) -> int:
        return int(sum(self.n))

    @property
    def weights(self) -> np.ndarray:
        """n_g / N: the weight of each group's discrepancy in lavaan's total F."""
        return np.asarray(self.n, dtype=float) / self.ntotal


def ml_covariance(x: np.ndarray) -> np.ndarray:
    """ML covariance (divisor N), as lavaan uses for ``likelihood = "normal"``."""
    xc = x - x.mean(axis=0)
    return xc.T @ xc / x.shape[0]


def group_parts(frame: pd.DataFrame, ov: Sequence[str], *, group: str | None = None,
                groups: Sequence[str] | None = None) -> list[tuple[str, pd.DataFrame]]:
    """(group name, rows) in analysis order — the split every sample-statistics function shares."""
    missing = [v for v in ov if v not in frame.columns]
    if missing:
        raise FitError(f"data has no column(s) {', '.join(missing)} used by the model")
    if group is None:
        return [("", frame)]
    if group not in frame.columns:
        raise FitError(f"data has no group column '{group}'")
    labels = frame[group].astype(str)
    order = list(groups) if groups is not None else list(dict.fromkeys(labels))
    return [(str(g), frame[labels == str(g)]) for g in order]


def sample_statistics(frame: pd.DataFrame, ov: Sequence[str], *, group: str | None = None,
                      groups: Sequence[str] | None = None, cluster: str | None = None) -> SampleStats:
    """Per-group statistics of the complete-case ``frame``.

    ``group`` names a column whose values (already mapped to analysis-group names, as strings) split the
    rows; ``groups`` fixes their order (first = reference group).  Without ``group`` there is one group.
    ``cluster`` names a column of cluster membership, coded within each group: as lavaan
    (``lavdata@Lp[[g]]$cluster.idx``), clusters are nested in groups, so a cluster seen in two groups counts
    as one cluster in each.
    """
    arrays, covs, means, logdets, names, ns, codes = [], [], [], [], [], [], []
    for name, part in group_parts(frame, ov, group=group, groups=groups):
        if cluster is not None:
            codes.append(_group_cluster_codes(part, cluster, name))
        x = part[list(ov)].to_numpy(dtype=float)
        if np.isnan(x).any():
            raise FitError("fit_model needs complete data; clean the data (listwise) first")
        if len(x) < 2:
            raise FitError(f"group '{name}' has {len(x)} case(s); a covariance needs at least 2")
        S = ml_covariance(x)
        if np.linalg.eigvalsh(S).min() <= 1e-12:
            where = f" in group '{name}'" if name else ""
            raise FitError(f"the sample covariance matrix of the model variables is singular{where} ({len(x)} "
                           f"rows, {len(ov)} variables: a constant item, perfectly collinear items or too few cases). "
                           "Fix: check those items for a constant or copied column; merge small groups in the "
                           "spec's group_levels")
        arrays.append(x)
        covs.append(S)
        means.append(x.mean(axis=0))
        logdets.append(np.linalg.slogdet(S)[1])
        names.append(name)
        ns.append(len(x))
    return SampleStats(tuple(ov), tuple(names), tuple(ns), np.stack(covs), np.stack(means),
                       np.asarray(logdets), tuple(arrays), cluster=tuple(codes))


def _group_cluster_codes(part: pd.DataFrame, cluster: str, name: str) -> np.ndarray:
    """One group's cluster codes; a group needs two clusters or more (its meat has the factor G_g/(G_g − 1))."""
    from .design import cluster_codes
    try:
        return cluster_codes(part, cluster)
    except FitError as exc:
        if not name:
            raise
        raise FitError(f"group '{name}': {exc}") from None
