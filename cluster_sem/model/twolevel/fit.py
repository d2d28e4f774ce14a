"""Fit a two-level SEM (lavaan ``level: 1`` / ``level: 2``, estimator ML, complete rows) in named steps:

    split syntax → parameter table per level → cluster statistics → model → maximise logl
    → observed information (vcov) → saturated model by EM (χ², ICCs, SRMR) → baseline model → fit measures

Everything lavaan reports for such a fit is reproduced from the same definitions (``lav_mvnorm_cluster``,
``lav_fit_srmr_twolevel``, ``lav_object_inspect_icc``); see ``docs/architecture.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import DataError, FitError
from ...special import chdtrc  # scipy.special's ufunc without its array-API import layer
from ..fit_indices import cfi, rmsea, rmsea_ci, tli
from ..fitted import pvalue
from ..inference import standardized
from ..matrices import latent_moments
from ..param import Param
from ..partable import ParTable, Variables, build_partable
from ..start import lavaan_start
from .loglik import Moments2L, Saturated, em_saturated
from .model import TwoLevelModel, build_twolevel_model
from .optimize import hessian_from_gradient, maximise
from .stats import ClusterStats, cluster_stats
from .syntax import split_levels

PARAM_COLUMNS = ["lhs", "op", "rhs", "label", "level", "est", "se", "z", "pvalue", "std_all"]


@dataclass(frozen=True)
class TwoLevelFit:
    syntax: str
    model: TwoLevelModel
    theta: np.ndarray
    vcov: np.ndarray
    parameters: pd.DataFrame      # PARAM_COLUMNS; ``level`` 1 = within, 2 = between
    fit: dict
    icc: dict[str, float]         # lavInspect(fit, "icc"): per level-1 variable, from the saturated model
    saturated: Saturated
    converged: bool
    iterations: int
    baseline_logl: float          # the independence model's logl (CFI/TLI)
    baseline_npar: int

    @property
    def n(self) -> int:
        return self.model.stats.n

    @property
    def n_clusters(self) -> int:
        return self.model.stats.n_clusters


def _tables(syntax: str) -> tuple[ParTable, ParTable]:
    within, between = split_levels(syntax)
    tables = build_partable(within), build_partable(between)
    if any(t.defined for t in tables):
        raise FitError("two-level model: defined parameters (:=) are not supported. Fix: remove the ':=' lines")
    return tables


def _stats(tables: tuple[ParTable, ParTable], data: pd.DataFrame, cluster: str) -> ClusterStats:
    y = list(tables[0].variables.ov)
    z = [v for v in tables[1].variables.ov if v not in y]
    missing = [c for c in y + z + [cluster] if c not in data.columns]
    if missing:
        raise DataError(f"data has no column '{missing[0]}' named by the two-level model. "
                        "Fix: rename the column or the variable in the model")
    frame = data[y + z + [cluster]].dropna()
    try:
        values = frame[y + z].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DataError("two-level model: a model variable has non-numeric values. "
                        "Fix: code every item as a number") from None
    n_clusters = frame[cluster].nunique()
    if n_clusters < 2 or n_clusters == len(frame):
        raise DataError(f"column '{cluster}' gives {n_clusters} clusters for {len(frame)} complete rows; a "
                        "two-level model needs several clusters with more than one member. Fix: check the column")
    return cluster_stats(values[:, :len(y)], values[:, len(y):], frame[cluster].to_numpy(), y, z)


def _start(model: TwoLevelModel) -> np.ndarray:
    """lavaan-style start values per level: level 1 from the pooled within covariance, level 2 from the
    covariance of the cluster means; intercepts from the means."""
    stats = model.stats
    theta = np.zeros(model.n_free)
    zy = stats.z_names + stats.y_names
    sources = ((stats.s_pw, stats.y_names, stats.total_mean),
               (stats.between_cov, zy, stats.between_mean))
    for level, (cov, names, means) in zip(model.levels, sources):
        pos = [names.index(v) for v in level.ov]
        S = cov[np.ix_(pos, pos)]
        start = lavaan_start(level.table, S)
        free = [p.free for p in level.table.params if p.free >= 0]
        theta[free] = start[free]
        for row in level.intercepts:
            if row.free >= 0:
                theta[row.free] = means[names.index(row.lhs)]
    return theta


def _estimate(model: TwoLevelModel) -> tuple[np.ndarray, np.ndarray, int, bool, float]:
    theta, hess, iterations, converged = maximise(model.loglik, model.gradient, _start(model), model.stats.n)
    return theta, hess, iterations, converged, model.loglik(theta)


def _n_moments(model: TwoLevelModel) -> int:
    """Sample moments lavaan counts: Σ_W, Σ_B of the level-2 variables and all means, less the fixed.x ones."""
    stats = model.stats
    p_b = len(model.levels[1].ov)
    count = stats.p_y * (stats.p_y + 1) // 2 + p_b * (p_b + 1) // 2 + stats.p_y + stats.p_z
    for level in model.levels:
        k = len(level.table.variables.ov_x)
        count -= k * (k + 1) // 2 + k
    return count


def _independence(table: ParTable) -> ParTable:
    """lavaan's baseline at one level: free variances of the non-covariates, fixed.x block kept."""
    var = table.variables
    free = [Param(v, "~~", v, user=False, free=i) for i, v in enumerate(v for v in var.ov if v not in var.ov_x)]
    roles = Variables(lv=(), ov=var.ov, ov_ind=(), ov_x=var.ov_x, ov_y=(), lv_x=(), lv_y=())
    return ParTable(tuple(free + [p for p in table.params if p.exo]), (), roles, len(free))


def _cov2cor(m: np.ndarray) -> np.ndarray:
    """Correlation matrix; all NaN when a variance is not positive (lavaan's SRMR is then NA)."""
    d = np.diag(m)
    if np.any(d <= 0):
        return np.full_like(m, np.nan)
    sd = np.sqrt(d)
    return m / np.outer(sd, sd)


def _level_covs(model: TwoLevelModel, mom: Moments2L) -> tuple[np.ndarray, np.ndarray]:
    """(level-1, level-2) covariance matrices of a '2l' moment set in each level's variable order."""
    stats = model.stats
    ov2 = model.levels[1].ov
    big = np.block([[mom.sigma_zz, mom.sigma_yz.T], [mom.sigma_yz, mom.sigma_b]])
    zy = stats.z_names + stats.y_names
    pos = [zy.index(v) for v in ov2]
    return mom.sigma_w, big[np.ix_(pos, pos)]


def _srmr(model: TwoLevelModel, sat: Moments2L, implied: Moments2L) -> tuple[float, float]:
    """lavaan's ``lav_fit_srmr_twolevel``: correlation residuals (h1 vs model, cov2cor of each) per level."""
    out = []
    for s, sigma in zip(_level_covs(model, sat), _level_covs(model, implied)):
        r = _cov2cor(s) - _cov2cor(sigma)
        low = r[np.tril_indices_from(r)]
        out.append(float(np.sqrt(np.sum(low ** 2) / len(low))))
    return out[0], out[1]


def _icc(model: TwoLevelModel, sat: Moments2L) -> dict[str, float]:
    """lavInspect(fit, "icc"): σ²_B / (σ²_W + σ²_B) of every level-1 variable at the saturated model (0 for
    within-only variables)."""
    w, b = np.diag(sat.sigma_w), np.diag(sat.sigma_b)
    return {v: float(b[i] / (w[i] + b[i])) for i, v in enumerate(model.stats.y_names)}


def _fit_measures(model: TwoLevelModel, logl: float, sat: Saturated, base_logl: float, base_npar: int,
                  implied: Moments2L) -> dict:
    n, npar = model.stats.n, model.n_free
    moments = _n_moments(model)
    df, df_b = moments - npar, moments - base_npar
    chi2 = max(2 * (sat.logl - logl), 0.0)
    chi2_b = 2 * (sat.logl - base_logl)
    lo, hi = rmsea_ci(chi2, df, n)
    srmr_w, srmr_b = _srmr(model, sat.moments, implied)
    out = {
        "chi2": chi2, "df": int(df), "pvalue": float(chdtrc(df, chi2)) if df > 0 else None,
        "cfi": cfi(chi2, df, chi2_b, df_b), "tli": tli(chi2, df, chi2_b, df_b),
        "rmsea": rmsea(chi2, df, n), "rmsea_ci90": [float(lo), float(hi)],
        "srmr": srmr_w + srmr_b, "srmr_within": srmr_w, "srmr_between": srmr_b,
        "aic": -2 * logl + 2 * npar, "bic": -2 * logl + math.log(n) * npar,
        "n": int(n), "n_clusters": int(model.stats.n_clusters), "npar": int(npar), "loglik": logl,
        "unrestricted_loglik": sat.logl, "baseline_chi2": chi2_b, "baseline_df": int(df_b),
    }
    return {k: float(v) if isinstance(v, (float, np.floating)) else v for k, v in out.items()}


def _parameter_rows(model: TwoLevelModel, theta: np.ndarray, vcov: np.ndarray) -> pd.DataFrame:
    se_free = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    rows = []
    for level in model.levels:
        table, mm = level.table, level.matrices
        std = standardized(table, mm, theta, level.x_cov)
        lam, beta, psi, th = (x[0] for x in mm.matrices(theta[None], level.x_cov[None]))
        _, M, sigma = latent_moments(lam, beta, psi, th)
        variance = dict(zip(mm.eta, np.diag(M)))
        variance.update(zip(mm.ov, np.diag(sigma)))
        values = [(p, theta[p.free] if p.free >= 0 else _fixed_value(p, level), s)
                  for p, s in zip(table.params, std)]
        values += [(p, theta[p.free] if p.free >= 0 else p.value, None) for p in level.intercepts]
        for p, est, s in values:
            if variance[p.lhs] <= 0 or variance.get(p.rhs, 1.0) <= 0:
                s = float("nan")    # lavaan: sqrt of a negative implied variance is NaN, so is std.all
            elif s is None:
                s = est / np.sqrt(variance[p.lhs])
            se = float(se_free[p.free]) if p.free >= 0 else 0.0
            z = est / se if p.free >= 0 and se > 0 else None
            rows.append([p.lhs, p.op, p.rhs, p.label, level.number, float(est), se, z, pvalue(z), float(s)])
    return pd.DataFrame(rows, columns=PARAM_COLUMNS)


def _fixed_value(p: Param, level) -> float:
    if p.exo:
        return float(level.x_cov[level.ov.index(p.lhs), level.ov.index(p.rhs)])
    return float(p.value)


def fit_twolevel(syntax: str, data: pd.DataFrame, *, cluster: str) -> TwoLevelFit:
    """Fit a lavaan two-level model (``level: 1`` / ``level: 2`` blocks) by ML on the complete rows of
    ``data``, clusters given by column ``cluster``: lavaan's ``sem(model, data, cluster = cluster)``."""
    tables = _tables(syntax)
    stats = _stats(tables, data, cluster)
    model = build_twolevel_model(tables, stats)
    theta, hess, iterations, converged, logl = _estimate(model)
    try:
        vcov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        raise FitError("two-level model: the information matrix is singular; the model is not identified. "
                       "Fix: fix one loading per construct or drop a parameter") from None
    sat = em_saturated(stats, model.within_only, model.loglik_x)
    base = build_twolevel_model(tuple(_independence(t) for t in tables), stats)
    base_logl = _estimate(base)[4]
    fit = _fit_measures(model, logl, sat, base_logl, base.n_free, model.moments(theta))
    return TwoLevelFit(syntax, model, theta, vcov, _parameter_rows(model, theta, vcov), fit,
                       _icc(model, sat.moments), sat, converged, iterations, base_logl, base.n_free)


def fit_measures_at(result: TwoLevelFit, theta: np.ndarray) -> dict:
    """The fit measures of ``result``'s model at another parameter vector (e.g. lavaan's printed estimates),
    with the same saturated and baseline models: separates formula agreement from optimiser precision."""
    model = result.model
    logl = model.loglik(theta)
    return _fit_measures(model, logl, result.saturated, result.baseline_logl, result.baseline_npar,
                         model.moments(theta))


def observed_information(result: TwoLevelFit, theta: np.ndarray) -> np.ndarray:
    """Hessian of −logl at ``theta`` (lavaan's observed information times N)."""
    return hessian_from_gradient(lambda t: -result.model.gradient(t), theta)
