"""Equality tests of two effects — lavaan's ``lavTestWald`` and the LRT of the constrained refit.

Why both: the Wald test needs the fitted model only (W = g(θ)² / (J V J'), g = left − right, J = ∂g/∂θ,
V = the fit's vcov — robust under MLR/WLSMV, as lavaan's ``vcov(fit)``), while the likelihood-ratio test
refits the model with the two paths sharing one label (an equality constraint) and is the better-behaved
test in small samples.  Effects are paths written ``TO~FROM`` or named indirect effects (``:=`` rows);
an equality of indirect effects is a nonlinear constraint, which the estimation core does not refit
under, so its LRT is null with the reason.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ClusterSemError, FitError
from ..special import chdtrc  # = scipy.stats.chi2.sf, without importing scipy.stats on every fit
from .inference import defined_gradient, defined_values


@dataclass(frozen=True)
class Effect:
    """One side of a hypothesis: a regression row (lhs ~ rhs) or a defined effect (name)."""

    text: str
    lhs: str = ""
    rhs: str = ""
    name: str = ""

    @property
    def is_path(self) -> bool:
        return not self.name


_PATH = re.compile(r"^\s*([A-Za-z_.][A-Za-z0-9_.]*)\s*~\s*([A-Za-z_.][A-Za-z0-9_.]*)\s*$")
_NAME = re.compile(r"^\s*([A-Za-z_.][A-Za-z0-9_.]*)\s*$")


def parse_hypothesis(text: str, paths: set[tuple[str, str]], effects: set[str]) -> tuple[Effect, Effect]:
    """``"OL~TS = OL~RQ"`` or ``"ind_TS = ind_RQ"`` → two Effects; ClusterSemError naming the fix."""
    example = 'Fix: write two paths as TO~FROM or two named indirect effects, e.g. --compare "OL~TS = OL~RQ"'
    sides = text.split("=")
    if len(sides) != 2 or "" in (s.strip() for s in sides):
        raise ClusterSemError(f"--compare '{text}': needs exactly one '=' between two effects. {example}")
    out = []
    for side in sides:
        path, name = _PATH.match(side), _NAME.match(side)
        if path and (path.group(1), path.group(2)) in paths:
            out.append(Effect(f"{path.group(1)}~{path.group(2)}", lhs=path.group(1), rhs=path.group(2)))
        elif name and name.group(1) in effects:
            out.append(Effect(name.group(1), name=name.group(1)))
        else:
            known = sorted(f"{a}~{b}" for a, b in paths) + sorted(effects)
            raise ClusterSemError(f"--compare '{text}': '{side.strip()}' is neither a path of the model (TO~FROM) "
                                  f"nor a named indirect effect. Fix: use one of {', '.join(known)}")
    if out[0] == out[1]:
        raise ClusterSemError(f"--compare '{text}': both sides name the same effect. {example}")
    return out[0], out[1]


def _row(fit, effect: Effect):
    for p in fit.partable.params:
        if p.op == "~" and p.lhs == effect.lhs and p.rhs == effect.rhs and p.group == 0:
            return p
    raise FitError(f"'{effect.text}' is not a regression of the fitted model")


def _value_and_gradient(fit, effect: Effect) -> tuple[float, np.ndarray]:
    theta = np.asarray(fit.theta, dtype=float)
    pt = fit.partable
    if effect.is_path:
        p = _row(fit, effect)
        grad = np.zeros(len(theta))
        if p.free >= 0:
            grad[p.free] = 1.0
        return float(theta[p.free]) if p.free >= 0 else float(p.value or 0.0), grad
    names = [d.lhs for d in pt.defined]
    if effect.name not in names:
        raise FitError(f"'{effect.name}' is not a defined effect of the fitted model")
    k = names.index(effect.name)
    return float(defined_values(pt, theta)[k]), defined_gradient(pt, theta)[k]


def wald_test(fit, left: Effect, right: Effect) -> dict:
    """lavaan's ``lavTestWald(fit, "left == right")``: {chi2, df, pvalue, difference, se}."""
    a, ga = _value_and_gradient(fit, left)
    b, gb = _value_and_gradient(fit, right)
    g, J = a - b, ga - gb
    var = float(J @ np.asarray(fit.vcov)[: len(J), : len(J)] @ J)
    if not np.isfinite(var) or var <= 0:
        return {"chi2": None, "df": 1, "pvalue": None, "difference": g, "se": None}
    chi2 = g * g / var
    return {"chi2": chi2, "df": 1, "pvalue": float(chdtrc(1, chi2)), "difference": g, "se": float(np.sqrt(var))}


def constrained_syntax(fit, left: Effect, right: Effect) -> str:
    """The fit's syntax with the right path carrying the left path's label (without ``:=`` lines, whose
    labels no longer all exist); FitError when a side is not a labelled path."""
    if not (left.is_path and right.is_path):
        raise FitError("an equality of indirect effects is a nonlinear constraint; the refit supports "
                       "equal paths only (the Wald test stands)")
    la, lb = _row(fit, left).label, _row(fit, right).label
    if not la or not lb:
        raise FitError("the paths carry no labels, so they cannot be set equal in a refit")
    pattern = re.compile(rf"(^|[+~\s]){re.escape(lb)}\s*\*\s*{re.escape(right.rhs)}(?=\s*(\+|$))")
    lines, replaced = [], 0
    for line in fit.syntax.splitlines():
        if ":=" in line:
            continue
        if line.split("~")[0].strip() == right.lhs and "=~" not in line and "~~" not in line:
            line, k = pattern.subn(lambda m: f"{m.group(1)}{la}*{right.rhs}", line)
            replaced += k
        lines.append(line)
    if replaced != 1:
        raise FitError(f"the path {right.text} is not written as '{lb}*{right.rhs}' in the model syntax")
    return "\n".join(lines) + "\n"


def difference_test(restricted, free) -> dict:
    """``lavTestLRT(restricted, free)`` by the fits' statistic (the estimator table's ``delta_test``): the plain
    Δχ² under ML, Satorra–Bentler (2001) under MLR.  Single-group fits carry the statistic's name in
    ``test_name``."""
    from .estimators import delta_test
    name = free.test.name if free.test is not None else free.test_name
    if name == "scaled.shifted" and free.test is None:
        raise FitError("the scaled-shifted difference test of WLSMV (Satorra 2000) is computed for multigroup "
                       "fits only; the Wald test with the robust covariance matrix stands")
    difference = delta_test(name)
    if difference is None:
        raise FitError(f"no difference test for the '{name}' statistic; the Wald test stands")
    out = difference(restricted, free)
    if not np.isfinite(out["chi2"]) or out["chi2"] < 0:
        # Satorra-Bentler (2001) with a negative scaling factor of the difference (small samples, weights):
        # lavaan warns "scaling factor is negative" and reports NA; a negative chi-square is no test
        raise FitError(f"the {name} difference test is undefined here (chi-square difference "
                       f"{out['chi2']:.3g}: the scaling factor of the difference is negative, lavaan reports NA); "
                       "the Wald test stands")
    return {"chi2": out["chi2"], "df": out["df"], "pvalue": out["pvalue"]}


def compare(fit, text: str, left: Effect, right: Effect, refit: Callable[[str], object]) -> dict:
    """One ``comparisons`` record: the hypothesis, its Wald test and the LRT of the constrained refit
    (null with ``lrt_note`` when no refit is possible or it fails)."""
    wald = wald_test(fit, left, right)
    record = {"hypothesis": text, "left": left.text, "right": right.text, "difference": wald.pop("difference"),
              "se": wald.pop("se"), "wald": wald, "lrt": None, "lrt_note": None}
    try:
        restricted = refit(constrained_syntax(fit, left, right))
        if not restricted.converged:
            raise FitError("the constrained model did not converge")
        record["lrt"] = difference_test(restricted, fit)
    except (FitError, ClusterSemError) as exc:
        record["lrt_note"] = str(exc)
    return record


__all__ = ["Effect", "compare", "constrained_syntax", "parse_hypothesis", "wald_test"]
