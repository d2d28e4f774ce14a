"""Fit one model (lavaan syntax + complete data) in named steps, lavaan-style:

    parameter table → matrices → sample statistics → optimise (semopy, then Fisher scoring)
    → vcov → standardized solution → defined parameters → fit indices → admissibility

The result is a frozen ``ModelFit``; nothing is computed after construction.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import FitError
from .admissibility import admissibility_problems
from .estimator import fisher_scoring, simple_start
from .fit_indices import fit_measures
from .inference import (defined_gradient, defined_values, estimates, standardized, standardized_defined,
                        vcov_expected)
from .matrices import MatrixModel, build_matrix_model
from .partable import ParTable, build_partable
from .sample_stats import ml_covariance

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

    @property
    def groups(self) -> tuple[str, ...]:
        """Analysis-group names ((), for a single-group fit)."""
        return self.partable.groups

    def latent_correlations(self) -> pd.DataFrame:
        """Model-implied correlations of the latent variables (for Fornell–Larcker)."""
        lam, beta, psi, _ = (x[0] for x in self.matrix_model.matrices(self.theta[None], self.sample_cov[None]))
        A = np.linalg.inv(np.eye(self.matrix_model.m) - beta)
        M = A @ psi @ A.T
        lv = list(self.partable.variables.lv)
        idx = [self.matrix_model.eta.index(v) for v in lv]
        sub = M[np.ix_(idx, idx)]
        sd = np.sqrt(np.diag(sub))
        return pd.DataFrame(sub / np.outer(sd, sd), index=lv, columns=lv)


def sample_covariance(data: pd.DataFrame) -> np.ndarray:
    """ML covariance (divisor N), as lavaan uses for ``likelihood = "normal"``."""
    return ml_covariance(data.to_numpy(dtype=float))


def fit_model(syntax: str, data: pd.DataFrame, *, use_semopy: bool = True, group: str | None = None,
              groups: Sequence[str] | None = None, group_equal: Iterable[str] = (),
              group_partial: Iterable[str] = (), equal_rows: Iterable[str] = (),
              meanstructure: bool | None = None, estimator: str = "ML", fixed_lv_means: Iterable[str] = (),
              start_fit: "ModelFit | None" = None) -> ModelFit:
    """Fit ``syntax`` to the complete-case ``data`` by ML and return lavaan-convention results.

    ``group`` (a column of ``data``; ``groups`` fixes the order, first = reference) makes it a multigroup
    fit with lavaan's ``group.equal`` sets in ``group_equal`` and released rows in ``group_partial``;
    ``meanstructure`` defaults to True with groups (as lavaan) and False without.  Those fits go through
    ``fit_groups`` (see it for ``equal_rows``, ``fixed_lv_means``, ``start_fit``); the plain single-group
    call keeps the covariance-only path below.
    """
    if meanstructure is None:
        meanstructure = group is not None
    if group is not None or meanstructure or estimator != "ML":
        from .fit_groups import fit_groups
        return fit_groups(syntax, data, group=group, groups=groups, group_equal=group_equal,
                          group_partial=group_partial, equal_rows=equal_rows, meanstructure=meanstructure,
                          estimator=estimator, use_semopy=use_semopy, fixed_lv_means=fixed_lv_means,
                          start_fit=start_fit)
    pt = build_partable(syntax)
    mm = build_matrix_model(pt)
    missing = [v for v in mm.ov if v not in data.columns]
    if missing:
        raise FitError(f"data has no column(s) {', '.join(missing)} used by the model")
    frame = data[list(mm.ov)].astype(float)
    if frame.isna().any().any():
        raise FitError("fit_model needs complete data; clean the data (listwise) first")
    n = len(frame)
    S = sample_covariance(frame)
    if np.linalg.eigvalsh(S).min() <= 1e-12:
        raise FitError("the sample covariance matrix of the model variables is singular "
                       "(a constant item or perfectly collinear items?)")
    start = simple_start(mm, S)
    note = "simple start values, Fisher scoring"
    if use_semopy:
        from .semopy_backend import semopy_estimates  # imported late: semopy is slow to import
        start, note = semopy_estimates(pt, mm, frame, start)
    try:
        sol = fisher_scoring(mm, S, start)
    except np.linalg.LinAlgError:
        sol = fisher_scoring(mm, S, simple_start(mm, S))
        note += "; semopy start not admissible, restarted from simple values"
    if not sol.converged:
        retry = fisher_scoring(mm, S, simple_start(mm, S), max_iter=2000)
        if retry.converged or retry.fmin < sol.fmin:
            sol = retry
    return assemble(syntax, pt, mm, sol.theta, S, n, converged=sol.converged, iterations=sol.iterations,
                    fmin=sol.fmin, start_note=note)


def assemble(syntax: str, pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray, n: int, *,
             converged: bool, iterations: int, fmin: float, start_note: str = "") -> ModelFit:
    """Derive SEs, standardized values, defined effects, fit and admissibility from a solution."""
    vcov = vcov_expected(mm, theta, S, n)
    se_free = np.sqrt(np.diag(vcov))
    est = estimates(pt, theta, S, mm)
    std = standardized(pt, mm, theta, S)
    rows = []
    for r, p in enumerate(pt.params):
        se = float(se_free[p.free]) if p.free >= 0 else 0.0
        z = est[r] / se if p.free >= 0 and se > 0 else None
        rows.append([p.lhs, p.op, p.rhs, p.label, float(est[r]), se, z, _pvalue(z), float(std[r])])
    if pt.defined:
        dval = defined_values(pt, theta)
        jac = defined_gradient(pt, theta)
        dse = np.sqrt(np.einsum("ik,kl,il->i", jac, vcov, jac))
        dstd = standardized_defined(pt, std)
        for row, v, s, st in zip(pt.defined, dval, dse, dstd):
            z = v / s if s > 0 else None
            rows.append([row.lhs, ":=", row.rhs, row.lhs, float(v), float(s), z, _pvalue(z), float(st)])
    table = pd.DataFrame(rows, columns=PARAM_COLUMNS)
    sigma = mm.implied(theta[None], S[None])[0]
    x_index = [mm.ov.index(v) for v in pt.variables.ov_x]
    fit = fit_measures(fmin=fmin, S=S, sigma=sigma, n=n, n_free=pt.n_free, x_index=x_index)
    problems = admissibility_problems(pt, mm, theta, S, std, n=n, converged=converged,
                                      se_available=bool(np.all(np.isfinite(se_free))))
    return ModelFit(syntax, pt, mm, theta, vcov, S, sigma, n, table, fit, converged, iterations,
                    tuple(problems), start_note)


def _pvalue(z: float | None) -> float | None:
    if z is None or not math.isfinite(z):
        return None
    return float(2 * stats.norm.sf(abs(z)))
