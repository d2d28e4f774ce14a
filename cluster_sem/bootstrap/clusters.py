"""Cluster bootstrap: resample whole clusters (with their firms' sampling weights), refit by batched ML.

Why clusters, not firms: firms of one cluster share suppliers, institutions and shocks, so a resample must
keep them together for its spread to reflect the sampling of clusters (the two-stage design); a case
bootstrap treats every firm as an independent draw and understates the variability as naive SEs do.

Resampling (Davison & Hinkley 1997, §3.8 "strategy 1"; Mplus/lavaan-style complex-sample practice): each
resample draws G clusters with replacement out of the G observed; a drawn cluster brings all its rows, each
with its own sampling weight.  Within a resample the weights are renormalised (the resample's weighted ML
moments divide by the sum of its weights), exactly as ``SampleDesign`` normalises them for the full sample
(lavaan's ``sampling.weights.normalization = "total"``; scale does not change an ML estimate).  The size
of a resample varies with the clusters drawn.

The cluster numbers of block k come from ``resample.block_indices(G, B, seed, k)`` — the stream the case
bootstrap draws row numbers from, with G in place of n — so results do not depend on ``jobs`` and, with
clusters of size 1 in row order, a cluster bootstrap draws exactly the case bootstrap's resamples.

Point estimates per resample are those of the fitted model: ML (MLR and ``cluster=`` change only SEs) on
the resample's weighted covariance, through the complete-data batched engine (``batched``).  When the model
has a mean structure (``cluster=`` gives it one) the resample's weighted means of the non-fixed.x variables
are appended to θ, as the FIML engine appends its means, so the ``~1`` rows get bootstrap SEs too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .batched import BlockResult, ModelCore, draw_counts, fit_covariance_block, make_core, weighted_moments

RULE_CLUSTER = ("cluster bootstrap: each resample draws the clusters with replacement and keeps every firm of a "
                "drawn cluster with its sampling weight (weights renormalised within the resample); ")


@dataclass(frozen=True)
class ClusterCore(ModelCore):
    """A ``ModelCore`` whose resampling unit is the cluster (picklable, read-only, sent once per worker)."""

    cluster: np.ndarray | None = None        # 0..G−1 code per row of ``data``
    sampling_weights: np.ndarray | None = None  # per row, any positive scale (None: all 1)
    free_mu: np.ndarray | None = None        # columns whose resample means follow θ (mean structure), else None

    @property
    def n_units(self) -> int:
        """What ``resample.block_indices`` draws from: the number of clusters."""
        return int(self.cluster.max()) + 1

    @property
    def rule(self) -> str:
        from .batched import RULE
        return RULE_CLUSTER + RULE

    def row_weights(self, draws: np.ndarray) -> np.ndarray:
        """(b, n) weights of the rows in each resample (each row of the result sums to 1) from the cluster
        numbers drawn, ``draws`` (b, G): a row counts as often as its cluster was drawn, times its weight."""
        w = draw_counts(draws, self.n_units)[:, self.cluster]
        if self.sampling_weights is not None:
            w *= self.sampling_weights[None, :]
        w /= w.sum(axis=1, keepdims=True)
        return w

    def fit_resamples(self, draws: np.ndarray, start: int = 0) -> BlockResult:
        """Batched ML fits of the resamples whose cluster numbers are ``draws`` (b, G)."""
        means, S = weighted_moments(self.data, self.row_weights(draws))
        codes = self.cluster

        def rows_of(r: int) -> np.ndarray:   # the resample's rows (semopy fallback only; it ignores weights)
            return np.concatenate([np.flatnonzero(codes == g) for g in draws[r]])

        block = fit_covariance_block(self, S, start, rows_of)
        if self.free_mu is None:
            return block
        mu = np.where(block.converged[:, None], means[:, self.free_mu], np.nan)
        return BlockResult(block.start, np.hstack([block.theta, mu]), block.defined, block.converged,
                           block.admissible, block.fallback, block.iterations)


def make_cluster_core(fit, data, cluster: np.ndarray, weights: np.ndarray | None = None, **kw) -> ClusterCore:
    """ClusterCore from a complete-data ML/MLR ``ModelFit``, its rows (``data``) and the rows' cluster codes
    and sampling weights (``SampleDesign.cluster`` / ``.weights`` of the fit, or any codes)."""
    if getattr(fit, "missing", "listwise") == "ml":
        raise ValueError("the cluster bootstrap takes complete-data fits (--missing listwise)")
    core = make_core(fit, data, **kw)
    codes = np.asarray(cluster)
    if codes.shape != (len(core.data),):
        raise ValueError(f"cluster has {codes.size} codes for {len(core.data)} rows")
    codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
    if codes.max() < 1:
        raise ValueError("the cluster bootstrap needs at least 2 clusters")
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != codes.shape or not np.all(np.isfinite(weights) & (weights > 0)):
            raise ValueError("weights must be one positive finite number per row")
    free_mu = None
    if (fit.parameters.op == "~1").any():
        mm, pt = fit.matrix_model, fit.partable
        x_index = {mm.ov.index(v) for v in pt.variables.ov_x}
        free_mu = np.array([j for j in range(mm.p) if j not in x_index], dtype=int)
    return ClusterCore(core.partable, core.matrix_model, core.data, core.theta_hat, core.metric_inv,
                       tol=core.tol, max_iter=core.max_iter, semopy_fallback=core.semopy_fallback,
                       cluster=codes, sampling_weights=weights, free_mu=free_mu)


__all__ = ["ClusterCore", "RULE_CLUSTER", "make_cluster_core"]
