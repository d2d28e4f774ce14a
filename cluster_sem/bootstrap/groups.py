"""Bootstrap of multigroup / mean-structure fits: cases are resampled *within* each group.

Why within groups: the group sizes are part of the design (lavaan's bootstrap also resamples each group
separately), so every replicate keeps n_g per group.  Group g's rows are drawn from
``SeedSequence(seed, spawn_key=(g,))`` — a function of the seed only.  Each replicate's per-group means
and ML covariances come from one BLAS call (``batched.sample_moments``); all replicates are fitted
together by the batched quasi-Newton engine (``batched.batched_quasi_newton``) on the fit's own objective
(``objective_ml.MLObjective`` with ``BatchStats``), warm-started at θ̂ with the inverse expected Hessian
as metric; replicates that do not converge there are refitted one by one (``fit_groups.estimate``).
"""
from __future__ import annotations

import time

import numpy as np

from ..model.fit_groups import estimate
from ..model.inference import defined_values
from ..model.objective_ml import BatchStats
from ..model.sample_stats import SampleStats
from .batched import CHUNK, admissible, batched_quasi_newton, sample_moments

RULE_GROUPS = ("cases resampled within each group; a resample counts as converged when max|dF/dtheta| < 1e-9 "
               "after batched quasi-Newton iterations from the full-sample estimates or, failing that, after a "
               "single-sample refit; resamples that still fail (or whose covariance is singular in a group) are "
               "excluded from SEs and CIs, inadmissible but converged solutions are kept, as lavaan does")


def group_resample_indices(ns: tuple[int, ...], B: int, seed: int) -> list[np.ndarray]:
    """Row indices (B, n_g) of every group's resamples, a pure function of (n_g, g, seed)."""
    return [np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(g,))).integers(0, n, size=(B, n))
            for g, n in enumerate(ns)]


def run_group_bootstrap(fit, *, B: int, seed: int, level: float = 0.95, percentile: str = "norm.inter",
                        tol: float = 1e-9, max_iter: int = 100):
    """Bootstrap a ``ModelFit`` from ``fit_groups``; returns a ``BootstrapResult`` (in-process)."""
    from . import BootstrapResult, replicate_summaries
    t0 = time.perf_counter()
    stats, objective, pt = fit.sample, fit.objective, fit.partable
    moments = [sample_moments(x, idx) for x, idx in zip(stats.data, group_resample_indices(stats.n, B, seed))]
    mean = np.stack([m for m, _ in moments])          # (G, B, p)
    cov = np.stack([s for _, s in moments])           # (G, B, p, p)
    with np.errstate(all="ignore"):
        logdet = np.linalg.slogdet(cov)[1]
        pd_ok = (np.linalg.eigvalsh(cov).min(axis=2) > 1e-12).all(axis=0)
    H = objective.expected_hessian(fit.theta, stats)
    try:
        metric_inv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        metric_inv = np.linalg.pinv(H)
    theta = np.empty((B, pt.n_free))
    converged = np.zeros(B, dtype=bool)
    for lo in range(0, B, CHUNK):
        sl = np.arange(lo, min(lo + CHUNK, B))

        def grad(th, rows, sl=sl):
            r = sl[rows]
            return objective(th, BatchStats(cov[:, r], mean[:, r], logdet[:, r], stats.weights))

        theta[sl], converged[sl], _ = batched_quasi_newton(grad, len(sl), fit.theta, metric_inv, tol=tol,
                                                           max_iter=max_iter)
    converged &= pd_ok
    fallback = np.zeros(B, dtype=bool)
    for r in np.flatnonzero(~converged & pd_ok):
        one = SampleStats(stats.ov, stats.groups, stats.n, cov[:, r], mean[:, r], logdet[:, r])
        start = theta[r] if np.all(np.isfinite(theta[r])) else fit.theta
        try:
            with np.errstate(all="ignore"):
                sol = estimate(objective, one, start)
        except (np.linalg.LinAlgError, ValueError):
            continue
        if sol.converged and sol.max_gradient < 10 * tol:
            theta[r], converged[r], fallback[r] = sol.theta, True, True
    theta[~converged] = np.nan
    ok = np.zeros(B, dtype=bool)
    if converged.any():
        ok[converged] = True
        for g, mm in enumerate(fit.group_model.blocks):
            with np.errstate(all="ignore"):
                ok[converged] &= admissible(pt.group_view(g), mm, theta[converged], cov[g][converged])
    with np.errstate(all="ignore"):
        dvals = defined_values(pt, theta)
    param_se, defined = replicate_summaries(fit, theta, dvals, converged, level, percentile)
    return BootstrapResult(
        B=B, seed=seed, level=level, n_converged=int(converged.sum()), n_nonconverged=int((~converged).sum()),
        n_inadmissible=int((converged & ~ok).sum()), n_fallback=int(fallback.sum()), rule=RULE_GROUPS,
        param_se=np.asarray(param_se, dtype=float), defined=defined, seconds=time.perf_counter() - t0,
        jobs=1, backend="in-process", estimates=theta, defined_estimates=dvals, converged=converged,
        admissible=ok)
