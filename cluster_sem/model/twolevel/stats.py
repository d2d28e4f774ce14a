"""Sample statistics of clustered data, as lavaan's ``lav_samplestats_cluster_patterns`` (YLp) computes them.

The two-level likelihood needs only: the pooled within-cluster covariance S_PW of the level-1 variables,
and per distinct cluster size the mean and covariance of the cluster means (``mean_d``/``cov_d``).  Clusters
of equal size share one Σ_j, so grouping by size (not by cluster) is what keeps the likelihood cheap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClusterStats:
    y_names: tuple[str, ...]      # level-1 variables (within-only and both), in the within model's order
    z_names: tuple[str, ...]      # between-only variables
    n: int                        # rows (level-1 units)
    n_clusters: int
    cluster_size: np.ndarray      # (n_clusters,) size of each cluster
    sizes: np.ndarray             # distinct cluster sizes, ascending
    size_count: np.ndarray        # clusters per distinct size
    s_pw: np.ndarray              # pooled within covariance of y, divided by n − n_clusters
    mean_d: tuple[np.ndarray, ...]  # per size: mean of the cluster means, order (z, y)
    cov_d: tuple[np.ndarray, ...]   # per size: covariance (/n_s) of the cluster means, order (z, y)
    y2: np.ndarray                # (n_clusters, z + y) cluster means, order (z, y)
    y1y1: np.ndarray              # raw cross-product Σ y_i y_i' of the level-1 variables (EM needs it)
    total_cov: np.ndarray         # covariance (/n) of the level-1 variables: lavaan's fixed.x values at level 1
    total_mean: np.ndarray        # means of the level-1 variables
    between_cov: np.ndarray       # covariance (/n_clusters) of the cluster means, order (z, y)
    between_mean: np.ndarray      # mean of the cluster means, order (z, y)

    @property
    def p_y(self) -> int:
        return len(self.y_names)

    @property
    def p_z(self) -> int:
        return len(self.z_names)


def cluster_stats(y: np.ndarray, z: np.ndarray, cluster: np.ndarray, y_names, z_names) -> ClusterStats:
    """Statistics of complete rows ``y`` (n, p_y) and between-only columns ``z`` (n, p_z), constant within a
    cluster, grouped by ``cluster`` labels (any hashable values, order of first appearance irrelevant)."""
    _, index, size = np.unique(cluster, return_inverse=True, return_counts=True)
    n, n_clusters = y.shape[0], len(size)
    data = np.hstack([z, y])
    y2 = np.zeros((n_clusters, data.shape[1]))
    np.add.at(y2, index, data)
    y2 /= size[:, None]
    p_z = z.shape[1]
    within = y - y2[index, p_z:]
    sizes, size_count = np.unique(size, return_counts=True)
    mean_d, cov_d = [], []
    for nj in sizes:
        block = y2[size == nj]
        mean_d.append(block.mean(axis=0))
        centred = block - mean_d[-1]
        cov_d.append(centred.T @ centred / len(block))
    centred_y = y - y.mean(axis=0)
    centred_b = y2 - y2.mean(axis=0)
    return ClusterStats(
        y_names=tuple(y_names), z_names=tuple(z_names), n=n, n_clusters=n_clusters, cluster_size=size,
        sizes=sizes, size_count=size_count, s_pw=within.T @ within / (n - n_clusters),
        mean_d=tuple(mean_d), cov_d=tuple(cov_d), y2=y2, y1y1=y.T @ y,
        total_cov=centred_y.T @ centred_y / n, total_mean=y.mean(axis=0),
        between_cov=centred_b.T @ centred_b / n_clusters, between_mean=y2.mean(axis=0))
