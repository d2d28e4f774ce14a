"""Report context for ordinal items: the estimator block's method name, the estimator-choice note and
the ordinal reliability table.  Reads the results document only (no statistics computed here)."""
from __future__ import annotations

from .numbers import fmt_unit


def ordinal_context(doc: dict, t, clabel) -> dict:
    meta = doc.get("meta") or {}
    est = str(meta.get("estimator", "ML"))
    out: dict = {"estimator_method": t(f"method_{est}") if est in ("ML", "WLSMV") else est}
    choice = doc.get("estimator_choice") or {}
    lines = []
    if choice:
        items = list(dict.fromkeys((choice.get("few_categories") or []) + (choice.get("asymmetric") or [])))
        if choice.get("recommended") == "WLSMV":
            shown = ", ".join(items[:12]) + (", …" if len(items) > 12 else "")
            lines.append(t("choice_wlsmv", k=5, s=1, items=shown))
        else:
            lines.append(t("choice_ml", k=5, s=1))
        lines.append(t("choice_used", used=choice.get("used", est)))
        if choice.get("used") != choice.get("recommended"):
            lines.append(t("choice_mismatch", rec=choice.get("recommended")))
    out["estimator_choice"] = " ".join(lines)
    rows = []
    for c, r in (doc.get("reliability") or {}).items():
        if r.get("omega_categorical") is None:
            continue
        rows.append({"construct": c, "label": clabel(c), "omega_cat": fmt_unit(r.get("omega_categorical")),
                     "alpha_ord": fmt_unit(r.get("alpha_ordinal")), "alpha_raw": fmt_unit(r.get("alpha")),
                     "omega_latent": fmt_unit(r.get("omega"))})
    out["ordinal_reliability"] = rows
    fit = ((doc.get("measurement_model") or {}).get("fit") or {})
    out["fit_scaled_note"] = t("fit_scaled_note") if fit.get("chi2_scaled") is not None else ""
    return out
