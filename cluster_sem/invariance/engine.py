"""Invariance levels, Δ-tests, Chen (2007) decisions, score tests, latent means and path differences.

Levels (lavaan ``group.equal``): configural (same pattern) → metric (+ loadings) → scalar (+ intercepts;
latent means free in groups 2..G) → strict (+ residual variances).  Each level is fitted from the previous
level's estimates; its Δ-test is ``lavTestLRT`` against the previous level (``model.lrt``).

Decision per level: configural holds when its CFI and RMSEA are at least "acceptable" (CFI ≥ .90, RMSEA
≤ .08; ``results.fit_verdicts``); a constrained level holds when, against the previous level, CFI drops by
at most .010 and RMSEA rises by at most .015 (Chen 2007).  The Δχ² test is reported beside them (with
hundreds of cases it rejects trivial differences, which is why the Δ-fit cut-offs decide).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..lavoptions import LAVAAN_DEFAULTS, LavOptions, resolved_options
from ..model import estimators
from ..model.fitted import ModelFit
from ..model.lrt import lrt
from ..model.score_test import univariate_score_tests
from ..results.fit_verdicts import reported_key, verdict

LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("configural", ()),
    ("metric", ("loadings",)),
    ("scalar", ("loadings", "intercepts")),
    ("strict", ("loadings", "intercepts", "residuals")),
)
CHEN_CFI, CHEN_RMSEA = 0.010, 0.015
# ordered items (WLSMV): thresholds take the intercepts' place in the scalar step (lavaan group.equal =
# c("loadings", "thresholds"), which also frees the latent means and the scale factors Δ in groups 2..G);
# no strict step: under the delta parameterization the item residual variances are not parameters
LEVELS_ORDINAL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("configural", ()),
    ("metric", ("loadings",)),
    ("scalar", ("loadings", "thresholds")),
)


def levels_for(estimator: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The levels an estimator tests: thresholds in the scalar step for ordered items (lavaan's defaults)."""
    return LEVELS_ORDINAL if LAVAAN_DEFAULTS[estimator.upper()].categorical else LEVELS


def fit_index(fit: ModelFit, name: str) -> float:
    """CFI/RMSEA as the decisions read them: the ones a reader reports for this estimator
    (``results.fit_verdicts.reported_key``) — WLSMV's scaled versions (the unscaled DWLS χ² is not a χ²
    variate), MLR's robust ones (lavaan's ``.robust``, Brosseau-Liard & Savalei), the plain ones under ML."""
    return fit.fit[reported_key(fit.fit, name)]


@dataclass(frozen=True)
class GroupedData:
    frame: pd.DataFrame        # complete cases (FIML: rows keep their blanks), group column = analysis-group names
    column: str
    groups: tuple[str, ...]    # reference first
    missing: str = "listwise"  # "fiml": every level / path model fitted by multigroup FIML
    cluster: str | None = None  # cluster column: cluster-robust SEs, scaled tests and Δ-tests in every fit

    def options(self, estimator: str) -> LavOptions:
        """The fits' resolved options (the command refused unsupported ones when it resolved its own)."""
        return resolved_options(estimator, self.missing, command="invariance", groups=True,
                                design="--cluster" if self.cluster else "")


@dataclass(frozen=True)
class Level:
    name: str
    fit: ModelFit
    delta: dict | None         # chi2, df, pvalue, cfi, rmsea (changes against the previous level)
    holds: bool


def _fit(syntax: str, data: GroupedData, equal: Sequence[str], estimator: str = "ML", **kw) -> ModelFit:
    """One multigroup fit through the one fit entry (the estimator table picks the group fitter)."""
    return estimators.fit(syntax, data.frame, data.options(estimator), group=data.column, groups=data.groups,
                          group_equal=equal, cluster=data.cluster, **kw)


def fit_levels(syntax: str, data: GroupedData, *, release: Sequence[str] = (), estimator: str = "ML") -> list[Level]:
    out: list[Level] = []
    previous: ModelFit | None = None
    for name, equal in levels_for(estimator):
        fit = _fit(syntax, data, equal, group_partial=release, start_fit=previous, estimator=estimator)
        if previous is None:
            delta = None
            holds = (verdict("cfi", fit_index(fit, "cfi")) != "poor"
                     and verdict("rmsea", fit_index(fit, "rmsea")) != "poor")
        else:
            delta = lrt(fit, previous)
            delta["cfi"] = fit_index(fit, "cfi") - fit_index(previous, "cfi")
            delta["rmsea"] = fit_index(fit, "rmsea") - fit_index(previous, "rmsea")
            holds = delta["cfi"] >= -CHEN_CFI and delta["rmsea"] <= CHEN_RMSEA
        out.append(Level(name, fit, delta, holds and fit.converged))
        previous = fit
    return out


def first_failing(levels: Sequence[Level]) -> Level | None:
    """The first constrained level that does not hold (where partial invariance is explored)."""
    return next((lv for lv in levels if lv.delta is not None and not lv.holds), None)


def score_tests(level: Level | None) -> list[dict]:
    """lavTestScore univariate tests of the level's equality constraints, largest χ² first."""
    if level is None or not estimators.row(level.fit.estimator).score_tests:   # lavTestScore: not built for WLSMV
        return []
    return sorted(univariate_score_tests(level.fit), key=lambda r: -r["chi2"])


def latent_means(scalar: ModelFit, reference: str) -> list[dict]:
    """Latent means of every group against the reference group (fixed at 0) in the scalar model."""
    P = scalar.parameters
    lv = set(scalar.partable.variables.lv)
    rows = P[(P.op == "~1") & P.lhs.isin(lv) & (P.group != reference)]
    return [{"construct": r.lhs, "group": r.group, "est": r.est, "se": r.se, "pvalue": r.pvalue,
             "z": r.z} for r in rows.itertuples() if r.se > 0]


def unlabelled(syntax: str) -> str:
    """Structural syntax with the path labels (``b_X_Y*``) and ``:=`` lines removed, so every path is free
    per group (a label shared by all groups would be an equality constraint)."""
    lines = [ln for ln in syntax.splitlines() if ":=" not in ln]
    return re.sub(r"\b[A-Za-z_.][A-Za-z0-9_.]*\*(?=[A-Za-z_.])", "", "\n".join(lines)) + "\n"


def path_differences(syntax: str, data: GroupedData, paths: Sequence[tuple[str, str]], *,
                     release: Sequence[str] = (), fixed_lv_means: Sequence[str] = (),
                     start: ModelFit | None = None, **estimator) -> tuple[ModelFit, list[dict]]:
    """Loadings and intercepts (thresholds, for WLSMV) equal, every path free per group; per-path
    equality LRT (df = G − 1).  ``estimator=...`` is passed on only when given (WLSMV)."""
    equal = levels_for(estimator.get("estimator", "ML"))[2][1]
    free = _fit(syntax, data, equal, group_partial=release, fixed_lv_means=fixed_lv_means, start_fit=start,
                **estimator)
    P = free.parameters
    out = []
    for to, frm in paths:
        key = f"{to}~{frm}"
        con = _fit(syntax, data, equal, group_partial=release, fixed_lv_means=fixed_lv_means,
                   equal_rows=[key], start_fit=free, **estimator)
        test = lrt(con, free)
        rows = P[(P.lhs == to) & (P.op == "~") & (P.rhs == frm)]
        out.append({"path": key, "chi2": test["chi2"], "df": test["df"], "pvalue": test["pvalue"],
                    "est": {r.group: r.est for r in rows.itertuples()},
                    "se": {r.group: r.se for r in rows.itertuples()}})
    return free, out
