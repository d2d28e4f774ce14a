"""Multigroup WLSMV (lavaan ``ordered = ..., estimator = "WLSMV", group = ...``), in lavaan's stages:

    categories checked across groups → sample statistics per group (thresholds, polychorics, Γ)
    → parameter layout (``group_layout``: thresholds, Δ, group.equal) → stacked σ(θ) (``group_vector``)
    → DWLS by Gauss–Newton → robust vcov, scaled-shifted test, fit (``group_robust``) → parameter rows

Reached through ``fit_model(..., group=..., estimator="WLSMV")`` (the estimator table's ``group_fitter``), so
``cluster-sem invariance --estimator WLSMV`` runs the same levels as ML with thresholds in the scalar step.
With one group (``group=None``) it is the single-group model with a mean structure (lavaan's ~1 and ~*~ rows
on top of ``fit_model_wlsmv``'s table): the same numbers up to the two fitters' stopping rules (~1e-6, a test
pins that), not the same bits, so the pipeline's single-group fits keep ``ordinal.fit`` (which also has the
cluster-robust Γ).  Shared with it: the variable and complete-rows split, the latent-response moments, the
ML start on the polychoric matrix, the threshold rows and their place, the ``:=`` rows.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..admissibility import admissibility_problems
from ..fitted import PARAM_COLUMNS, ModelFit, parameter_row
from ..group_model import build_group_model
from ..inference import defined_rows, standardized, standardized_defined
from ..partable import build_partable
from .categories import check_group_categories
from .delta import delta_model, response_sd
from .dwls import gauss_newton
from .fit import (complete_parts, ml_start, model_moments, model_variables, response_moments, threshold_rows,
                  thresholds_after_loadings)
from .group_layout import GroupLayout, build_layout
from .group_robust import robust_group_inference
from .group_vector import GroupModelVector
from .samplestats import OrdinalStats, ordinal_stats

NOTE = ("WLSMV (multigroup): polychoric correlations per group, DWLS (diagonal weights), robust SEs, "
        "scaled-shifted test; delta parameterization")


def fit_call(call) -> ModelFit:
    """The estimator table's WLSMV ``group_fitter`` (``estimators.FitCall``); clusters across groups are not
    built for WLSMV (refused in ``fit_groups``' words)."""
    if call.cluster is not None:
        from ..fit_groups import refuse_cluster
        raise refuse_cluster(call.row)
    return fit_groups_wlsmv(call.syntax, call.data, group=call.group, groups=call.groups,
                            group_equal=call.group_equal, group_partial=call.group_partial,
                            equal_rows=call.equal_rows, fixed_lv_means=call.fixed_lv_means, start_fit=call.start_fit)


def fit_groups_wlsmv(syntax: str, data: pd.DataFrame, *, group: str | None = None,
                     groups: Sequence[str] | None = None, group_equal: Iterable[str] = (),
                     group_partial: Iterable[str] = (), equal_rows: Iterable[str] = (),
                     fixed_lv_means: Iterable[str] = (), start_fit: ModelFit | None = None,
                     **_ml_only) -> ModelFit:
    """WLSMV fit of ``syntax`` in every group of ``group`` (every indicator an ordered item)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        return _fit(syntax, data, group, groups, tuple(group_equal), tuple(group_partial), tuple(equal_rows),
                    tuple(fixed_lv_means), start_fit)


def _fit(syntax, data, group, groups, group_equal, group_partial, equal_rows, fixed_lv_means, start_fit):
    items, covariates = model_variables(build_partable(syntax).variables)
    parts = complete_parts(data, items + covariates, group, groups)
    if group is not None:
        frame = pd.concat([f.assign(**{group: name}) for name, f in parts])
        check_group_categories(frame, items, group)
    sample = _sample(parts, items, covariates, start_fit)
    stats = list(sample.stats)
    names = tuple(name for name, _ in parts) if group is not None else ()
    layout = build_layout(syntax, names or ("",), stats[0].coding.n_categories, group_equal=group_equal,
                          group_partial=group_partial, equal_rows=equal_rows, fixed_lv_means=fixed_lv_means)
    if not names:
        layout = _single(layout)
    S = [_moments(layout, st) for st in stats]
    mv = GroupModelVector(layout, S, stats[0].pair_a, stats[0].pair_b)
    s = np.concatenate([st.vector for st in stats])
    w = np.concatenate([(st.n - 1) * st.weight_diag for st in stats])
    start = start_values(syntax, layout, stats, parts, start_fit)
    sol = gauss_newton(mv, s, w, None, start, ftol=1e-12)
    xmeans = [f[covariates].to_numpy(dtype=float).mean(0) for _, f in parts]
    return assemble(syntax, layout, mv, stats, S, sol.theta, converged=sol.converged, iterations=sol.iterations,
                    xmeans=xmeans, sample=sample,
                    note=NOTE + ("; start: previous model" if start_fit is not None else "; start: pooled ML"))


@dataclass(frozen=True)
class OrdinalSample:
    """The groups' sample statistics and what they were computed from (``ModelFit.sample``).

    Why kept: an invariance run fits the same data 3 + 2 × paths times, and the statistics (with controls:
    an ordered probit per item and a case-wise bivariate likelihood per pair) cost more than the fit; a
    nested model started from a previous fit (``start_fit``) reuses them when the data are the same."""

    key: str
    stats: tuple[OrdinalStats, ...]


def _sample(parts, items, covariates, start_fit) -> OrdinalSample:
    digest = hashlib.sha256(repr((items, covariates, [name for name, _ in parts])).encode())
    for _, frame in parts:
        digest.update(np.ascontiguousarray(frame.to_numpy(dtype=float)).tobytes())
    key = digest.hexdigest()
    previous = getattr(start_fit, "sample", None)
    if isinstance(previous, OrdinalSample) and previous.key == key:
        return previous
    return OrdinalSample(key, tuple(ordinal_stats(f, items, covariates) for _, f in parts))


def _single(layout: GroupLayout) -> GroupLayout:
    """A one-group fit keeps lavaan's single-group table (no group names)."""
    from dataclasses import replace
    strip = lambda pt: replace(pt, groups=())  # noqa: E731
    return replace(layout, full=strip(layout.full), delta=strip(layout.delta))


def _moments(layout: GroupLayout, st: OrdinalStats) -> np.ndarray:
    """The 'sample covariance' of one group in model order: polychorics and the covariates' covariance
    (only the covariate block matters: fixed.x values in Ψ)."""
    ov = layout.model.ov
    return response_moments(ov, [ov.index(v) for v in layout.items], [ov.index(v) for v in layout.covariates], st)


def start_values(syntax: str, layout: GroupLayout, stats: list[OrdinalStats], parts, start_fit) -> np.ndarray:
    """Model parameters from an ML fit to the pooled polychoric matrix (lv means 0, Δ 1), thresholds at
    the groups' sample thresholds; or, with ``start_fit``, the previous (nested) model's estimates."""
    theta = np.zeros(layout.q)
    if start_fit is not None and _warm(theta, layout, start_fit):
        return theta
    pt1 = build_partable(syntax)
    dm1 = delta_model(pt1, layout.items)
    n = np.array([st.n for st in stats], dtype=float)
    Sbar = sum(f * model_moments(dm1, st, frame) for f, st, (_, frame) in zip(n / n.sum(), stats, parts))
    ml = ml_start(dm1, Sbar)
    pooled = {(p.lhs, p.op, p.rhs): ml[p.free] for p in pt1.params if p.free >= 0}
    for p in layout.delta.params:
        if p.free >= 0 and (p.lhs, p.op, p.rhs) in pooled:
            theta[p.free] = pooled[(p.lhs, p.op, p.rhs)]
    sums = np.zeros(layout.q)
    counts = np.zeros(layout.q)
    for g, st in enumerate(stats):
        np.add.at(sums, layout.th_index[g], st.thresholds)
        np.add.at(counts, layout.th_index[g], 1.0)
    th = counts > 0
    theta[th] = sums[th] / counts[th]
    theta[layout.scale_index[layout.scale_index >= 0]] = 1.0
    return theta


def _warm(theta: np.ndarray, layout: GroupLayout, previous: ModelFit) -> bool:
    """Fill θ from the previous fit's rows; True when every model parameter and threshold was found
    (Δ not found stays 1, latent means 0: what a nested model's new free parameters start from)."""
    P = previous.parameters
    grouped = "group" in P.columns
    est = {(r.lhs, r.op, r.rhs, r.group if grouped else ""): r.est for r in P.itertuples() if r.op != ":="}
    names = layout.delta.groups or ("",)
    found = np.zeros(layout.q, dtype=bool)
    for p in layout.delta.params:
        key = (p.lhs, p.op, p.rhs, names[p.group] if grouped else "")
        if p.free >= 0 and key in est and np.isfinite(est[key]):
            theta[p.free] = est[key]
            found[p.free] = True
        elif p.free >= 0 and p.op == "~1":
            found[p.free] = True                       # a latent mean freed by this model starts at 0
    for g, name in enumerate(names):
        key_g = name if grouped else ""
        for k, (item, t) in enumerate(layout.threshold_names()):
            v = est.get((item, "|", t, key_g))
            if v is not None and np.isfinite(v):
                theta[layout.th_index[g, k]] = v
                found[layout.th_index[g, k]] = True
        for a, item in enumerate(layout.items):
            if layout.scale_index[g, a] < 0:
                continue
            v = est.get((item, "~*~", item, key_g))
            theta[layout.scale_index[g, a]] = v if v is not None and np.isfinite(v) else 1.0
            found[layout.scale_index[g, a]] = True
    return bool(found.all())


def _full_theta(layout: GroupLayout, mv: GroupModelVector, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """θ of lavaan's full table (item residual variances 1/Δ² − M_aa) and ∂θ_full/∂θ."""
    n_full = layout.full.n_free
    fi = layout.full_index
    out = np.where(fi >= 0, theta[np.maximum(fi, 0)], 0.0)
    G = np.zeros((n_full, layout.q))
    G[np.flatnonzero(fi >= 0), fi[fi >= 0]] = 1.0
    pos = {v: i for i, v in enumerate(layout.items)}
    tm = theta[: layout.q_model]
    cache = {}
    for p in layout.full.params:
        if not (p.free >= 0 and fi[p.free] < 0):
            continue
        g, a = p.group, pos[p.lhs]
        if g not in cache:
            block = layout.blocks[g]
            _, M = block.moments(tm, mv.S[g])
            _, dM = block.moments_jacobian(tm, mv.S[g])
            cache[g] = (M, dM, layout.scale(theta, g))
        M, dM, d = cache[g]
        out[p.free] = 1.0 / d[a] ** 2 - M[a, a]
        G[p.free, : layout.q_model] = -dM[a, a, :]
        if layout.scale_index[g, a] >= 0:
            G[p.free, layout.scale_index[g, a]] = -2.0 / d[a] ** 3
    return out, G


def assemble(syntax: str, layout: GroupLayout, mv: GroupModelVector, stats: list[OrdinalStats], S: list,
             theta: np.ndarray, *, converged: bool, iterations: int, note: str, xmeans: list,
             sample: "OrdinalSample | None" = None) -> ModelFit:
    """Vcov, test and fit of the solution, and the parameter rows group by group in lavaan's order
    (loadings/regressions, thresholds, (co)variances, means, scale factors)."""
    vcov, fit, test = _robust(layout, mv, stats, S, theta)
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    theta_full, Gmap = _full_theta(layout, mv, theta)
    vcov_full = Gmap @ vcov @ Gmap.T
    full = layout.full
    full_model = build_group_model(full)
    names = full.groups or ("",)
    grouped = bool(full.groups)
    ntotal = sum(st.n for st in stats)
    rows: list[list] = []
    problems: list[str] = []
    for g in range(layout.n_groups):
        view = full.group_view(g)
        std_g = standardized(view, full_model.blocks[g], theta_full, S[g])
        tag = names[g] if grouped else None
        rows += _group_rows(layout, full_model.blocks[g], g, theta, theta_full, se, std_g, S[g], xmeans[g], tag)
        where = f"group {names[g]}: " if grouped else ""
        problems += [where + m for m in admissibility_problems(view, full_model.blocks[g], theta_full, S[g], std_g,
                                                               n=ntotal, converged=True, se_available=True)]
    problems = admissibility_problems(full.group_view(0), full_model.blocks[0], theta_full, S[0], np.zeros(0),
                                      n=ntotal, converged=converged,
                                      se_available=bool(np.all(np.isfinite(se))), matrices=False) + problems
    rows += _defined_rows(full, theta_full, vcov_full, rows, grouped)
    table = pd.DataFrame(rows, columns=PARAM_COLUMNS + (["group"] if grouped else []))
    sigma0 = full_model.blocks[0].implied(theta_full[None], S[0][None])[0]
    return ModelFit(syntax, full, full_model.blocks[0], theta_full, vcov_full, S[0], sigma0, ntotal, table, fit,
                    converged, iterations, tuple(dict.fromkeys(problems)), note, sample=sample, group_model=full_model,
                    test=test, estimator="WLSMV", information="expected", test_name="scaled.shifted")


def _robust(layout: GroupLayout, mv: GroupModelVector, stats: list[OrdinalStats], S: list, theta: np.ndarray):
    """Robust vcov, fit and scaled-shifted test from each group's Jacobian, residuals and model-implied
    latent-response correlations R̂ (Δ M Δ with unit diagonal)."""
    Gn = layout.n_groups
    J = [mv.jacobian_group(theta, g) for g in range(Gn)]
    resid = [st.vector - mv.sigma_group(theta, g) for g, st in enumerate(stats)]
    R_hat = []
    for g in range(Gn):
        _, M = layout.blocks[g].moments(theta[: layout.q_model], S[g])
        d = layout.scale(theta, g)
        H = d[:, None] * M * d[None, :]
        np.fill_diagonal(H, 1.0)
        R_hat.append(H)
    return robust_group_inference(
        J=J, w=[st.weight_diag for st in stats], gamma=[st.gamma for st in stats], resid=resid,
        s=[st.vector for st in stats], n=[st.n for st in stats], n_univariate=[st.n_univariate for st in stats],
        R=[st.correlation for st in stats], R_hat=R_hat, n_free=layout.q, n_covariates=len(layout.covariates))


def _row(lhs, op, rhs, label, est, k, std, se: np.ndarray, group: str | None) -> list:
    """One parameter row; ``k`` indexes the free parameter (−1: fixed, SE 0, no z)."""
    out = parameter_row(lhs, op, rhs, label, est, k, se, std)
    return out + [group] if group is not None else out


def _group_rows(layout: GroupLayout, mm, g: int, theta: np.ndarray, theta_full: np.ndarray, se: np.ndarray,
                std_g: np.ndarray, S_g: np.ndarray, xmeans_g, group: str | None) -> list[list]:
    """Group ``g``'s rows in lavaan's order: loadings/regressions, thresholds, other (co)variances,
    means, scale factors."""
    cov_rows, mean_rows = _model_rows(layout, mm, g, theta_full, se, std_g, S_g, xmeans_g, group)
    d = layout.scale(theta, g)
    sd = response_sd(mm, theta_full, S_g, layout.items)
    th_rows = [r + [group] if group is not None else r
               for r in threshold_rows(layout.threshold_names(), layout.th_index[g], theta, se, sd)]
    scale_rows = [_row(item, "~*~", item, "", d[a], layout.scale_index[g, a], d[a], se, group)
                  for a, item in enumerate(layout.items)]
    return thresholds_after_loadings(cov_rows, th_rows) + mean_rows + scale_rows


def _model_rows(layout: GroupLayout, mm, g: int, theta_full: np.ndarray, se: np.ndarray, std_g: np.ndarray,
                S_g: np.ndarray, xmeans_g, group: str | None) -> tuple[list[list], list[list]]:
    """Group ``g``'s model rows of the full table, split into (co)variance/loading rows and mean rows;
    SEs come from the Δ-table parameter in the same position (the full table's residual variances are
    derived, not free, in the Δ parameterization)."""
    full = layout.full
    io = {v: i for i, v in enumerate(mm.ov)}
    lam, beta, psi, _ = (x[0] for x in mm.matrices(theta_full[None], S_g[None]))
    A = np.linalg.inv(np.eye(mm.m) - beta)
    sd_eta = np.sqrt(np.clip(np.diag(A @ psi @ A.T), 1e-300, None))
    sd_ov = response_sd(mm, theta_full, S_g, mm.ov)           # a control's mean is standardised by its sd
    xbar = dict(zip(layout.covariates, xmeans_g))
    cov_rows, mean_rows = [], []
    delta_rows = [p for p in layout.delta.params if p.group == g]
    full_rows = [p for p in full.params if p.group == g]
    vi = 0
    for p, pd_ in zip(full_rows, delta_rows):
        if p.op == "~1":
            if p.free >= 0:
                est = theta_full[p.free]
            elif p.exo:
                est = xbar.get(p.lhs, 0.0)
            else:
                est = p.value
            sd = sd_ov[p.lhs] if p.lhs in io else sd_eta[mm.eta.index(p.lhs)]
            mean_rows.append(_row(p.lhs, p.op, p.rhs, p.label, est, pd_.free, est / sd, se, group))
            continue
        if p.free >= 0:
            est = theta_full[p.free]
        elif p.exo:
            est = S_g[io[p.lhs], io[p.rhs]]
        else:
            est = p.value
        cov_rows.append(_row(p.lhs, p.op, p.rhs, p.label, est, pd_.free, std_g[vi], se, group))
        vi += 1
    return cov_rows, mean_rows


def _defined_rows(full, theta_full: np.ndarray, vcov_full: np.ndarray, rows: list[list],
                  grouped: bool) -> list[list]:
    """``:=`` rows: value and delta-method SE from the full table's vcov.  With one group also std.all: the
    expression at the labelled rows' std.all (``standardized_defined``, as the single-group table and
    lavaan); with groups none (a label's std.all differs from group to group)."""
    if grouped:
        return [row + [""] for row in defined_rows(full, theta_full, vcov_full)]
    std_all = {(r[0], r[1], r[2]): r[8] for r in rows}
    std = standardized_defined(full, np.array([std_all.get((p.lhs, p.op, p.rhs), np.nan) for p in full.params]))
    return defined_rows(full, theta_full, vcov_full, std)
