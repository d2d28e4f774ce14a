"""Report context for ordinal items: the estimator block's method name, the estimator-choice note and
the ordinal reliability table.  Reads the typed results document only (no statistics computed here)."""
from __future__ import annotations

from typing import Mapping

from ..results.document import EstimatorChoice, ResultsDocument
from .numbers import fmt_unit


def ordinal_context(doc: Mapping | ResultsDocument, t, clabel) -> dict:
    r = ResultsDocument.read(doc)
    est = str("ML" if r.meta.estimator is None else r.meta.estimator)
    out: dict = {"estimator_method": t(f"method_{est}") if est in ("ML", "WLSMV") else est}
    out["estimator_choice"] = _choice_note(r.estimator_choice, est, t) if r.estimator_choice else ""
    out["ordinal_reliability"] = [
        {"construct": q.construct, "label": clabel(q.construct), "omega_cat": fmt_unit(q.omega_categorical),
         "alpha_ord": fmt_unit(q.alpha_ordinal), "alpha_raw": fmt_unit(q.alpha), "omega_latent": fmt_unit(q.omega)}
        for q in r.reliability if q.omega_categorical is not None]
    out["fit_scaled_note"] = t("fit_scaled_note") if r.measurement.fit.get("chi2_scaled") is not None else ""
    return out


def _choice_note(choice: EstimatorChoice, est: str, t) -> str:
    """What the items suggest (WLSMV when few categories or strong asymmetry), what was used, and any mismatch."""
    items = list(dict.fromkeys(choice.few_categories + choice.asymmetric))
    if choice.recommended == "WLSMV":
        shown = ", ".join(items[:12]) + (", …" if len(items) > 12 else "")
        lines = [t("choice_wlsmv", k=5, s=1, items=shown)]
    else:
        lines = [t("choice_ml", k=5, s=1)]
    lines.append(t("choice_used", used=est if choice.used is None else choice.used))
    if choice.used != choice.recommended:
        lines.append(t("choice_mismatch", rec=choice.recommended))
    return " ".join(lines)
