"""Nonparametric bootstrap of a WLSMV fit: every resample recomputes thresholds, (residual) polychoric
correlations and their DWLS weights, then refits by DWLS warm-started at the estimate — as lavaan's
``bootstrapLavaan`` refits the whole WLSMV model on each resample.

Batched: a resample is a vector of case multiplicities.  Without covariates the bivariate tables of all
pairs *and* all resamples of a block go through one vectorised two-step polychoric fit (``two_step`` with
weights); with covariates (conditional.x) the per-case bivariate likelihood is vectorised over pairs and
cases, and the probits warm-start by Newton.  Resample indices come from ``resample.block_indices`` (seed
only), so results do not depend on block sizes.  Resamples in which a category disappears or the fit fails
are dropped and counted (lavaan drops failed replicates); inadmissible ones (negative residual variance)
are kept and counted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.inference import defined_values
from ..model.ordinal.conditional import conditional_stats
from ..model.ordinal.delta import delta_model
from ..model.ordinal.dwls import ModelVector, gauss_newton
from ..model.ordinal.fit import model_moments
from ..model.ordinal.samplestats import covariate_covariance, ordinal_stats, resample_stats
from ..model.partable import build_partable
from . import BootstrapResult
from .ci import bootstrap_se
from .resample import block_indices, block_range

RULE_WLSMV = ("WLSMV resamples: thresholds, polychorics and DWLS weights recomputed, DWLS refit warm-started "
              "at the estimate; failed resamples (a category empty, no convergence) dropped, inadmissible kept")
BATCH = 50


@dataclass(frozen=True)
class WLSMVBootstrapSetup:
    """Everything a resample refit needs, built once from the fitted model."""

    dm: object
    mv: ModelVector
    stats: object
    S: np.ndarray
    X: np.ndarray | None
    theta: np.ndarray


def setup(fit, frame: pd.DataFrame) -> WLSMVBootstrapSetup:
    pt = build_partable(fit.syntax)
    covariates = list(pt.variables.ov_x)
    items = [v for v in pt.variables.ov if v not in covariates]
    st = ordinal_stats(frame[items + covariates], items, covariates)
    dm = delta_model(pt, tuple(items))
    S = model_moments(dm, st, frame)
    mv = ModelVector(dm, st.n_thresholds, st.pair_a, st.pair_b)
    theta = np.zeros(mv.q)
    keep = dm.full_index >= 0
    theta[dm.full_index[keep]] = np.asarray(fit.theta)[keep]
    P = fit.parameters
    theta[mv.q_model:] = P.loc[P.op == "|", "est"].to_numpy(dtype=float)
    X = frame[covariates].to_numpy(dtype=float) if covariates else None
    return WLSMVBootstrapSetup(dm, mv, st, S, X, theta)


def resample_moments(su: WLSMVBootstrapSetup, weights: np.ndarray):
    """(s, diag Γ, S) per resample; None entries for resamples that cannot be used."""
    st = su.stats
    R = weights.shape[0]
    out = [None] * R
    if su.X is None:
        # resamples that lost a category stay out of the batch: their bivariate tables make the
        # influence-function system singular for the whole batch
        usable = [r for r in range(R) if _categories_present(st, weights[r])]
        if not usable:
            return out
        try:
            s, dg = resample_stats(st.coding, weights[usable])
        except np.linalg.LinAlgError:                  # one degenerate resample: the others one by one
            return [resample_moments(su, weights[r:r + 1])[0] if r in usable else None for r in range(R)] \
                if len(usable) > 1 else out
        for j, r in enumerate(usable):
            ok = np.all(np.isfinite(s[j])) and np.all(np.isfinite(dg[j])) and np.all(dg[j] > 0)
            out[r] = (s[j], dg[j], su.S) if ok else None
        return out
    ia, ib = st.pair_a, st.pair_b
    rho0 = st.correlation[ib, ia]
    for r in range(R):
        w = weights[r]
        if not _categories_present(st, w):
            continue
        res = conditional_stats(st.coding, su.X, rho0, ia, ib, weights=w, start=(st.bounds, st.slopes),
                                diagonal_only=True, newton_steps=8)
        if res is None:
            continue
        _, th, sl, rho, dg = res
        S = su.S.copy()
        x = su.dm.x_idx
        S[np.ix_(x, x)] = covariate_covariance(su.X, w)
        s = np.concatenate([th, sl.ravel(), rho])
        if np.all(np.isfinite(s)) and np.all(dg > 0):
            out[r] = (s, dg, S)
    return out


def _categories_present(st, w: np.ndarray) -> bool:
    """False when a category of some item has no case in the resample (its threshold is not defined)."""
    return all(np.bincount(st.coding.codes[:, v], weights=w, minlength=k)[:k].min() > 0
               for v, k in enumerate(st.coding.n_categories))


def refit(su: WLSMVBootstrapSetup, moments) -> tuple[np.ndarray | None, bool]:
    """DWLS refit of one resample: (θ_full with thresholds appended, admissible)."""
    s, dg, S = moments
    sol = gauss_newton(su.mv, s, 1.0 / dg, S, su.theta.copy(), tol=1e-7, max_iter=100)
    if not sol.converged or not np.all(np.isfinite(sol.theta)):
        return None, False
    full = su.dm.to_full(sol.theta[: su.mv.q_model], S)
    admissible = bool(np.all(full[su.dm.resid_free] >= 0))
    return np.concatenate([full, sol.theta[su.mv.q_model:]]), admissible


def run_bootstrap_wlsmv(fit, frame: pd.DataFrame, *, B: int, seed: int, level: float = 0.95,
                        quiet: bool = True, percentile: str = "norm.inter", jobs: int = 1,
                        scheduler=None) -> BootstrapResult:
    """Percentile and BC CIs for the defined effects, bootstrap SEs for every parameter row.

    Blocks of ``resample.BLOCK`` resamples run through ``parallel.run_tasks`` (``jobs`` processes or a
    dask ``scheduler``, as the ML bootstrap); indices depend on the seed only, so results do not depend on
    ``jobs``.  BLAS is held to one thread: the matrices are small and many, and multi-threaded BLAS on a
    shared machine made each 243×243 solve ~100× slower (measured)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        return _run(fit, frame, B=B, seed=seed, level=level, quiet=quiet, percentile=percentile, jobs=jobs,
                    scheduler=scheduler)


def fit_block(su: WLSMVBootstrapSetup, B: int, seed: int, k: int):
    """Block k of the resamples: (first replicate, estimates, converged, admissible, category lost).

    A resample in which some category of some item has no case cannot be refitted with the model's
    thresholds (lavaan's refit fails on it too): it is dropped and counted separately from the fits
    that do not converge."""
    n = su.stats.n
    first, stop = block_range(B, k)
    idx = block_indices(n, B, seed, k)
    size = stop - first
    est = np.full((size, su.dm.full.n_free + su.mv.n_th), np.nan)
    conv, adm, lost = (np.zeros(size, dtype=bool) for _ in range(3))
    for lo in range(0, size, BATCH):
        hi = min(lo + BATCH, size)
        weights = np.stack([np.bincount(row, minlength=n) for row in idx[lo:hi]]).astype(float)
        for r, mom in enumerate(resample_moments(su, weights)):
            if mom is None:
                lost[lo + r] = not _categories_present(su.stats, weights[r])
                continue
            theta, ok = refit(su, mom)
            if theta is not None:
                est[lo + r], conv[lo + r], adm[lo + r] = theta, True, ok
    return first, est, conv, adm, lost


def _run(fit, frame: pd.DataFrame, *, B: int, seed: int, level: float, quiet: bool,
         percentile: str, jobs: int = 1, scheduler=None) -> BootstrapResult:
    from . import defined_summaries
    from .parallel import backend_name, run_replicate_blocks
    t0 = time.perf_counter()
    su = setup(fit, frame)
    blocks = run_replicate_blocks(fit_block, su, B, seed, desc="bootstrap (WLSMV)", jobs=jobs, scheduler=scheduler,
                                  quiet=quiet)
    est, conv, adm, lost = (np.concatenate([blk[j] for blk in blocks]) for j in range(1, 5))
    _require_replicates(conv, lost, B)
    q_full = su.dm.full.n_free
    pt = su.dm.full
    dvals = defined_values(pt, est[:, :q_full]) if pt.defined else np.zeros((B, 0))
    defined = defined_summaries(fit, pt.defined, dvals[conv], level, percentile)
    param_se = _row_se(fit.parameters, pt, su, est[conv], {d["name"]: d["se"] for d in defined})
    return BootstrapResult(
        B=B, seed=seed, level=level, n_converged=int(conv.sum()), n_nonconverged=int((~conv).sum()),
        n_inadmissible=int((conv & ~adm).sum()), n_fallback=0, rule=RULE_WLSMV,
        param_se=param_se, defined=defined, seconds=time.perf_counter() - t0,
        jobs=jobs, backend=backend_name(jobs, scheduler), estimates=est,
        defined_estimates=dvals, converged=conv, admissible=adm, n_lost_category=int(lost.sum()))


def _require_replicates(conv: np.ndarray, lost: np.ndarray, B: int) -> None:
    """Refuse a bootstrap with fewer than two usable resamples: its SEs and CIs would be empty (null in
    results.json) or degenerate, yet the report would still read as a bootstrap. Items with many rare
    categories (e.g. continuous scores under WLSMV) lose a category in every resample."""
    if int(conv.sum()) >= 2:
        return
    from ..errors import FitError
    why = (f"{int(lost.sum())} lost a category of some item (an answer too rare to appear in every resample)"
           if lost.any() else "none converged")
    raise FitError(f"--bootstrap {B} with WLSMV: only {int(conv.sum())} of {B} resamples could be refitted "
                   f"({why}), so no bootstrap SE or CI exists. Fix: drop --bootstrap (WLSMV's robust SEs "
                   "need none), or merge rare answer categories; continuous scores need --estimator ML or MLR")


def _row_se(P: pd.DataFrame, pt, su: WLSMVBootstrapSetup, est: np.ndarray, def_se: dict) -> np.ndarray:
    """Bootstrap SE aligned with the rows of ``fit.parameters`` (0 for fixed and derived rows)."""
    free = {(p.lhs, p.op, p.rhs): p.free for p in pt.params if p.free >= 0 and p.free not in set(su.dm.resid_free)}
    q_full = pt.n_free
    th_col = {}
    k = 0
    for item, name in su.stats.threshold_names():
        th_col[(item, "|", name)] = q_full + k
        k += 1
    out = []
    for row in P.itertuples():
        key = (row.lhs, row.op, row.rhs)
        if row.op == ":=":
            out.append(def_se.get(row.lhs, 0.0))
        elif key in th_col:
            out.append(bootstrap_se(est[:, th_col[key]]))
        elif key in free:
            out.append(bootstrap_se(est[:, free[key]]))
        else:
            out.append(0.0)
    return np.asarray(out, dtype=float)
