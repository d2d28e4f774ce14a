"""Verdicts on global fit with the usual cut-offs, each with its source.

Cut-offs: Hu & Bentler (1999) — CFI and TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08 for good fit; the looser
"acceptable" bands (CFI/TLI ≥ .90, RMSEA ≤ .08) follow Browne & Cudeck (1993) and Marsh, Hau & Wen (2004);
χ²/df ≤ 3 follows Kline (2016).  They are conventions, not tests: the report says so.
"""
from __future__ import annotations

CUTOFFS = {
    "cfi": {"good": 0.95, "acceptable": 0.90, "direction": "higher", "source": "Hu & Bentler (1999)"},
    "tli": {"good": 0.95, "acceptable": 0.90, "direction": "higher", "source": "Hu & Bentler (1999)"},
    "rmsea": {"good": 0.06, "acceptable": 0.08, "direction": "lower", "source": "Hu & Bentler (1999); Browne & Cudeck (1993)"},
    "srmr": {"good": 0.08, "acceptable": 0.10, "direction": "lower", "source": "Hu & Bentler (1999)"},
    "chi2_df": {"good": 2.0, "acceptable": 3.0, "direction": "lower", "source": "Kline (2016)"},
}


def verdict(index: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    c = CUTOFFS[index]
    better = (lambda v, t: v >= t) if c["direction"] == "higher" else (lambda v, t: v <= t)
    if better(value, c["good"]):
        return "good"
    if better(value, c["acceptable"]):
        return "acceptable"
    return "poor"


def reported_key(fit: dict, index: str) -> str:
    """The key of ``index`` (cfi, tli, rmsea, chi2, pvalue) a reader reports for this estimator.

    Why per index: WLSMV has ``*_scaled`` values (lavaan's .scaled, as Mplus reports them); MLR has the
    scaled χ² but its CFI/TLI/RMSEA are lavaan's ``.robust`` ones (Brosseau-Liard & Savalei), with no
    ``cfi_scaled``; ML has only the plain values."""
    for suffix in ("_scaled", "_robust", ""):
        if fit.get(index + suffix) is not None:
            return index + suffix
    return index


def fit_verdicts(fit: dict) -> dict:
    """Verdicts on the indices a reader reports: the scaled/robust ones when the estimator has them
    (``reported_key``)."""
    chi2_df = fit[reported_key(fit, "chi2")] / fit["df"] if fit.get("df") else None
    values = {k: fit.get(reported_key(fit, k)) for k in ("cfi", "tli", "rmsea")}
    values.update({"srmr": fit.get("srmr"), "chi2_df": chi2_df})
    return {k: {"value": v, "verdict": verdict(k, v), "good": CUTOFFS[k]["good"],
                "acceptable": CUTOFFS[k]["acceptable"], "direction": CUTOFFS[k]["direction"],
                "source": CUTOFFS[k]["source"]} for k, v in values.items()}
