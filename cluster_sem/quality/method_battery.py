"""The common-method battery: Harman as a CFA, a common latent factor (CLF), an unmeasured latent method
construct (ULMC) and the CFA marker technique — the checks 周浩 & 龙立荣 (2004) list for single-respondent
surveys, each fitted as lavaan would fit the same syntax (ML, complete rows).

Why a battery: Harman's first-factor share alone says little (Podsakoff et al. 2003; Richardson et al.
2009) — a method factor large enough to bias the paths can leave it below 50 %.  Each model adds a
different piece of evidence, and each has a known failure, reported with it:

* one-factor CFA: every item on one factor; Δχ² against the measurement model (CFA).
* CLF: a method factor M on every item, loadings equal (all fixed at 1, Var(M) free: the same model as
  one shared free loading), orthogonal to the constructs.  Its share of method variance is the mean
  squared standardized method loading.  A CLF can absorb the traits (substantive loadings collapse) or run
  to an improper solution; its "method variance" is then no such thing, so both are flagged.
* ULMC: loadings free, Var(M) = 1, orthogonal to the constructs (Podsakoff et al. 2003, Table 5).
* marker (Williams et al. 2010): with marker items in the spec (``method_marker``), the models baseline
  (marker factor with its loadings and residual variances fixed at the CFA values, orthogonal to the
  constructs), Method-C (equal marker loadings on every item), Method-U (free ones) and Method-R (the better
  method model with the construct correlations fixed at the baseline values).  Constructs are scaled by
  their variance (std.lv) there, so fixing covariances fixes correlations.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import FitError
from ..model.lrt import standard_difference
from .common_method import HARMAN_SHARE_MAX

Fitter = Callable[[str], object]       # syntax -> ModelFit (ML on the battery's complete rows)

CHANGE_MIN = 0.2        # substantive loading change that marks an item (CLF vs CFA)
SHARE_HIGH = 0.25       # method-variance share above which the battery calls the method variance substantial
DELTA_CFI = 0.01        # a method factor that improves CFI by no more than this adds little
SOURCES = ("Podsakoff, MacKenzie, Lee & Podsakoff (2003)", "Richardson, Simmering & Sturman (2009)",
           "Williams, Hartman & Cavazotte (2010)", "周浩, 龙立荣 (2004)")


@dataclass(frozen=True)
class BatteryModel:
    """What the battery is asked to check: first-order constructs and their items, item residual
    covariances of the measurement model, marker items (may be empty)."""

    constructs: dict[str, list[str]]
    covariances: tuple[tuple[str, str], ...] = ()
    marker: tuple[str, ...] = ()

    @property
    def items(self) -> list[str]:
        return [i for items in self.constructs.values() for i in items]

    def fresh(self, base: str) -> str:
        """A latent name used by no construct or item (``CMV``, ``CMV_``, ...)."""
        taken = set(self.constructs) | set(self.items) | set(self.marker)
        while base in taken:
            base += "_"
        return base


# -- syntax ---------------------------------------------------------------------------------------------
def cfa_syntax(m: BatteryModel, *, std_lv: bool = False, fixed_cor: dict | None = None) -> str:
    """The measurement model (every construct correlated); ``std_lv``: loadings free, variances 1;
    ``fixed_cor``: {(a, b): r} construct covariances fixed at r (std_lv only)."""
    lines = []
    for k, (c, items) in enumerate(m.constructs.items()):
        if std_lv:
            lines.append(f"{c} =~ " + " + ".join(f"cmb_l{k}_{j}*{i}" for j, i in enumerate(items)))
            lines.append(f"{c} ~~ 1*{c}")
        else:
            lines.append(f"{c} =~ " + " + ".join(items))
    names = list(m.constructs)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            pair = (names[a], names[b])
            value = (fixed_cor or {}).get(pair)
            lines.append(f"{pair[0]} ~~ {_num(value)}*{pair[1]}" if value is not None else f"{pair[0]} ~~ {pair[1]}")
    lines += [f"{a} ~~ {b}" for a, b in m.covariances]
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return repr(float(value))


def _orthogonal(method: str, m: BatteryModel) -> list[str]:
    return [f"{method} ~~ 0*{c}" for c in m.constructs]


def one_factor_syntax(m: BatteryModel) -> str:
    return f"{m.fresh('CMV')} =~ " + " + ".join(m.items) + "\n"


def clf_syntax(m: BatteryModel) -> str:
    M = m.fresh("CMV")
    lines = [f"{M} =~ " + " + ".join(f"1*{i}" for i in m.items)] + _orthogonal(M, m)
    return cfa_syntax(m) + "\n".join(lines) + "\n"


def ulmc_syntax(m: BatteryModel) -> str:
    M = m.fresh("CMV")
    lines = [f"{M} =~ " + " + ".join(f"cmb_u{j}*{i}" for j, i in enumerate(m.items)), f"{M} ~~ 1*{M}"]
    return cfa_syntax(m) + "\n".join(lines + _orthogonal(M, m)) + "\n"


# -- summaries of a fit -----------------------------------------------------------------------------------
def _loadings(fit, lhs: str | None = None) -> dict[tuple[str, str], float]:
    P = fit.parameters
    rows = P[(P.op == "=~") & ((P.lhs == lhs) if lhs is not None else True)]
    return {(r.lhs, r.rhs): float(r.std_all) for r in rows.itertuples()}


def proper_solution(fit) -> bool:
    """Converged, identified (finite SEs) and admissible (``model/admissibility``: no Heywood case, no
    non-positive-definite matrix, no |r| or |λ*| > 1).  Fewer cases than parameters alone is no defect."""
    from ..model.admissibility import findings
    from ..model.inference import standardized
    if not fit.converged or not np.all(np.isfinite(np.diag(fit.vcov))):
        return False
    theta, S = np.asarray(fit.theta, dtype=float), fit.sample_cov
    std = standardized(fit.partable, fit.matrix_model, theta, S)
    return bool(findings(fit.partable, fit.matrix_model, theta[None], S[None], std[None]).ok()[0])


def _model_record(fit) -> dict:
    return {"fit": dict(fit.fit), "converged": bool(fit.converged), "warnings": list(fit.problems),
            "proper": proper_solution(fit)}


def _delta(restricted, free) -> dict | None:
    """Δχ² of two nested fits (lavTestLRT); None unless both converged (a difference of a failed fit
    can even be negative and would read as a test)."""
    if not (restricted.converged and free.converged):
        return None
    d = standard_difference(restricted, free)
    return {"chi2": d["chi2"], "df": d["df"], "pvalue": d["pvalue"]}


def _try_fit(fitter: Fitter, syntax: str):
    """The fit, or (None, reason) when the model cannot be estimated at all — among them a model with more
    parameters than sample moments (negative df: not identified, e.g. a ULMC on a few items)."""
    from ..model.partable import build_partable
    pt = build_partable(syntax)
    p = len(pt.variables.ov)
    df = p * (p + 1) // 2 - pt.n_free
    if df < 0:
        return None, (f"not identified: {pt.n_free} free parameters for {p * (p + 1) // 2} variances and "
                      f"covariances (df = {df})")
    try:
        return fitter(syntax), None
    except FitError as exc:
        return None, str(exc)


def _not_estimated(reason: str) -> dict:
    return {"fit": None, "converged": False, "warnings": [reason], "proper": False, "delta": None}


def method_variance_share(fit, method: str, items: Sequence[str]) -> float:
    """Mean squared standardized method loading over the substantive items."""
    load = _loadings(fit, method)
    return float(np.mean([load[(method, i)] ** 2 for i in items]))


def clf_block(m: BatteryModel, cfa, fitter: Fitter) -> dict:
    """CLF record: fit, Δχ² against the CFA, ΔCFI, method-variance share, substantive loadings that move
    by more than .2, and ``absorbs_traits`` (half the items or more move: the method factor took the traits)."""
    fit, reason = _try_fit(fitter, clf_syntax(m))
    if fit is None:
        return _not_estimated(reason)
    M = m.fresh("CMV")
    before, after = _loadings(cfa), _loadings(fit)
    changed = [{"construct": c, "item": i, "cfa": before[(c, i)], "clf": after[(c, i)],
                "change": after[(c, i)] - before[(c, i)]}
               for c, items in m.constructs.items() for i in items
               if abs(after[(c, i)] - before[(c, i)]) > CHANGE_MIN]
    out = _model_record(fit)
    out.update({"method_factor": M, "delta": _delta(cfa, fit), "delta_cfi": fit.fit["cfi"] - cfa.fit["cfi"],
                "method_variance_share": method_variance_share(fit, M, m.items),
                "method_loadings": {i: v for (_, i), v in _loadings(fit, M).items()},
                "loadings_changed": changed, "absorbs_traits": len(changed) >= len(m.items) / 2})
    return out


def ulmc_block(m: BatteryModel, cfa, fitter: Fitter) -> dict:
    fit, reason = _try_fit(fitter, ulmc_syntax(m))
    if fit is None:
        return _not_estimated(reason)
    M = m.fresh("CMV")
    out = _model_record(fit)
    out.update({"method_factor": M, "delta": _delta(cfa, fit), "delta_cfi": fit.fit["cfi"] - cfa.fit["cfi"],
                "method_variance_share": method_variance_share(fit, M, m.items)})
    return out


def one_factor_block(m: BatteryModel, cfa, fitter: Fitter) -> dict:
    fit, reason = _try_fit(fitter, one_factor_syntax(m))
    if fit is None:
        return _not_estimated(reason)
    out = _model_record(fit)
    out["delta"] = _delta(fit, cfa)
    return out


# -- the CFA marker technique (Williams et al. 2010) ------------------------------------------------------
def marker_block(m: BatteryModel, fitter: Fitter) -> dict | None:
    """Baseline, Method-C, Method-U and Method-R with their three comparisons; None without marker items."""
    if not m.marker:
        return None
    K = m.fresh("MARKER")
    with_marker = BatteryModel({**m.constructs, K: list(m.marker)}, m.covariances)
    cfa, reason = _try_fit(fitter, cfa_syntax(with_marker, std_lv=True))
    if cfa is None:
        return {"marker_factor": K, "items": list(m.marker), "error": reason}
    P = cfa.parameters
    lam = {r.rhs: float(r.est) for r in P[(P.op == "=~") & (P.lhs == K)].itertuples()}
    theta = {r.lhs: float(r.est) for r in P[(P.op == "~~") & (P.lhs == P.rhs) & P.lhs.isin(list(m.marker))].itertuples()}
    fixed = [f"{K} =~ " + " + ".join(f"{_num(lam[i])}*{i}" for i in m.marker), f"{K} ~~ 1*{K}"]
    fixed += [f"{i} ~~ {_num(theta[i])}*{i}" for i in m.marker] + _orthogonal(K, m)

    def syntax(loadings: str | None, fixed_cor: dict | None = None) -> str:
        extra = [] if loadings is None else [f"{K} =~ " + " + ".join(
            f"{'cmb_mc' if loadings == 'equal' else f'cmb_mu{j}'}*{i}" for j, i in enumerate(m.items))]
        return cfa_syntax(m, std_lv=True, fixed_cor=fixed_cor) + "\n".join(fixed + extra) + "\n"

    models, fits = {}, {}
    for name, load in (("baseline", None), ("method_c", "equal"), ("method_u", "free")):
        fit, reason = _try_fit(fitter, syntax(load))
        fits[name] = fit
        models[name] = _model_record(fit) if fit is not None else _not_estimated(reason)
    if any(f is None for f in fits.values()):
        return {"marker_factor": K, "items": list(m.marker), "models": models, "comparisons": [],
                "chosen": None, "method_variance_share": None}
    c_vs_u = _delta(fits["method_c"], fits["method_u"]) or {"chi2": None, "df": None, "pvalue": None}
    chosen = "method_u" if c_vs_u["pvalue"] is not None and c_vs_u["pvalue"] < 0.05 else "method_c"
    cors = _construct_correlations(fits["baseline"], list(m.constructs))
    fit_r, reason = _try_fit(fitter, syntax("equal" if chosen == "method_c" else "free", cors))
    fits["method_r"] = fit_r
    models["method_r"] = _model_record(fit_r) if fit_r is not None else _not_estimated(reason)
    empty = {"chi2": None, "df": None, "pvalue": None}
    comparisons = [{"test": "baseline_vs_method_c", **(_delta(fits["baseline"], fits["method_c"]) or empty)},
                   {"test": "method_c_vs_method_u", **c_vs_u}]
    if fit_r is not None:
        comparisons.append({"test": f"{chosen}_vs_method_r", **(_delta(fit_r, fits[chosen]) or empty)})
    return {"marker_factor": K, "items": list(m.marker), "models": models, "comparisons": comparisons,
            "chosen": chosen, "method_variance_share": method_variance_share(fits[chosen], K, m.items)}


def _construct_correlations(fit, constructs: list[str]) -> dict[tuple[str, str], float]:
    P = fit.parameters
    rows = P[(P.op == "~~") & P.lhs.isin(constructs) & P.rhs.isin(constructs) & (P.lhs != P.rhs)]
    return {(r.lhs, r.rhs): float(r.est) for r in rows.itertuples()}


# -- the verdict ------------------------------------------------------------------------------------------
def verdict(harman_share: float, one_factor: dict, clf: dict, ulmc: dict, marker: dict | None) -> dict:
    """Level and reasons (codes the report words in en/zh), each a rule from the battery's sources."""
    reasons: list[str] = []
    serious = some = False
    if harman_share > HARMAN_SHARE_MAX:
        reasons.append("harman_majority")
        serious = True
    else:
        reasons.append("harman_minority")
    d1 = one_factor.get("delta")
    if d1 and d1["df"] == 0:
        reasons.append("one_factor_is_cfa")       # a single construct: nothing to compare
    elif d1 and d1["pvalue"] is not None and d1["pvalue"] >= 0.05:
        reasons.append("one_factor_fits")
        serious = True
    elif d1:
        reasons.append("one_factor_worse")
    if not clf.get("proper"):
        reasons.append("clf_improper")
    elif clf.get("absorbs_traits"):
        reasons.append("clf_absorbs")
    elif clf["method_variance_share"] >= SHARE_HIGH and clf["delta_cfi"] > DELTA_CFI:
        reasons.append("clf_substantial")
        serious = True
    elif clf.get("delta") and clf["delta"]["pvalue"] is not None and clf["delta"]["pvalue"] < 0.05:
        reasons.append("clf_small")
        some = True
    else:
        reasons.append("clf_none")
    if not ulmc.get("proper"):
        reasons.append("ulmc_improper")
    if marker and marker.get("comparisons"):
        tests = {c["test"]: c for c in marker["comparisons"]}
        base = tests.get("baseline_vs_method_c")
        r_test = next((c for k, c in tests.items() if k.endswith("_vs_method_r")), None)
        if r_test and r_test["pvalue"] is not None and r_test["pvalue"] < 0.05:
            reasons.append("marker_biases")
            serious = True
        elif base and base["pvalue"] is not None and base["pvalue"] < 0.05:
            reasons.append("marker_present")
            some = True
        else:
            reasons.append("marker_none")
    level = "serious" if serious else ("some" if some else "none")
    if not serious and ("clf_improper" in reasons or "clf_absorbs" in reasons) and not marker:
        level = "inconclusive" if not some else level
    return {"level": level, "reasons": reasons, "sources": list(SOURCES)}


def run_battery(m: BatteryModel, frame: pd.DataFrame, fitter: Fitter, harman_share: float) -> dict:
    """Every model of the battery on ``frame`` (complete rows of items and markers)."""
    cfa = fitter(cfa_syntax(m))
    one = one_factor_block(m, cfa, fitter)
    clf = clf_block(m, cfa, fitter)
    ulmc = ulmc_block(m, cfa, fitter)
    marker = marker_block(m, fitter)
    return {"cfa": _model_record(cfa), "one_factor_cfa": one, "clf": clf, "ulmc": ulmc, "marker": marker,
            "verdict": verdict(harman_share, one, clf, ulmc, marker)}


__all__ = ["BatteryModel", "run_battery", "cfa_syntax", "clf_syntax", "ulmc_syntax", "one_factor_syntax",
           "marker_block", "verdict", "SOURCES"]
