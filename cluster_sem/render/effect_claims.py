"""One CI story per effect in the indirect- and total-effect tables (en/zh): reads the typed document only.

Each effect's claim is the one results.json makes (``significant``: the run's CI excludes zero,
``results/effects.effect_claim``).  When that CI is the delta method's, the p beside it says the same and
carries the significance stars.  When it is a bootstrap or Monte Carlo CI, the p (lavaan's delta-method test
of the ``:=`` row) is labelled "p (delta)", shown without stars, and marked † where it disagrees with the
interval — so no table shows p = .042* beside an interval that includes zero and a verdict of "none".
"""
from __future__ import annotations

from typing import Sequence

from ..results.document import Effect
from ..results.effects import effect_claim
from .i18n import catalogue, translator
from .labels import phrase
from .numbers import fmt_p, stars

DISAGREE = "†"


def _judged_by_p(e: Effect) -> bool:
    return (e.ci_method or "delta") == "delta"


def _agrees(e: Effect) -> bool:
    """The stored claim; for a document written before it was stored, the same rule applied here."""
    if e.pvalue_agrees is not None:
        return e.pvalue_agrees
    return effect_claim(e.ci_lower, e.ci_upper, e.pvalue, e.level or 0.95)["pvalue_agrees"]


def p_cells(e: Effect) -> dict:
    """The p column of one effect: ``p`` (APA), ``stars`` (only when the CI is the delta method's) and
    ``mark`` († when a delta-method p beside a bootstrap/Monte Carlo CI tells otherwise)."""
    if _judged_by_p(e):
        return {"p": fmt_p(e.pvalue), "stars": stars(e.pvalue), "mark": ""}
    return {"p": fmt_p(e.pvalue), "stars": "", "mark": "" if _agrees(e) else DISAGREE}


def claim_context(effects: Sequence[Effect], lang: str) -> dict:
    """``p_head`` (the p column's heading) and ``claim_note`` (which interval decides; the † legend)."""
    t = translator(catalogue("structural"), lang)
    if not effects or all(_judged_by_p(e) for e in effects):
        return {"p_head": phrase("p", lang), "claim_note": ""}
    method = phrase(f"method_{next(e.ci_method for e in effects if not _judged_by_p(e))}", lang)
    note = t("claim_note", method=method)
    if any(p_cells(e)["mark"] for e in effects):
        note += " " + t("claim_disagree", method=method)
    return {"p_head": t("p_delta"), "claim_note": note}


__all__ = ["p_cells", "claim_context", "DISAGREE"]
