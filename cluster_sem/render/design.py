"""Report section "Complex sample (clusters and weights)" (en/zh) and its terminal lines.

Reads the typed ``design`` block only; phrases come from ``render/phrases/design.yaml``.  The table lists
the construct scores first (what a reader compares with the hypotheses), then the items.
"""
from __future__ import annotations

from typing import Mapping

from ..results.design import MIN_CLUSTERS
from ..results.document import Design, ResultsDocument
from .i18n import catalogue, translator
from .numbers import fmt, fmt_unit, p_eq


def design_context(doc: Mapping | ResultsDocument, lang: str = "en") -> dict | None:
    """Sentences, warnings and the ICC table of the section; None when results.json has no design block."""
    r = ResultsDocument.read(doc)
    d = r.design
    if d is None:
        return None
    t = translator(catalogue("design"), lang)
    out: dict = {"heading": t("heading"), "sentences": _sentences(d, t) + _twolevel(r, t), "warnings": [], "rows": [],
                 "columns": [t("variable"), t("icc"), t("deff"), t("eff_n")], "caption": t("icc_caption"),
                 "note": ""}
    if d.n_clusters:
        if d.n_clusters < MIN_CLUSTERS:
            out["warnings"].append(t("few_clusters", g=d.n_clusters, k=MIN_CLUSTERS))
        constructs = [c for c in r.spec.constructs if c in d.icc] if r.spec.constructs else []
        names = constructs + [k for k in d.icc if k not in constructs]
        out["rows"] = [(k, fmt_unit(d.icc[k]), fmt(d.design_effect.get(k), 2), fmt(d.effective_n.get(k), 1))
                       for k in names]
        out["note"] = t("icc_note", m=fmt(r.data.n_used / d.n_clusters, 1))
    return out


def _sentences(d: Design, t) -> list[str]:
    out = []
    if d.cluster and d.cluster_size is not None:
        size = d.cluster_size
        out.append(t("clusters", g=d.n_clusters, column=d.cluster, min=size.min, max=size.max,
                     median=fmt(size.median, 1), se=d.se, test=d.test))
    if d.weights:
        out.append(t("weights", column=d.weights, se=d.se))
    return out


def _twolevel(r: ResultsDocument, t) -> list[str]:
    """The two-level model's sentence (spec ``levels``): its fit and lavaan's ML ICCs; [] without one."""
    block = r.block("twolevel")
    if not block:
        return []
    fit = block["fit"]
    levels = (r.block("spec") or {}).get("levels") or {}
    icc = ", ".join(f"{k} {fmt_unit(v)}" for k, v in block["icc"].items())
    return [t("twolevel", within=", ".join(levels.get("within", ())), between=", ".join(levels.get("between", ())),
              df=fit["df"], chi2=fmt(fit["chi2"], 2), p=p_eq(fit["pvalue"]), cfi=fmt(fit["cfi"]),
              rmsea=fmt(fit["rmsea"]), srmr_w=fmt(fit["srmr_within"]), srmr_b=fmt(fit["srmr_between"]), icc=icc)]


def summary_lines(doc: Mapping | ResultsDocument) -> list[str]:
    """Plain-text lines for the terminal summary (English; the warning itself is in WARNINGS above)."""
    ctx = design_context(doc, "en")
    if ctx is None:
        return []
    out = ["Complex sample"] + [f"  {s}" for s in ctx["sentences"]]
    if ctx["rows"]:
        top = "; ".join(f"{name} {icc}" for name, icc, *_ in ctx["rows"][:8])
        out.append(f"  ICC(1): {top}{' ...' if len(ctx['rows']) > 8 else ''}")
    return out + [""]


__all__ = ["design_context", "summary_lines"]
