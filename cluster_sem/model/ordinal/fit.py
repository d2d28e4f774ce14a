"""Fit one model to ordinal items by WLSMV, in lavaan's named stages:

    parameter table (delta) → sample statistics (thresholds, polychorics, Γ) → DWLS (Gauss–Newton)
    → robust vcov → scaled-shifted test + fit → std.all, := effects → admissibility

The result is the same frozen ``ModelFit`` the ML path returns, with threshold rows (op "|") in the table,
the polychoric matrix as ``sample_cov`` and the scaled statistics in ``fit`` (``*_scaled`` keys).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ...errors import FitError
from ..admissibility import admissibility_problems
from ..estimator import fisher_scoring, simple_start
from ..fitted import PARAM_COLUMNS, ModelFit, parameter_row
from ..inference import defined_rows, estimates, standardized, standardized_defined
from ..design import SampleDesign
from ..partable import build_partable
from ..sample_stats import group_parts
from ..start import lavaan_start
from .delta import DeltaModel, delta_model, response_sd
from .dwls import ModelVector, gauss_newton
from .robust import fit_measures_dwls, robust_vcov
from .samplestats import OrdinalStats, ordinal_stats


def fit_call(call) -> ModelFit:
    """The estimator table's single-group WLSMV fitter (``estimators.FitCall``; ``cluster=`` goes into Γ)."""
    if call.weights is not None:
        raise FitError("sampling weights with WLSMV are not supported (lavaan's weighted thresholds and "
                       "polychoric correlations are not implemented here). Fix: use estimator MLR")
    return fit_model_wlsmv(call.syntax, call.data, call.items, cluster=call.cluster)


def fit_model_wlsmv(syntax: str, data: pd.DataFrame, ordinal: list[str] | tuple[str, ...] | None = None,
                    *, stats: OrdinalStats | None = None, cluster: str | None = None) -> ModelFit:
    """WLSMV fit of ``syntax``; ``ordinal`` lists the ordered items (default: every indicator).

    ``cluster`` names the column of cluster ids (lavaan ``cluster=``): the same estimates, cluster-robust
    SEs and scaled-shifted test from the cluster-summed Γ (``acov.gamma_full(cluster=)``, se "robust.cluster.sem").

    BLAS runs on one thread here: the matrices are small and many (measured ~10× faster than threaded
    BLAS on a shared 2-core machine)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        return _fit(syntax, data, ordinal, stats, cluster)


def _fit(syntax: str, data: pd.DataFrame, ordinal, stats: OrdinalStats | None, cluster: str | None) -> ModelFit:
    pt = build_partable(syntax)
    items, covariates = model_variables(pt.variables, ordinal)
    [(_, frame)] = complete_parts(data, items + covariates)
    design = SampleDesign.from_frame(data, cluster=cluster) if cluster else None
    if design is not None:
        design = dataclasses.replace(design, robust_sem=True)
    st = stats if stats is not None else ordinal_stats(frame, items, covariates,
                                                       None if design is None else design.cluster)
    dm = delta_model(pt, tuple(items))
    S = model_moments(dm, st, frame)
    mv = ModelVector(dm, st.n_thresholds, st.pair_a, st.pair_b)
    sol = gauss_newton(mv, st.vector, st.weight_diag, S, start_values(dm, S, st))
    fit = assemble_wlsmv(syntax, dm, mv, st, S, sol.theta, sol.fmin, converged=sol.converged,
                         iterations=sol.iterations)
    return fit if design is None else dataclasses.replace(fit, design=design)


def model_variables(var, ordinal=None) -> tuple[list[str], list[str]]:
    """(ordered items, controls) of the model's observed variables ``var`` (``ParTable.variables``), in
    model order; ``ordinal`` lists the ordered items (None: every indicator).  Refuses what the delta
    parameterization here does not cover: observed outcomes and continuous indicators."""
    if var.ov_y:
        raise FitError(f"WLSMV: observed outcome(s) {', '.join(var.ov_y)} are not supported; model them as "
                       "constructs or exogenous controls. Fix: use --estimator ML")
    covariates = list(var.ov_x)
    items = [v for v in var.ov if v not in covariates and (ordinal is None or v in ordinal)]
    if len(items) + len(covariates) != len(var.ov):
        extra = [v for v in var.ov if v not in items and v not in covariates]
        raise FitError(f"WLSMV: indicator(s) {', '.join(extra)} are not ordinal; mixed continuous/ordinal "
                       "indicators are not supported. Fix: declare them ordinal or use --estimator ML")
    return items, covariates


def complete_parts(data: pd.DataFrame, columns, group: str | None = None,
                   groups=None) -> list[tuple[str, pd.DataFrame]]:
    """Each group's rows of the model ``columns`` (one unnamed part without ``group``; the split is
    ``sample_stats.group_parts``), refused when a value is missing or a group has fewer than 2 cases."""
    out = []
    for name, part in group_parts(data, columns, group=group, groups=groups):
        frame = part[list(columns)]
        if frame.isna().any().any():
            raise FitError("WLSMV needs complete data; clean the data (listwise) first")
        if len(frame) < 2:
            where = f"group '{name}'" if name else "the data"
            raise FitError(f"{where} has {len(frame)} case(s); WLSMV needs more")
        out.append((name, frame))
    return out


def response_moments(ov, y, x, st: OrdinalStats) -> np.ndarray:
    """One group's 'sample covariance' in model order ``ov``: the polychorics at the items' positions ``y``,
    the covariates' sample covariance (fixed.x, divisor N − 1 as lavaan for DWLS) at ``x``, 1 elsewhere on
    the diagonal.  The single-group and the multigroup fitter both build theirs here."""
    S = np.eye(len(ov))
    S[np.ix_(y, y)] = st.correlation
    if len(x):
        S[np.ix_(x, x)] = st.covariate_cov
    return S


def model_moments(dm: DeltaModel, st: OrdinalStats, frame: pd.DataFrame) -> np.ndarray:
    """``response_moments`` of the delta model and — only as start values — the item–covariate covariances
    of the standardized codes."""
    y, x = dm.y_idx, dm.x_idx
    S = response_moments(dm.full_mm.ov, y, x, st)
    if len(x):
        sd_x = np.sqrt(np.diag(st.covariate_cov))
        r = np.array([[np.corrcoef(frame[a], frame[b])[0, 1] for b in st.covariates] for a in st.items])
        S[np.ix_(y, x)] = r * sd_x
        S[np.ix_(x, y)] = (r * sd_x).T
        if np.linalg.eigvalsh(S).min() <= 1e-8:   # start values only: fall back to uncorrelated
            S[np.ix_(y, x)] = 0.0
            S[np.ix_(x, y)] = 0.0
    return S


def ml_start(dm: DeltaModel, R: np.ndarray) -> np.ndarray:
    """θ of the full table from an ML fit to R, started at lavaan's start values (FABIN 3); those start
    values themselves when the ML fit does not converge (it can run off to a Heywood case: seen on the
    Grant-White half of the ordinal HS data, where it left Gauss–Newton stuck far from the minimum)."""
    try:
        lav = lavaan_start(dm.full, R)
    except (np.linalg.LinAlgError, ValueError):
        lav = simple_start(dm.full_mm, R)
    try:
        ml = fisher_scoring(dm.full_mm, R, lav)
    except np.linalg.LinAlgError:
        return lav
    return ml.theta if ml.converged and np.all(np.isfinite(ml.theta)) else lav


def start_values(dm: DeltaModel, R: np.ndarray, st: OrdinalStats) -> np.ndarray:
    """ML fit of the full model to the polychoric matrix, mapped to the delta parameters; sample thresholds."""
    ml = ml_start(dm, R)
    theta = np.zeros(dm.delta.n_free)
    keep = dm.full_index >= 0
    theta[dm.full_index[keep]] = ml[keep]
    return np.concatenate([theta, st.thresholds])


def threshold_rows(names, index, theta: np.ndarray, se: np.ndarray, sd: dict) -> list[list]:
    """The ``|`` rows of one group: threshold ``index[k]`` of θ named ``names[k]``, its std.all the
    threshold over the item's model-implied sd of y* (``response_sd``)."""
    rows = []
    for (item, name), i in zip(names, index):
        v = float(theta[i])
        rows.append(parameter_row(item, "|", name, "", v, int(i), se, v / sd[item]))
    return rows


def thresholds_after_loadings(rows: list[list], th_rows: list[list]) -> list[list]:
    """lavaan's row order of a group: the threshold rows (``|``) right after the last loading/regression
    row, before the (co)variances (both assemblers place them here)."""
    last = max((i for i, row in enumerate(rows) if row[1] in ("=~", "~")), default=len(rows) - 1)
    return rows[: last + 1] + th_rows + rows[last + 1:]


def assemble_wlsmv(syntax: str, dm: DeltaModel, mv: ModelVector, st: OrdinalStats, R: np.ndarray,
                   theta: np.ndarray, fmin: float, *, converged: bool, iterations: int) -> ModelFit:
    n, q_model = st.n, mv.q_model
    w, gamma = st.weight_diag, st.gamma_robust     # weights from the i.i.d. Γ, sandwich/test from the robust one
    J = mv.jacobian(theta, R)
    vcov = robust_vcov(J, w, gamma, n)
    se_all = np.sqrt(np.clip(np.diag(vcov), 0, None))
    theta_model = theta[:q_model]
    theta_full = dm.to_full(theta_model, R)
    G = dm.full_jacobian(theta_model, R)
    vcov_full = G @ vcov[:q_model, :q_model] @ G.T
    pt, mm = dm.full, dm.full_mm
    est = estimates(pt, theta_full, R, mm)
    std = standardized(pt, mm, theta_full, R)
    rows = [parameter_row(p.lhs, p.op, p.rhs, p.label, est[r], pd_.free, se_all, std[r])
            for r, (p, pd_) in enumerate(zip(pt.params, dm.delta.params))]
    sd = response_sd(mm, theta_full, R, st.items)
    th_index = q_model + np.arange(len(st.thresholds))
    rows = thresholds_after_loadings(rows, threshold_rows(st.threshold_names(), th_index, theta, se_all, sd))
    if pt.defined:
        rows.extend(defined_rows(pt, theta_full, vcov_full, standardized_defined(pt, std)))
    table = pd.DataFrame(rows, columns=PARAM_COLUMNS)
    sigma = mm.implied(theta_full[None], R[None])[0]
    resid = st.vector - mv.sigma(theta, R)
    _, res_cov = dm.moments(theta_model, R)
    res_cov = res_cov + np.diag(1.0 - np.diag(res_cov))          # unit residual variances (delta)
    fit = fit_measures_dwls(s=st.vector, resid=resid, w=w, gamma=gamma, J=J, n=n, n_univariate=st.n_univariate,
                            n_free=len(theta), R=st.correlation, R_hat=res_cov,
                            n_covariates=len(st.covariates))
    problems = admissibility_problems(pt, mm, theta_full, R, std, n=n, converged=converged,
                                      se_available=bool(np.all(np.isfinite(se_all))))
    return ModelFit(syntax, pt, mm, theta_full, vcov_full, R, sigma, n, table, fit, converged, iterations,
                    tuple(problems), "WLSMV: polychoric correlations, DWLS (diagonal weights), robust SEs, "
                    "scaled-shifted test; start from ML on the polychoric matrix",
                    estimator="WLSMV", information="expected", test_name="scaled.shifted")
