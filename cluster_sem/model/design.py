"""Complex samples: cluster membership and sampling weights of the analysed cases (lavaan ``cluster=``,
``sampling.weights=``).

Both plug into the casewise (MLR) stages, not a pipeline of their own:
* weights enter the likelihood — ``missing.Patterns.w`` makes every pattern sum, casewise score, EM moment
  and log-likelihood a weighted one (lavaan normalises them to sum to the number of used cases, its
  ``sampling.weights.normalization = "total"``);
* clusters enter only the first-order information (``robust.first_order``): scores summed within each
  cluster, times G/(G − 1) — the sandwich vcov (``se = "robust.cluster"``) and the Yuan–Bentler scaled test.
With either, lavaan's ML becomes robust (sandwich SEs, ``yuan.bentler.mplus`` test), and ``cluster=`` also
gives the model a mean structure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import FitError


@dataclass(frozen=True)
class SampleDesign:
    """Cluster codes (0..G−1 per case) and normalised sampling weights of the cases a model is fitted to."""

    cluster_column: str | None = None
    weights_column: str | None = None
    cluster: np.ndarray | None = None
    weights: np.ndarray | None = None
    robust_sem: bool = False    # WLSMV: the sandwich on the cluster-robust Γ (lavaan "robust.cluster.sem")

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, cluster: str | None = None,
                   weights: str | None = None) -> "SampleDesign":
        """Read the design columns of the rows being fitted (after any case deletion, as lavaan does)."""
        codes = cluster_codes(frame, cluster) if cluster else None
        w = normalised_weights(frame, weights) if weights else None
        return cls(cluster, weights, codes, w)

    @property
    def clustered(self) -> bool:
        return self.cluster is not None

    @property
    def active(self) -> bool:
        return self.cluster is not None or self.weights is not None

    @property
    def n_clusters(self) -> int:
        return int(self.cluster.max()) + 1 if self.cluster is not None else 0

    @property
    def se_name(self) -> str:
        """lavaan's ``se`` option for this design (with a robust estimator)."""
        if self.clustered:
            return "robust.cluster.sem" if self.robust_sem else "robust.cluster"
        return "robust.huber.white"


def _column(frame: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in frame.columns:
        raise FitError(f"{role} column '{name}' is not in the data. Fix: name one of its columns")
    return frame[name]


def cluster_codes(frame: pd.DataFrame, name: str) -> np.ndarray:
    """0..G−1 cluster code per row (order of first appearance; only sums per cluster matter)."""
    col = _column(frame, name, "cluster")
    if col.isna().any():
        raise FitError(f"cluster column '{name}' has {int(col.isna().sum())} blank cell(s). "
                       "Fix: fill in every case's cluster or drop those rows")
    codes = pd.factorize(col.astype(str), sort=False)[0]
    if codes.max() < 1:
        raise FitError(f"cluster column '{name}' has a single cluster. Fix: cluster-robust SEs need several "
                       "clusters; drop the cluster setting")
    return codes.astype(np.int64)


def normalised_weights(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Sampling weights scaled to sum to the number of rows (lavaan ``sampling.weights.normalization =
    "total"``): the weighted log-likelihood then has the size of an n-case sample."""
    col = pd.to_numeric(_column(frame, name, "weights"), errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(col).all() or (col <= 0).any():
        raise FitError(f"weights column '{name}' must hold positive finite numbers in every row. "
                       "Fix: correct or drop the rows with a blank, zero, negative or non-numeric weight")
    return col / col.sum() * len(col)
