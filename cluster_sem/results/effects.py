"""Interpretation of structural estimates: hypotheses, mediation type and Baron & Kenny steps.

These are classifications of numbers already estimated (nothing is re-estimated here), kept out of the
renderers so that every output format tells the same story.

* A path hypothesis is *supported* when p < α and the estimate has the hypothesised sign.
* An indirect-effect hypothesis is supported when its CI excludes zero (bootstrap CI when available).
* An indirect or total effect is *significant* when the CI of the run's method excludes zero
  (``effect_claim``): percentile/bias-corrected bootstrap when B > 0, delta or Monte Carlo otherwise.  The
  p beside it is lavaan's delta-method (Wald) test of the ``:=`` row, kept for comparison and labelled so;
  a bootstrap CI of a skewed product can exclude zero while that p is above α, or the reverse.
* Mediation type follows Zhao, Lynch & Chen (2010): complementary / competitive (partial),
  indirect-only (full), direct-only (no mediation), no-effect.
* Johnson–Neyman bounds are reported only within ±3 SD of the moderator (``johnson_neyman_within``).
* Baron & Kenny (1986) steps are reported because the field's readers expect them, with the caveat
  (Zhao et al. 2010) that step 1 is not required for mediation.
"""
from __future__ import annotations

import math

ALPHA = 0.05
JN_RANGE_SD = 3.0   # a Johnson–Neyman bound is reported only within ±3 SD of the (latent, mean-0) moderator


def _sign_ok(est: float, expect: str) -> bool:
    return {"positive": est > 0, "negative": est < 0}.get(expect, True)


def path_verdict(est: float, pvalue: float | None, expect: str, alpha: float = ALPHA) -> bool:
    return pvalue is not None and pvalue < alpha and _sign_ok(est, expect)


def ci_excludes_zero(lo: float | None, hi: float | None) -> bool:
    return lo is not None and hi is not None and (lo > 0 or hi < 0)


def effect_claim(ci_lower: float | None, ci_upper: float | None, pvalue: float | None,
                 level: float = 1 - ALPHA) -> dict:
    """The one significance claim about an indirect or total effect, for every output: its reported CI
    excludes zero.  ``pvalue_agrees`` says whether the delta-method p (at α = 1 − level) tells the same."""
    significant = ci_excludes_zero(ci_lower, ci_upper)
    agrees = pvalue is None or (pvalue < 1 - level) == significant
    return {"significant": significant, "pvalue_method": "delta", "pvalue_agrees": agrees}


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


def johnson_neyman_within(bounds: list[float] | None, where: str | None, sd: float,
                          k: float = JN_RANGE_SD) -> dict:
    """The Johnson–Neyman result restricted to the moderator's plausible range ±k SD (latent scale, mean 0).

    A bound far outside the values the moderator takes (e.g. at −15 SD) describes an extrapolation, not the
    data: reports print only ``bounds`` inside ``range``, and ``significant``: the sub-intervals of the range
    where the focal slope is significant (empty: nowhere in it; the whole range: everywhere in it).
    ``where`` is ``johnson_neyman``'s: "outside" / "inside" the bounds, "everywhere" / "nowhere"."""
    lo_r, hi_r = -k * sd, k * sd
    if where == "everywhere":
        regions = [(-math.inf, math.inf)]
    elif where == "nowhere" or not bounds:
        regions = []
    elif where == "outside":
        regions = [(-math.inf, bounds[0]), (bounds[1], math.inf)]
    else:
        regions = [(bounds[0], bounds[1])]
    significant = [[max(a, lo_r), min(b, hi_r)] for a, b in regions if max(a, lo_r) < min(b, hi_r)]
    return {"range": [lo_r, hi_r], "k_sd": k, "bounds": [b for b in bounds or () if lo_r < b < hi_r],
            "significant": significant}
