"""Fit one model (lavaan syntax + complete data) in named steps, lavaan-style:

    parameter table → matrices → sample statistics → start values (lavaan's) → Fisher scoring
    → vcov → standardized solution → defined parameters → fit indices → admissibility

The plain single-group ML fit runs these as the G = 1 case of the staged fit (``fit_groups``); this module
holds its single-group pieces (the data screens, the covariance start + estimate stage) and the public
entry ``fit_model``.  The result is a frozen ``ModelFit``; nothing is computed after construction.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ClusterSemError, FitError
from .admissibility import admissibility_problems
from .estimator import MLSolution, fit_ml, simple_start
from .fit_indices import fit_measures
from .inference import (defined_rows, estimates, standardized, standardized_defined,
                        vcov_expected)
from .matrices import MatrixModel, latent_moments
from .partable import ParTable
from .start import lavaan_start
from .sample_stats import SampleStats, ml_covariance

PARAM_COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "std_all"]


@dataclass(frozen=True)
class ModelFit:
    """Everything one fitted model contributes to Results."""

    syntax: str
    partable: ParTable
    matrix_model: MatrixModel
    theta: np.ndarray
    vcov: np.ndarray
    sample_cov: np.ndarray
    implied_cov: np.ndarray
    n: int
    parameters: pd.DataFrame  # lavaan parameterEstimates() columns + std_all
    fit: dict
    converged: bool
    iterations: int
    problems: tuple[str, ...] = field(default=())
    start_note: str = ""
    # multigroup / mean-structure fits (``fit_groups``); None on the single-group covariance path, where
    # matrix_model/sample_cov/implied_cov above describe the one group.  With groups, those three fields
    # describe the first (reference) group and ``n`` is the total N.
    sample: Any = None               # SampleStats: per-group n, covariances, means
    group_model: Any = None          # GroupModel: matrices per group
    objective: Any = None            # the objective that was minimised (MLObjective, ...)
    test: Any = None                 # statistic.TestResult
    implied_mean: Any = None         # (G, p) model-implied means
    implied_covs: Any = None         # (G, p, p) model-implied covariances
    # lavaan's words for how the model was estimated (meta / report); set by the casewise (FIML/MLR) fitter
    estimator: str = "ML"
    missing: str = "listwise"
    information: str = "expected"
    test_name: str = "standard"
    sample_mean: np.ndarray | None = None    # h1 means (EM under FIML) when the model has a mean structure
    design: Any = None               # design.SampleDesign (clusters, sampling weights) when the fit used one

    @property
    def groups(self) -> tuple[str, ...]:
        """Analysis-group names ((), for a single-group fit)."""
        return self.partable.groups

    def latent_correlations(self) -> pd.DataFrame:
        """Model-implied correlations of the latent variables (for Fornell–Larcker)."""
        lam, beta, psi, th = (x[0] for x in self.matrix_model.matrices(self.theta[None], self.sample_cov[None]))
        M = latent_moments(lam, beta, psi, th)[1]
        lv = list(self.partable.variables.lv)
        idx = [self.matrix_model.eta.index(v) for v in lv]
        sub = M[np.ix_(idx, idx)]
        sd = np.sqrt(np.diag(sub))
        return pd.DataFrame(sub / np.outer(sd, sd), index=lv, columns=lv)


def sample_covariance(data: pd.DataFrame | np.ndarray) -> np.ndarray:
    """ML covariance (divisor N), as lavaan uses for ``likelihood = "normal"``.

    The one product here that may use all BLAS threads (``blas.many_rows``): X'X of a national survey.
    """
    from ..blas import many_rows
    x = np.asarray(data, dtype=float)
    with many_rows(*x.shape):
        return ml_covariance(x)


def fit_model(syntax: str, data: pd.DataFrame, *, engine: str = "default", use_semopy: bool | None = None,
              group: str | None = None, groups: Sequence[str] | None = None, group_equal: Iterable[str] = (),
              group_partial: Iterable[str] = (), equal_rows: Iterable[str] = (),
              meanstructure: bool | None = None, estimator: str = "ML", fixed_lv_means: Iterable[str] = (),
              start_fit: "ModelFit | None" = None, missing: str = "listwise", cluster: str | None = None,
              weights: str | None = None, fallback: bool = True) -> ModelFit:
    """Fit ``syntax`` to ``data`` and return lavaan-convention results (the public API, contract §API).

    A thin wrapper of the one fit entry, ``model.estimators.fit``, with the estimator given by name:
    ``engine="default"`` starts Fisher scoring from lavaan's start values (``start.py``) and falls back to
    semopy's solution only when that does not converge; ``engine="semopy"`` starts from semopy's solution
    (the former default, kept as a cross-check).  ``use_semopy`` is the older spelling of the same choice.

    ``group`` (a column of ``data``; ``groups`` fixes the order, first = reference) makes it a multigroup
    fit with lavaan's ``group.equal`` sets in ``group_equal`` and released rows in ``group_partial``;
    ``meanstructure`` defaults to True with groups (as lavaan) and False without.  Those fits, and every
    single-group call other than plain ML on complete rows (``estimator`` MLR/WLSMV, ``missing="fiml"``), go
    through the estimator's multigroup fitter with G = 1 (see ``fit_groups`` for ``equal_rows``,
    ``fixed_lv_means``, ``start_fit``); the plain call is the same staged fit with G = 1 and no means, in the
    single-group shape (:func:`fit_complete`).
    ``cluster`` / ``weights`` (lavaan's ``cluster=`` / ``sampling.weights=``) go through the estimator's design
    fitter for one group (the casewise likelihood; WLSMV's cluster-robust Γ); with ``group``, ``cluster``
    goes through ``fit_groups`` (per-group cluster meats) and weights are refused.  ``fallback=False`` skips
    the restarts after a failed Fisher scoring (the common-method battery's near-unidentified method models
    report non-convergence instead of spending a minute on restarts).
    """
    from ..lavoptions import resolved_options
    from .estimators import fit
    if use_semopy is not None:
        engine = "semopy" if use_semopy else "default"
    try:      # an unknown estimator, missing-data method or engine is refused there, once
        lav = resolved_options(estimator, missing, engine, groups=group is not None)
    except ClusterSemError as exc:       # the command-line wording; a library caller catches FitError
        raise FitError(str(exc).replace("--", "", 1)) from None
    if meanstructure is None:
        meanstructure = group is not None
    # the G = 1 multigroup path for everything but complete ML (the analyses' single-group fitters are the
    # table's ``fitter``, reached through ``estimators.fit`` without ``as_groups``)
    as_groups = not lav.complete_ml
    return fit(syntax, data, lav, group=group, groups=groups, group_equal=group_equal, group_partial=group_partial,
               equal_rows=equal_rows, meanstructure=meanstructure, as_groups=as_groups,
               fixed_lv_means=fixed_lv_means, start_fit=start_fit, cluster=cluster, weights=weights,
               fallback=fallback)


def fit_complete(call) -> ModelFit:
    """The table's ``fitter`` of ML on complete rows (``estimators.FitCall``): the covariance path below."""
    return fit_covariance(call.syntax, call.data, engine=call.lav.engine, fallback=call.fallback)


def fit_covariance(syntax: str, data: pd.DataFrame, *, engine: str = "default", fallback: bool = True) -> ModelFit:
    """Single-group ML from the sample covariance matrix (no mean structure): the staged fit with G = 1
    (``fit_groups``: the single-group screens of :func:`single_statistics`, the start + estimate stage
    :func:`estimate_covariance`, the one assembler), returned in the single-group shape."""
    from .fit_groups import fit_groups
    fit = fit_groups(syntax, data, meanstructure=False, use_semopy=engine == "semopy", fallback=fallback)
    return single_group(fit)


def single_group(fit: ModelFit) -> ModelFit:
    """A G = 1 staged fit in the public single-group shape: rows without a ``group`` column, the group-free
    parameter table and none of the multigroup pieces (the bootstrap and reports take the single-group
    road when ``group_model`` is None)."""
    return replace(fit, partable=fit.partable.group_view(0), parameters=fit.parameters.iloc[:, :len(PARAM_COLUMNS)],
                   sample=None, group_model=None, objective=None, test=None, implied_mean=None,
                   implied_covs=None)


def single_statistics(data: pd.DataFrame, ov: Sequence[str]) -> tuple[SampleStats, str | None]:
    """The sample-statistics stage of one group on complete rows, with the single-group screens: a zero or
    non-finite variance and a singular S (scale-free) are refused; lavaan's note on variances that differ by
    orders of magnitude is returned for the fit's problems."""
    missing = [v for v in ov if v not in data.columns]
    if missing:
        raise FitError(f"data has no column(s) {', '.join(missing)} used by the model")
    x = data[list(ov)].to_numpy(dtype=float)
    if np.isnan(x).any():
        raise FitError("fit_model needs complete data; clean the data (listwise) first")
    S = sample_covariance(x)
    note = _check_sample_cov(S, list(ov))
    stats = SampleStats(tuple(ov), ("",), (len(x),), S[None], x.mean(axis=0)[None],
                        np.asarray([np.linalg.slogdet(S)[1]]), (x,))
    return stats, note


def estimate_covariance(pt: ParTable, mm: MatrixModel, S: np.ndarray, x: np.ndarray | None, *,
                        engine: str = "default", fallback: bool = True) -> tuple[MLSolution, str]:
    """The start + estimate stages of ML on one covariance matrix: lavaan's start values (or semopy's),
    Fisher scoring + BFGS finish (``fit_ml``), restarts when that fails (``fallback``); FitError when no start gives
    a positive-definite Σ.  Why one function: the plain fit and the staged G = 1 covariance-only fit
    (``fit_groups`` with one group, no mean structure) both estimate here, so their solutions agree to the
    last bit (every later stage — vcov, estimates, std.all, fit measures — already does for the same θ).
    ``x``: the complete rows, which only semopy reads (its start, or the restart); None without rows
    (moments only: FIML's start), which needs ``engine="default"`` and ``fallback=False``."""
    if engine == "semopy":
        from .semopy_backend import semopy_estimates  # imported late: semopy is slow to import
        start, note = semopy_estimates(pt, mm, _frame(x, mm), simple_start(mm, S))
    else:
        start, note = lavaan_start(pt, S), "lavaan start values, Fisher scoring + BFGS finish"
    sol = _fisher_or_none(mm, S, start)
    if (sol is None or not sol.converged) and fallback:
        retry, retry_note = _fallback(pt, mm, S, x, engine)
        if retry is not None and (sol is None or retry.converged or retry.fmin < sol.fmin):
            sol, note = retry, note + "; " + retry_note
    if sol is None:
        raise FitError("the model could not be estimated: no start values gave a positive-definite "
                       "implied covariance matrix")
    return sol, note


VARIANCE_RATIO = 1000.0   # lavaan warns when observed variances differ by this factor


def _check_sample_cov(S: np.ndarray, names: list[str]) -> str | None:
    """Refuse a singular S with a scale-free test (on the correlation matrix, so a control in raw units
    such as revenue ~1e8 with variance ~1e16 is not mistaken for singular); return lavaan's note when
    variances differ by orders of magnitude."""
    var = np.diag(S)
    if not np.all(np.isfinite(S)) or var.min() <= 0:
        bad = names[int(np.argmin(np.where(np.isfinite(var), var, -1)))]
        raise FitError(f"the sample variance of '{bad}' is zero or not finite (a constant or overflowing column)")
    sd = np.sqrt(var)
    if np.linalg.eigvalsh(S / np.outer(sd, sd)).min() <= 1e-10 * len(var):
        raise FitError("the sample covariance matrix of the model variables is singular "
                       "(a constant item or perfectly collinear items?)")
    if var.max() / var.min() > VARIANCE_RATIO:
        hi, lo = names[int(np.argmax(var))], names[int(np.argmin(var))]
        return (f"some observed variances differ by a factor of more than {VARIANCE_RATIO:g} ('{hi}': {var.max():.3g}, "
                f"'{lo}': {var.min():.3g}), as lavaan also warns; estimates are exact, but consider rescaling")
    return None


def _fisher_or_none(mm: MatrixModel, S: np.ndarray, start: np.ndarray, **kw):
    try:
        return fit_ml(mm, S, start, **kw)
    except np.linalg.LinAlgError:  # start values not positive definite
        return None


def _frame(x: np.ndarray, mm: MatrixModel) -> pd.DataFrame:
    """The complete rows as semopy reads them (built only when semopy runs)."""
    return pd.DataFrame(x, columns=list(mm.ov))


def _fallback(pt: ParTable, mm: MatrixModel, S: np.ndarray, x: np.ndarray, engine: str):
    """Second attempts when the first start did not converge: simple values, then semopy's solution."""
    sol = _fisher_or_none(mm, S, simple_start(mm, S), max_iter=2000)
    if sol is not None and sol.converged:
        return sol, "restarted from simple values"
    if engine != "semopy":
        from .semopy_backend import semopy_estimates
        theta, note = semopy_estimates(pt, mm, _frame(x, mm), simple_start(mm, S))
        retry = _fisher_or_none(mm, S, theta, max_iter=2000)
        if retry is not None and (sol is None or retry.converged or retry.fmin < sol.fmin):
            return retry, "restarted from semopy's solution"
    return sol, "restarted from simple values"


def assemble(syntax: str, pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray, n: int, *,
             converged: bool, iterations: int, fmin: float, start_note: str = "", vcov: np.ndarray | None = None,
             fit: dict | None = None, mean_rows: list | None = None, labels: dict | None = None) -> ModelFit:
    """Derive SEs, standardized values, defined effects, fit and admissibility from a solution.

    The casewise (FIML / MLR) estimators pass their own ``vcov`` (of θ), ``fit`` dictionary, the ``~1`` rows
    of their mean structure (``mean_rows``, already complete) and ``labels`` (estimator, missing, ...).
    """
    if vcov is None:
        vcov = vcov_expected(mm, theta, S, n)
    se_free = np.sqrt(np.diag(vcov))
    est = estimates(pt, theta, S, mm)
    std = standardized(pt, mm, theta, S)
    rows = [parameter_row(p.lhs, p.op, p.rhs, p.label, est[r], p.free, se_free, std[r])
            for r, p in enumerate(pt.params)]
    rows.extend(mean_rows or [])
    if pt.defined:
        rows.extend(defined_rows(pt, theta, vcov, standardized_defined(pt, std)))
    table = pd.DataFrame(rows, columns=PARAM_COLUMNS)
    sigma = mm.implied(theta[None], S[None])[0]
    x_index = [mm.ov.index(v) for v in pt.variables.ov_x]
    if fit is None:
        fit = fit_measures(fmin=fmin, S=S, sigma=sigma, n=n, n_free=pt.n_free, x_index=x_index)
    problems = admissibility_problems(pt, mm, theta, S, std, n=n, converged=converged,
                                      se_available=bool(np.all(np.isfinite(se_free))))
    return ModelFit(syntax, pt, mm, theta, vcov, S, sigma, n, table, fit, converged, iterations,
                    tuple(problems), start_note, **(labels or {}))


def parameter_row(lhs: str, op: str, rhs: str, label: str, est, free: int, se_free: np.ndarray, std) -> list:
    """One ``parameterEstimates()`` row (``PARAM_COLUMNS``): estimate, SE (0 when fixed), z and p (none when
    fixed or the SE is not positive), std.all.  ``free`` indexes ``se_free`` (−1: a fixed row).  Why one
    function: the single-group, multigroup and WLSMV assemblers each wrote this row."""
    se = float(se_free[free]) if free >= 0 else 0.0
    z = est / se if free >= 0 and se > 0 else None
    return [lhs, op, rhs, label, float(est), se, z, _pvalue(z), float(std)]


def pvalue(z: float | None) -> float | None:
    """Two-sided normal p-value of a z statistic (None when there is no z)."""
    return _pvalue(z)


def _pvalue(z: float | None) -> float | None:
    if z is None or not math.isfinite(z):
        return None
    return math.erfc(abs(z) / math.sqrt(2))  # 2·(1 − Φ(|z|)) without importing scipy.stats
