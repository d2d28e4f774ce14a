"""Report context for the estimator: the study table's method name, the estimator-choice note, the fit-note
sentence on scaled/robust statistics (words from ``estimator_text``) and the ordinal reliability table.
Reads the typed results document only (no statistics computed here)."""
from __future__ import annotations

from typing import Mapping

from ..results.document import ResultsDocument
from .estimator_text import Advice, choice_note, fit_note, method_text
from .numbers import fmt_unit


def ordinal_context(doc: Mapping | ResultsDocument, clabel, lang: str = "en") -> dict:
    """The study table's estimator description, the estimator-choice note, the fit note on scaled/robust
    statistics and the ordinal reliability rows, in ``lang``."""
    r = ResultsDocument.read(doc)
    advice = Advice.of(r.meta, r.estimator_choice, r.normality)
    out: dict = {"estimator_method": method_text(advice.kind, lang)}
    out["estimator_choice"] = choice_note(r.estimator_choice, advice, r.normality, lang) if r.estimator_choice else ""
    out["ordinal_reliability"] = [
        {"construct": q.construct, "label": clabel(q.construct), "omega_cat": fmt_unit(q.omega_categorical),
         "alpha_ord": fmt_unit(q.alpha_ordinal), "alpha_raw": fmt_unit(q.alpha), "omega_latent": fmt_unit(q.omega)}
        for q in r.reliability if q.omega_categorical is not None]
    out["fit_scaled_note"] = fit_note(advice.kind, lang) if r.measurement.fit.get("chi2_scaled") is not None else ""
    return out
