"""Interpretation of structural estimates: hypotheses, mediation type and Baron & Kenny steps.

These are classifications of numbers already estimated (nothing is re-estimated here), kept out of the
renderers so that every output format tells the same story.

* A path hypothesis is *supported* when p < α and the estimate has the hypothesised sign.
* An indirect-effect hypothesis is supported when its CI excludes zero (bootstrap CI when available).
* Mediation type follows Zhao, Lynch & Chen (2010): complementary / competitive (partial),
  indirect-only (full), direct-only (no mediation), no-effect.
* Baron & Kenny (1986) steps are reported because the field's readers expect them, with the caveat
  (Zhao et al. 2010) that step 1 is not required for mediation.
"""
from __future__ import annotations

ALPHA = 0.05


def _sign_ok(est: float, expect: str) -> bool:
    return {"positive": est > 0, "negative": est < 0}.get(expect, True)


def path_verdict(est: float, pvalue: float | None, expect: str, alpha: float = ALPHA) -> bool:
    return pvalue is not None and pvalue < alpha and _sign_ok(est, expect)


def ci_excludes_zero(lo: float | None, hi: float | None) -> bool:
    return lo is not None and hi is not None and (lo > 0 or hi < 0)


def zhao_type(indirect_significant: bool, direct_significant: bool, indirect: float, direct: float) -> str:
    if indirect_significant and direct_significant:
        return "complementary (partial) mediation" if indirect * direct > 0 else "competitive (partial) mediation"
    if indirect_significant:
        return "indirect-only (full) mediation"
    if direct_significant:
        return "direct-only (no mediation)"
    return "no effect (no mediation)"


def mediation_short(type_: str) -> str:
    """full / partial / none, the words the study's readers use."""
    if "partial" in type_:
        return "partial"
    if "full" in type_:
        return "full"
    return "none"


def baron_kenny(total: dict | None, a: dict, b: dict, direct: dict | None, alpha: float = ALPHA) -> list[dict]:
    """Four steps for X → M → Y; each dict has est/pvalue of the coefficient used."""
    def sig(row):
        return row is not None and row.get("pvalue") is not None and row["pvalue"] < alpha

    steps = [
        {"step": 1, "what": "X → Y total effect (c) is significant", "est": total and total["est"],
         "pvalue": total and total.get("pvalue"), "met": sig(total)},
        {"step": 2, "what": "X → M (a) is significant", "est": a["est"], "pvalue": a.get("pvalue"), "met": sig(a)},
        {"step": 3, "what": "M → Y controlling for X (b) is significant", "est": b["est"], "pvalue": b.get("pvalue"),
         "met": sig(b)},
        {"step": 4, "what": "X → Y direct effect (c′) shrinks / is not significant",
         "est": direct and direct["est"], "pvalue": direct and direct.get("pvalue"),
         "met": (direct is None or not sig(direct)) or (total is not None and abs(direct["est"]) < abs(total["est"]))},
    ]
    return steps
