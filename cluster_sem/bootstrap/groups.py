"""Bootstrap of multigroup / mean-structure fits: cases are resampled *within* each group.

Why within groups: the group sizes are part of the design (lavaan's bootstrap also resamples each group
separately), so every replicate keeps n_g per group.  Group g's rows are drawn from
``SeedSequence(seed, spawn_key=(g,))`` — a function of the seed only.  Each replicate's per-group means
and ML covariances come from one BLAS call (``batched.sample_moments``); all replicates are fitted
together by the batched quasi-Newton engine (``batched.batched_quasi_newton``) on the fit's own objective
(``objective_ml.MLObjective`` with ``BatchStats``), warm-started at θ̂ with the inverse expected Hessian
as metric; replicates that do not converge there are refitted one by one (``fit_groups.estimate``).
Multigroup FIML fits (``objective_fiml.FimlObjective``) resample the same way, but a replicate is a vector
of case weights per group (``FimlReplicates``): rows keep their blanks and all replicates share the
original rows' missing-data patterns.
"""
from __future__ import annotations

import time

import numpy as np

from ..model.fit_groups import estimate
from ..model.inference import defined_values
from ..model.objective_ml import BatchStats
from ..model.sample_stats import SampleStats
from ..rng import generator
from .batched import CHUNK, admissible, batched_quasi_newton, sample_moments

RULE_GROUPS = ("cases resampled within each group; a resample counts as converged when max|dF/dtheta| < 1e-9 "
               "after batched quasi-Newton iterations from the full-sample estimates or, failing that, after a "
               "single-sample refit; resamples that still fail (or whose covariance is singular in a group) are "
               "excluded from SEs and CIs, inadmissible but converged solutions are kept, as lavaan does")


FIML_NOTE = ("; FIML: resampled rows keep their blanks and every resample is refitted by multigroup FIML "
             "(F = 2(logL_h1 - logL)/N); a resample in which some item has fewer than two answers in a group "
             "is excluded")


def group_resample_indices(ns: tuple[int, ...], B: int, seed: int) -> list[np.ndarray]:
    """Row indices (B, n_g) of every group's resamples, a pure function of (n_g, g, seed)."""
    return [generator(seed, g).integers(0, n, size=(B, n))
            for g, n in enumerate(ns)]


class MomentReplicates:
    """Complete data: every replicate is summarised by its per-group means and ML covariances."""

    def __init__(self, stats: SampleStats, indices: list[np.ndarray]):
        moments = [sample_moments(x, idx) for x, idx in zip(stats.data, indices)]
        self.stats = stats
        self.mean = np.stack([m for m, _ in moments])          # (G, B, p)
        self.cov = np.stack([c for _, c in moments])           # (G, B, p, p)
        with np.errstate(all="ignore"):
            self.logdet = np.linalg.slogdet(self.cov)[1]
            self.ok = (np.linalg.eigvalsh(self.cov).min(axis=2) > 1e-12).all(axis=0)

    def chunk(self, sl: np.ndarray):
        """rows → the objective's batch of the replicates ``sl[rows]``."""
        st = self.stats
        return lambda rows: BatchStats(self.cov[:, sl[rows]], self.mean[:, sl[rows]], self.logdet[:, sl[rows]],
                                       st.weights)

    def refit(self, objective, r: int, start: np.ndarray):
        st = self.stats
        one = SampleStats(st.ov, st.groups, st.n, self.cov[:, r], self.mean[:, r], self.logdet[:, r])
        return estimate(objective, one, start)

    def exo_cov(self, g: int, rows: np.ndarray) -> np.ndarray:
        return self.cov[g][rows]


class FimlReplicates:
    """FIML: a replicate is a vector of case weights per group; rows keep their blanks and the patterns
    of the original rows are shared by all replicates (``FimlBatch``: weighted pattern sums).  The fixed.x
    block stays at the full-sample EM moments, as in the single-group FIML bootstrap."""

    def __init__(self, stats, indices: list[np.ndarray]):
        self.stats = stats
        self.weights = []
        for x, idx in zip(stats.data, indices):
            B, n = idx.shape
            w = np.zeros((B, n))
            np.add.at(w, (np.repeat(np.arange(B), n), idx.ravel()), 1.0)
            self.weights.append(w)
        # every item needs answers from at least two drawn cases in every group
        self.ok = np.all([(w @ ~np.isnan(x) >= 2).all(axis=1) for w, x in zip(self.weights, stats.data)], axis=0)

    def _batch(self, rows: np.ndarray):
        from ..model.objective_fiml import FimlBatch
        return FimlBatch.from_stats(self.stats, [w[rows] for w in self.weights])

    def chunk(self, sl: np.ndarray):
        batch = self._batch(sl)
        return batch.take

    def refit(self, objective, r: int, start: np.ndarray):
        return estimate(objective, self.stats, start, batch=self._batch(np.array([r])))

    def exo_cov(self, g: int, rows: np.ndarray) -> np.ndarray:
        return np.repeat(self.stats.cov[g][None], len(rows), axis=0)


def run_group_bootstrap(fit, *, B: int, seed: int, level: float = 0.95, percentile: str = "norm.inter",
                        tol: float = 1e-9, max_iter: int = 100):
    """Bootstrap a ``ModelFit`` from ``fit_groups``; returns a ``BootstrapResult`` (in-process)."""
    from . import BootstrapResult, replicate_summaries
    t0 = time.perf_counter()
    stats, objective, pt = fit.sample, fit.objective, fit.partable
    indices = group_resample_indices(stats.n, B, seed)
    from ..model.objective_fiml import FimlObjective
    fiml = isinstance(objective, FimlObjective)
    reps = FimlReplicates(stats, indices) if fiml else MomentReplicates(stats, indices)
    H = objective.expected_hessian(fit.theta, stats)
    try:
        metric_inv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        metric_inv = np.linalg.pinv(H)
    theta = np.empty((B, pt.n_free))
    converged = np.zeros(B, dtype=bool)
    for lo in range(0, B, CHUNK):
        sl = np.arange(lo, min(lo + CHUNK, B))
        batch_of = reps.chunk(sl)

        def grad(th, rows, batch_of=batch_of):
            return objective(th, batch_of(rows))

        theta[sl], converged[sl], _ = batched_quasi_newton(grad, len(sl), fit.theta, metric_inv, tol=tol,
                                                           max_iter=max_iter)
    converged &= reps.ok
    fallback = np.zeros(B, dtype=bool)
    for r in np.flatnonzero(~converged & reps.ok):
        start = theta[r] if np.all(np.isfinite(theta[r])) else fit.theta
        try:
            with np.errstate(all="ignore"):
                sol = reps.refit(objective, r, start)
        except (np.linalg.LinAlgError, ValueError):
            continue
        if sol.converged and sol.max_gradient < 10 * tol:
            theta[r], converged[r], fallback[r] = sol.theta, True, True
    theta[~converged] = np.nan
    ok = np.zeros(B, dtype=bool)
    if converged.any():
        ok[converged] = True
        rows = np.flatnonzero(converged)
        for g, mm in enumerate(fit.group_model.blocks):
            with np.errstate(all="ignore"):
                ok[converged] &= admissible(pt.group_view(g), mm, theta[converged], reps.exo_cov(g, rows))
    with np.errstate(all="ignore"):
        dvals = defined_values(pt, theta)
    param_se, defined = replicate_summaries(fit, theta, dvals, converged, level, percentile)
    return BootstrapResult(
        B=B, seed=seed, level=level, n_converged=int(converged.sum()), n_nonconverged=int((~converged).sum()),
        n_inadmissible=int((converged & ~ok).sum()), n_fallback=int(fallback.sum()),
        rule=RULE_GROUPS + (FIML_NOTE if fiml else ""),
        param_se=np.asarray(param_se, dtype=float), defined=defined, seconds=time.perf_counter() - t0,
        jobs=1, backend="in-process", estimates=theta, defined_estimates=dvals, converged=converged,
        admissible=ok)
