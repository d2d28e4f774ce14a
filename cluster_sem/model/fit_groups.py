"""Fit a multigroup and/or mean-structure model through lavaan's stages, each a pluggable piece:

    sample statistics (``sample_stats``) → parameter table (``partable_groups``) → matrices per group
    (``group_model``) → objective → estimates (Fisher scoring then BFGS, ``estimator.minimise_quasi_newton``)
    → vcov → test → fit indices (``fit_measures_groups``, or the objective's own)

The objective, vcov, test and fit measures are the estimator's ``Stages`` in the estimator table
(``model/estimators``: ``group_stages``, ``cluster_stages`` with ``cluster=``), resolved on use.
``estimators.fit(..., group=...)`` (or ``meanstructure=True``) lands here through the table's
``group_fitter`` (:func:`fit_call`), and so does the plain single-group fit (``fitted.fit_covariance``):
G = 1 without means, whose start + estimate stage is ``fitted.estimate_covariance`` (lavaan start values,
Fisher scoring + BFGS, restarts), bitwise the single-group fit it replaced.  A new ML-family estimator
declares new stages in its row — not a new pipeline.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import FitError
from ..lavoptions import MISSING
from .admissibility import admissibility_problems
from .estimator import MLSolution, minimise_quasi_newton, simple_start
from .estimators import Estimator, FitCall, Stages, resolve, row
from .fit_indices import fit_measures_groups
from .group_model import GroupModel, build_group_model
from .inference import defined_rows, standardized, standardized_defined
from .objective_ml import MLObjective, single_batch
from .partable import ParTable
from .partable_groups import build_group_partable
from .sample_stats import SampleStats, sample_statistics


def fit_call(call: FitCall):
    """The table's ``group_fitter`` of the ML family: :func:`fit_groups` with the call's settings (lavaan's
    ``cluster=`` implies a mean structure)."""
    return fit_groups(call.syntax, call.data, group=call.group, groups=call.groups, group_equal=call.group_equal,
                      group_partial=call.group_partial, equal_rows=call.equal_rows,
                      meanstructure=call.meanstructure or call.cluster is not None, estimator=call.lav.estimator,
                      use_semopy=call.lav.engine == "semopy", fixed_lv_means=call.fixed_lv_means,
                      start_fit=call.start_fit, missing=call.lav.missing, cluster=call.cluster,
                      fallback=call.fallback)


def refuse_cluster(est: Estimator) -> FitError:
    """The one-line refusal of ``cluster=`` across groups for a row without ``cluster_stages``."""
    if est.missing != "listwise":
        return FitError("cluster with analysis groups runs on complete rows only. Fix: use missing listwise, "
                        "or drop the cluster setting")
    from .estimators import TABLE
    able = [r.estimator for r in TABLE if r.cluster_stages is not None and r.missing == "listwise"]
    return FitError(f"cluster with analysis groups is available for {' and '.join(able)}, not estimator "
                    f"'{est.estimator}'. Fix: use estimator MLR, or drop the cluster setting")


def _stages(est: Estimator, cluster: str | None) -> Stages:
    stages = est.cluster_stages if cluster is not None else est.group_stages
    if stages is None:
        if cluster is not None:
            raise refuse_cluster(est)
        raise FitError(f"estimator '{est.estimator}' has no multigroup stages (its group fitter is "
                       f"{est.group_fitter})")
    return stages


def fit_groups(syntax: str, data: pd.DataFrame, *, group: str | None = None, groups: Sequence[str] | None = None,
               group_equal: Iterable[str] = (), group_partial: Iterable[str] = (),
               equal_rows: Iterable[str] = (), meanstructure: bool = True, estimator: str = "ML",
               use_semopy: bool = True, fixed_lv_means: Iterable[str] = (), start_fit=None,
               missing: str = "listwise", cluster: str | None = None, fallback: bool = True):
    """Fit by ``estimator`` and return a ``ModelFit`` whose parameter rows carry a ``group`` column.

    ``cluster`` (a column of ``data``, lavaan ``cluster=``): clusters nested in the groups; ML and MLR both
    become cluster-robust (sandwich SEs, Yuan–Bentler test with per-group cluster meats, the rows'
    ``cluster_stages``); the estimates are ML's, unchanged.

    ``start_fit``: a previous fit of a nested model (e.g. the previous invariance level) whose estimates
    start this one — faster and steadier than the pooled start.  ``missing="fiml"``: rows keep their
    blanks and every group is fitted by its casewise likelihood (``objective_fiml``; always with a mean
    structure, as lavaan's missing = "ml").  ``fallback=False``: no restarts after a failed first start
    (the covariance-only G = 1 case, as ``fit_model``)."""
    if missing not in MISSING:
        raise FitError(f"missing '{missing}' is not known. Fix: use {' or '.join(MISSING)}")
    stages = _stages(row(estimator, missing), cluster)
    table = dict(group_equal=group_equal, group_partial=group_partial, equal_rows=equal_rows,
                 fixed_lv_means=fixed_lv_means)
    pt, model, stats, scale_note = _layout(syntax, data, group=group, groups=groups, cluster=cluster,
                                           missing=missing, meanstructure=meanstructure, table=table)
    _refuse_negative_df(stats, model)
    objective = resolve(stages.objective)(model)
    if start_fit is None and _covariance_only(pt, stages, cluster, missing):
        sol, note = _estimate_covariance(pt, model, stats, use_semopy=use_semopy, fallback=fallback)
    else:
        sol, note = _estimate_staged(syntax, data, pt, model, objective, stats, start_fit=start_fit,
                                     missing=missing, use_semopy=use_semopy)
    if sol is None:
        raise FitError("the model could not be estimated: neither start gave a positive-definite implied "
                       "covariance matrix in every group (an unidentified construct, e.g. two items that do not "
                       "correlate?). Fix: give every construct three or more items that correlate positively, "
                       "or merge small groups in the spec's group_levels")
    labels = None
    if cluster is not None:
        from .design import SampleDesign
        labels = {"estimator": estimator, "missing": "listwise", "information": "observed",
                  "design": SampleDesign(cluster_column=cluster, cluster=_global_codes(stats))}
    if missing == "fiml":
        labels = {"estimator": estimator, "missing": "ml", "information": "observed",
                  "sample_mean": stats.mean[0]}
    fit = assemble_groups(syntax, pt, model, objective, stats, sol, stages=stages, start_note=note, labels=labels)
    return replace(fit, problems=fit.problems + (scale_note,)) if scale_note else fit


def _layout(syntax: str, data: pd.DataFrame, *, group: str | None, groups: Sequence[str] | None,
            cluster: str | None, missing: str, meanstructure: bool,
            table: dict) -> tuple[ParTable, GroupModel, SampleStats, str | None]:
    """The sample-statistics, parameter-table and matrices stages, and the single-group screens' note.

    One group on complete rows: the table first (its variables name the columns), then the single-group
    screens (``fitted.single_statistics``); otherwise the statistics per group first (their names label the
    table's groups).  FIML always has a mean structure."""
    if group is None and cluster is None and missing == "listwise":
        from .fitted import single_statistics
        pt = build_group_partable(syntax, ("",), meanstructure=meanstructure, **table)
        model = build_group_model(pt)
        stats, scale_note = single_statistics(data, model.ov)
        return pt, model, stats, scale_note
    base_pt = build_group_partable(syntax, ["_"], meanstructure=False)
    if missing == "fiml":
        from .sample_stats_missing import missing_statistics
        stats = missing_statistics(data, _model_ov(base_pt), group=group, groups=groups,
                                   controls=base_pt.variables.ov_x)
        meanstructure = True
    else:
        stats = sample_statistics(data, _model_ov(base_pt), group=group, groups=groups, cluster=cluster)
    names = stats.groups if group is not None else ("",)
    pt = build_group_partable(syntax, names, meanstructure=meanstructure, **table)
    return pt, build_group_model(pt), stats, None


def _refuse_negative_df(stats: SampleStats, model: GroupModel) -> None:
    """More free parameters than sample moments (df < 0, e.g. a construct with two items) cannot be
    estimated: refuse in one line before the fit (the RMSEA interval has no value with df < 0)."""
    from .statistic import degrees_of_freedom
    df = degrees_of_freedom(stats, model)
    if df < 0:
        q = model.partable.n_free
        raise FitError(f"the model has {q} free parameters but the data give only {q + df} sample moments "
                       f"(df = {df}): it is not identified. Fix: give every construct three or more items, "
                       "or fix more parameters")


def _covariance_only(pt: ParTable, stages: Stages, cluster: str | None, missing: str) -> bool:
    """One group, no mean structure, the ML objective on complete rows: the plain single-group fit's case,
    estimated by its own start + estimate stage (:func:`_estimate_covariance`)."""
    return (pt.n_groups == 1 and not pt.meanstructure and cluster is None and missing == "listwise"
            and stages.objective == "objective_ml:MLObjective")


def _estimate_covariance(pt: ParTable, model: GroupModel, stats: SampleStats, *, use_semopy: bool,
                         fallback: bool) -> tuple[MLSolution, str]:
    """G = 1 without means: ``fitted.estimate_covariance`` on the one block (lavaan start, Fisher scoring +
    BFGS, restarts), so the solution is the plain single-group fit's to the last bit (measured: the ML
    objective, its Hessian and every assembling stage agree bitwise with the single-group ones at equal θ)."""
    from .fitted import estimate_covariance
    return estimate_covariance(pt.group_view(0), model.blocks[0], stats.cov[0], stats.data[0],
                               engine="semopy" if use_semopy else "default", fallback=fallback)


def _estimate_staged(syntax: str, data: pd.DataFrame, pt: ParTable, model: GroupModel, objective,
                     stats: SampleStats, *, start_fit, missing: str, use_semopy: bool) -> tuple[MLSolution | None, str]:
    """Start values (a nested fit's, FIML's moments or the pooled single-group fit), the objective's Fisher
    scoring + BFGS, then a restart from simple values when that fails."""
    if start_fit is not None:
        start, note = warm_start(start_fit, pt, model, stats), "previous model's estimates, Fisher scoring"
    elif missing == "fiml":
        start, note = moments_start(syntax, pt, model, stats)
    else:
        start, note = start_values(syntax, data, pt, model, stats, use_semopy=use_semopy)
    sol = _estimate_or_none(objective, stats, start)
    if sol is None or not sol.converged:
        retry = _estimate_or_none(objective, stats, _simple_start(pt, model, stats), max_iter=2000)
        if retry is not None and (sol is None or retry.converged or retry.fmin < sol.fmin):
            sol, note = retry, note + "; restarted from simple values"
    return sol, note


def _global_codes(stats: SampleStats) -> np.ndarray:
    """One code per (group, cluster) over all rows in group order: the clusters the fit counts."""
    offsets = np.cumsum([0] + [int(c.max()) + 1 for c in stats.cluster[:-1]])
    return np.concatenate([c + o for c, o in zip(stats.cluster, offsets)])


def _model_ov(pt: ParTable) -> tuple[str, ...]:
    from .matrices import build_matrix_model
    return build_matrix_model(pt.group_view(0)).ov


def _estimate_or_none(objective, stats: SampleStats, start: np.ndarray, **kw) -> MLSolution | None:
    """``estimate``, or None when the start values already give a non-positive-definite Σ (a warm start
    from a non-converged previous level, or a poor simple start): the caller tries another start."""
    try:
        return estimate(objective, stats, start, **kw)
    except np.linalg.LinAlgError:
        return None


def estimate(objective, stats: SampleStats, start: np.ndarray, *, max_iter: int = 500, batch=None) -> MLSolution:
    """Minimise the objective on ``stats`` (or on one replicate ``batch``, with ``stats`` giving the metric)."""
    batch = single_batch(objective, stats) if batch is None else batch
    return minimise_quasi_newton(lambda th: tuple(x[0] for x in objective(th[None], batch)),
                                 lambda th: objective.expected_hessian(th, stats), start, max_iter=max_iter)


def _simple_start(pt: ParTable, model: GroupModel, stats: SampleStats) -> np.ndarray:
    """lavaan-like simple start per group; intercepts at the group means, latent means 0."""
    theta = np.full(pt.n_free, np.nan)
    for g, mm in enumerate(model.blocks):
        t = simple_start(mm, stats.cov[g])
        seen = np.unique(mm.f_idx)
        fill = seen[np.isnan(theta[seen])]
        theta[fill] = t[fill]
    io = {v: i for i, v in enumerate(model.ov)}
    for p in pt.params:
        if p.op == "~1" and p.free >= 0 and np.isnan(theta[p.free]):
            theta[p.free] = stats.mean[p.group][io[p.lhs]] if p.lhs in io else 0.0
    return np.nan_to_num(theta)


def start_values(syntax: str, data: pd.DataFrame, pt: ParTable, model: GroupModel, stats: SampleStats, *,
                 use_semopy: bool) -> tuple[np.ndarray, str]:
    """Start every group at the single-group (pooled) ML solution; intercepts at the group means.

    Why: the pooled fit (semopy start + Fisher scoring) is a robust, admissible point near every group's
    solution, so Fisher scoring on the multigroup objective converges in a few steps."""
    theta = _simple_start(pt, model, stats)
    try:
        from .fitted import fit_model
        pooled = fit_model(syntax, pd.DataFrame(np.concatenate(stats.data), columns=list(model.ov)),
                           use_semopy=use_semopy)
    except (FitError, np.linalg.LinAlgError):
        return theta, "simple start values, Fisher scoring"
    est = {(r.lhs, r.op, r.rhs): r.est for r in pooled.parameters.itertuples() if r.op != ":="}
    for p in pt.params:
        if p.free >= 0 and p.op != "~1" and (p.lhs, p.op, p.rhs) in est:
            theta[p.free] = est[(p.lhs, p.op, p.rhs)]
    return theta, "pooled single-group ML start, Fisher scoring"


def moments_start(syntax: str, pt: ParTable, model: GroupModel, stats: SampleStats) -> tuple[np.ndarray, str]:
    """Start a FIML fit from moments only (lavaan's h1 sample statistics are the EM moments):
    the single-group ML fit of the pooled EM moments (lavaan start values + Fisher scoring, as the pooled
    start of complete data), then the multigroup ML fit of the per-group EM moments — cheap and close to
    the FIML solution, as the single-group FIML start."""
    from .fitted import estimate_covariance
    from .matrices import build_matrix_model
    from .partable import build_partable
    theta = _simple_start(pt, model, stats)
    note = "simple start values"
    w = stats.weights
    grand = w @ stats.mean
    dev = stats.mean - grand
    pooled = np.einsum("g,gij->ij", w, stats.cov + dev[:, :, None] * dev[:, None, :])
    try:
        pt1 = build_partable(syntax)
        mm1 = build_matrix_model(pt1)
        idx = [model.ov.index(v) for v in mm1.ov]
        S = pooled[np.ix_(idx, idx)]
        with np.errstate(all="ignore"):
            sol1 = estimate_covariance(pt1, mm1, S, None, fallback=False)[0]
        if np.all(np.isfinite(sol1.theta)):
            est = {(p.lhs, p.op, p.rhs): sol1.theta[p.free] for p in pt1.params if p.free >= 0}
            for p in pt.params:
                if p.free >= 0 and p.op != "~1" and (p.lhs, p.op, p.rhs) in est:
                    theta[p.free] = est[(p.lhs, p.op, p.rhs)]
            note = "pooled single-group ML start on the EM moments"
        with np.errstate(all="ignore"):
            sol = estimate(MLObjective(model), stats, theta)
        if np.all(np.isfinite(sol.theta)):
            return sol.theta, note + ", multigroup ML on the EM moments, then FIML (Fisher scoring + BFGS)"
    except (np.linalg.LinAlgError, ValueError, FitError):
        pass
    return theta, note + ", FIML (Fisher scoring + BFGS)"


def warm_start(previous, pt: ParTable, model: GroupModel, stats: SampleStats) -> np.ndarray:
    """Start values from another fit's rows, matched by lhs/op/rhs (and group when it has groups)."""
    theta = _simple_start(pt, model, stats)
    P = previous.parameters
    grouped = "group" in P.columns
    est = {(r.lhs, r.op, r.rhs, r.group if grouped else ""): r.est for r in P.itertuples() if r.op != ":="}
    names = pt.groups or ("",)
    for p in pt.params:
        key = (p.lhs, p.op, p.rhs, names[p.group] if grouped else "")
        if p.free >= 0 and key in est and np.isfinite(est[key]):
            theta[p.free] = est[key]
    return theta


def assemble_groups(syntax: str, pt: ParTable, model: GroupModel, objective, stats: SampleStats,
                    sol: MLSolution, *, stages: Stages, start_note: str = "", labels: dict | None = None):
    """SEs, standardized values, defined effects, test, fit indices and admissibility of a solution.

    ``labels``: lavaan's words for the fit (estimator, missing, information, ...) — ``ModelFit`` fields."""
    from .fitted import PARAM_COLUMNS, ModelFit
    theta = sol.theta
    vcov = resolve(stages.vcov)(objective, theta, stats)
    se_free = np.sqrt(np.diag(vcov))
    sigma, mu = model.implied(theta, stats.cov, stats.mean)
    est, std = _estimates(pt, model, theta, stats, sigma)
    problems = _problems(pt, model, theta, stats, std, sol.converged, se_free)
    rows = _parameter_rows(pt, est, std, se_free, stats.groups) + _defined_rows(pt, theta, vcov, std)
    table = pd.DataFrame(rows, columns=PARAM_COLUMNS + ["group"])
    test, fit = _test_and_fit(stages, pt, model, objective, stats, sol, sigma, mu)
    extra = dict(labels or {})
    if labels is not None:
        extra["test_name"] = test.name
    return ModelFit(syntax, pt, model.blocks[0], theta, vcov, stats.cov[0], sigma[0], stats.ntotal, table, fit,
                    sol.converged, sol.iterations, tuple(problems), start_note,
                    sample=stats, group_model=model, objective=objective, test=test, implied_mean=mu,
                    implied_covs=sigma, **extra)


def _non_mean_rows(pt: ParTable, g: int) -> list[int]:
    """Positions in ``pt.params`` of group ``g``'s non-mean rows (the rows ``standardized`` returns)."""
    return [r for r, p in enumerate(pt.params) if p.group == g and p.op != "~1"]


def _estimates(pt: ParTable, model: GroupModel, theta: np.ndarray, stats: SampleStats,
               sigma) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and standardized value of every row: free values from θ, fixed.x (co)variances and
    means from the sample, other fixed rows their value; means standardized by the variable's SD."""
    io = {v: i for i, v in enumerate(model.ov)}
    est = np.empty(len(pt.params))
    std = np.empty(len(pt.params))
    for g, mm in enumerate(model.blocks):
        view = pt.group_view(g)
        rows = _non_mean_rows(pt, g)
        std[rows] = standardized(view, mm, theta, stats.cov[g])
        for r, p in zip(rows, view.params):
            est[r] = theta[p.free] if p.free >= 0 else (stats.cov[g][io[p.lhs], io[p.rhs]] if p.exo else p.value)
        if not pt.meanstructure:
            continue
        lam, beta, psi, _ = (x[0] for x in mm.matrices(theta[None], stats.cov[g][None]))
        A = np.linalg.inv(np.eye(mm.m) - beta)
        sd_eta = np.sqrt(np.clip(np.diag(A @ psi @ A.T), 1e-300, None))
        sd_ov = np.sqrt(np.clip(np.diag(sigma[g]), 1e-300, None))
        for r, p in enumerate(pt.params):
            if p.group != g or p.op != "~1":
                continue
            if p.free >= 0:
                est[r] = theta[p.free]
            elif p.exo:
                est[r] = stats.mean[g][io[p.lhs]]
            else:
                est[r] = p.value
            sd = sd_ov[io[p.lhs]] if p.lhs in pt.variables.ov_ind else sd_eta[mm.eta.index(p.lhs)]
            std[r] = est[r] / sd
    return est, std


def _problems(pt: ParTable, model: GroupModel, theta: np.ndarray, stats: SampleStats, std: np.ndarray,
              converged: bool, se_free: np.ndarray) -> list[str]:
    """Admissibility: model-wide checks once, then each group's matrices (prefixed by the group name)."""
    problems: list[str] = []
    for g, mm in enumerate(model.blocks):
        where = f"group {stats.groups[g]}: " if len(model.blocks) > 1 else ""
        problems += [where + s for s in admissibility_problems(
            pt.group_view(g), mm, theta, stats.cov[g], std[_non_mean_rows(pt, g)], n=max(stats.ntotal, pt.n_free),
            converged=True, se_available=True)]
    # model-wide checks once (the per-group calls above only look at each group's matrices)
    problems = admissibility_problems(pt.group_view(0), model.blocks[0], theta, stats.cov[0], std[:0], n=stats.ntotal,
                                      converged=converged, se_available=bool(np.all(np.isfinite(se_free))),
                                      matrices=False) + problems
    return list(dict.fromkeys(problems))


def _parameter_rows(pt: ParTable, est: np.ndarray, std: np.ndarray, se_free: np.ndarray,
                    groups: Sequence[str]) -> list[list]:
    """One row per parameter: estimate, SE (0 when fixed), z and p (none when fixed), std, group."""
    from .fitted import parameter_row
    return [parameter_row(p.lhs, p.op, p.rhs, p.label, est[r], p.free, se_free, std[r]) + [groups[p.group]]
            for r, p in enumerate(pt.params)]


def _defined_rows(pt: ParTable, theta: np.ndarray, vcov: np.ndarray, std: np.ndarray) -> list[list]:
    """``:=`` rows: value, delta-method SE and the value from group 1's standardized parameters."""
    if not pt.defined:
        return []
    dstd = standardized_defined(pt.group_view(0), std[_non_mean_rows(pt, 0)])
    return [row + [""] for row in defined_rows(pt, theta, vcov, dstd)]


def _test_and_fit(stages: Stages, pt: ParTable, model: GroupModel, objective, stats: SampleStats,
                  sol: MLSolution, sigma, mu):
    """The model test (robust tests also need θ̂ and the objective's casewise scores) and the fit indices
    (the stages' own, e.g. FIML's, else the complete-data multigroup ones)."""
    test_fn = resolve(stages.test)
    if stages.test_needs_solution:
        test = test_fn(sol.fmin, stats, model, theta=sol.theta, objective=objective)
    else:
        test = test_fn(sol.fmin, stats, model)
    io = {v: i for i, v in enumerate(model.ov)}
    x_index = [io[v] for v in pt.variables.ov_x]
    if stages.fit_measures is not None:
        fit = resolve(stages.fit_measures)(test=test, stats=stats, sigma=sigma, mu=mu, n_free=pt.n_free,
                                           x_index=x_index, meanstructure=pt.meanstructure)
    else:
        fit = fit_measures_groups(test=test, S=stats.cov, M=stats.mean, sigma=sigma, mu=mu, n=stats.n,
                                  n_free=pt.n_free, x_index=x_index, meanstructure=pt.meanstructure)
    return test, fit
