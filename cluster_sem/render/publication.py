"""Reviewer checks in the reports (en/zh): modification indices and equality tests in the `fit` report,
and the `cluster-sem cmb` report (the common-method battery).

Every section is a list of tables in one shape — {id, caption, heads, rows (strings), note, text = the number
of leading text columns} — that one block of
each template prints, so the HTML and Markdown reports cannot disagree on a number.  The `fit` sections
read the typed document; the battery report reads the ``common_method`` block of a `cmb` document.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from ..results.document import ResultsDocument
from .i18n import catalogue, translator
from .labels import phrase
from .messages import translate
from .numbers import fmt, fmt_pct, fmt_unit, p_eq
from .plain_text import terminal_safe

TOP_MI = 5           # modification indices on the terminal


def _t(lang: str) -> Callable[..., str]:
    return translator(catalogue("publication"), lang)


def _p(p: float | None) -> str:
    return "—" if p is None else p_eq(p)


def _chi2(test, df_key: str = "df") -> str:
    """'4.18 (1), p = .041' from a χ² record (mapping or ChiSquareTest); '—' without one."""
    if test is None:
        return "—"
    get = test.get if isinstance(test, Mapping) else lambda k: getattr(test, k)
    if get("chi2") is None:
        return "—"
    df = get(df_key)
    return f"{fmt(get('chi2'), 2)} ({int(df) if df is not None else '—'}), p {_p(get('pvalue'))}"


# -- fit report ---------------------------------------------------------------------------------------------
def modindices_table(r: ResultsDocument, lang: str) -> dict | None:
    if r.block("modification_indices") is None:    # not asked for (an empty list: asked, none ≥ 3.84)
        return None
    t = _t(lang)
    rows = [[t(f"mi_{m.model}") if m.model in ("measurement", "structural") else (m.model or ""),
             f"{m.lhs} {m.op} {m.rhs}", fmt(m.mi, 2), fmt(m.epc), fmt(m.sepc_all)]
            for m in r.modification_indices]
    return {"id": "tbl-modindices", "text": 2, "caption": t("mi_table"), "heads": [t("mi_model"), t("mi_row"), "mi", "epc",
            "sepc.all"], "rows": rows, "note": t("mi_note") + ("" if rows else " " + t("mi_none"))}


def comparisons_table(r: ResultsDocument, lang: str) -> dict | None:
    if not r.comparisons:
        return None
    t = _t(lang)
    rows = []
    for c in r.comparisons:
        lrt = _chi2(c.lrt) if c.lrt is not None else t("cmp_no_lrt", reason=c.lrt_note or "")
        rows.append([c.hypothesis, f"{fmt(c.difference)} ({fmt(c.se)})", _chi2(c.wald), lrt])
    return {"id": "tbl-comparisons", "text": 1, "caption": t("cmp_table"),
            "heads": [t("cmp_hypothesis"), t("cmp_difference"), t("cmp_wald"), t("cmp_lrt")],
            "rows": rows, "note": t("cmp_note")}


def publication_context(r: ResultsDocument, lang: str) -> dict:
    """``publication_tables``: the modification-index and equality-test tables the document has."""
    tables = [tb for tb in (modindices_table(r, lang), comparisons_table(r, lang)) if tb is not None]
    return {"publication_tables": tables}


def summary_lines(r: ResultsDocument) -> list[str]:
    """Terminal lines: the top modification indices and each equality test."""
    t = _t("en")
    out = []
    for model in dict.fromkeys(m.model for m in r.modification_indices):
        rows = [m for m in r.modification_indices if m.model == model]
        top = sorted(rows, key=lambda m: -(m.mi or 0))[:TOP_MI]
        text = "; ".join(f"{m.lhs}{m.op}{m.rhs} {fmt(m.mi, 2)}" for m in top)
        out.append(terminal_safe(t("mi_summary", model=model, k=len(top), n=len(rows), rows=text)))
    if r.modification_indices:
        out.append("")
    for c in r.comparisons:
        wald = c.wald
        lrt = f"; LRT chi2({c.lrt.df}) = {fmt(c.lrt.chi2, 2)}, p {_p(c.lrt.pvalue)}" if c.lrt is not None else \
            "; LRT: —"
        out.append(terminal_safe(t("cmp_summary", hyp=c.hypothesis, df=wald.df if wald else "—",
                                   chi2=fmt(wald.chi2 if wald else None, 2), p=_p(wald.pvalue if wald else None),
                                   lrt=lrt)))
    if r.comparisons:
        out.append("")
    return out


# -- cmb report -----------------------------------------------------------------------------------------------
def _status(model: Mapping, t) -> str:
    if model.get("fit") is None:
        return t("cmb_not_estimated")
    return t("cmb_proper") if model.get("proper") else t("cmb_improper")


def _fit_cells(model: Mapping) -> list[str]:
    fit = model.get("fit")
    if not fit:
        return ["—"] * 5
    return [f"{fmt(fit['chi2'], 2)} ({fit['df']})", fmt_unit(fit["cfi"]), fmt_unit(fit["tli"]),
            fmt_unit(fit["rmsea"]), fmt_unit(fit["srmr"])]


def _share(x) -> str:
    return "—" if x is None else f"{fmt_pct(x)} %"


def _first(problems, lang: str, k: int = 3) -> str:
    """The first ``k`` recorded problems of a model (all of them stay in results.json ``warnings``), in the
    report's language (results.json keeps them as the English sentences the fitter wrote)."""
    problems = [translate(p, lang) for p in problems or []]
    sep = "；" if lang == "zh" else "; "
    return sep.join(problems[:k]) + (f"{sep}… (+{len(problems) - k})" if len(problems) > k else "")


def cmb_context(doc: Mapping, lang: str) -> dict:
    """View model of the battery report: title, intro, warnings, tables, verdict and sources."""
    t = _t(lang)
    cm = doc["common_method"]
    title = (doc.get("meta", {}).get("title") or {})
    paragraphs = [t("cmb_harman", share=f"{fmt_pct(cm['harman']['first_factor_share'])} %",
                    nfac=cm["harman"]["n_factors_eigen_gt_1"])]
    warnings = list(doc.get("warnings") or [])
    models = [("cmb_cfa", cm["cfa"]), ("cmb_one_factor", cm["one_factor_cfa"]), ("cmb_clf", cm["clf"]),
              ("cmb_ulmc", cm["ulmc"])]
    rows = [[t(key), _status(m, t), *_fit_cells(m), _chi2(m.get("delta")), _share(m.get("method_variance_share"))]
            for key, m in models]
    tables = [{"id": "tbl-cmb-models", "text": 2, "caption": t("cmb_models"),
               "heads": [t("cmb_model"), t("cmb_status"), "χ² (df)", "CFI", "TLI", "RMSEA", "SRMR", t("cmb_delta"),
                         t("cmb_share")], "rows": rows, "note": t("cmb_models_note")}]
    alerts = []
    for key, m in models[1:]:
        if m.get("fit") is None or not m.get("proper"):      # not fitted, or fitted to an improper solution
            alerts.append(t("cmb_improper_warning", model=t(key), problems=_first(m.get("warnings"), lang)))
    clf = cm["clf"]
    if clf.get("absorbs_traits"):
        alerts.append(t("cmb_absorb_warning", n=len(clf["loadings_changed"]), k=len(clf.get("method_loadings") or {}),
                        share=_share(clf.get("method_variance_share"))))
    if clf.get("loadings_changed"):
        tables.append({"id": "tbl-cmb-changed", "text": 2, "caption": t("cmb_changed"),
                       "heads": [t("cmb_construct"), t("cmb_item"), t("cmb_load_cfa"), t("cmb_load_clf")],
                       "rows": [[x["construct"], x["item"], fmt_unit(x["cfa"]), fmt_unit(x["clf"])]
                                for x in clf["loadings_changed"]], "note": ""})
    marker = cm.get("marker")
    if marker and marker.get("models"):
        m_rows = [[t(name), _status(model, t), *_fit_cells(model), "",
                   _share(marker.get("method_variance_share")) if name == marker.get("chosen") else ""]
                  for name, model in marker["models"].items()]
        m_rows += [[t(c["test"]), "", "", "", "", "", "", _chi2(c), ""] for c in marker.get("comparisons", [])]
        tables.append({"id": "tbl-cmb-marker", "text": 2, "caption": t("cmb_marker", items=", ".join(marker["items"])),
                       "heads": [t("cmb_marker_test"), t("cmb_status"), "χ² (df)", "CFI", "TLI", "RMSEA", "SRMR",
                                 t("cmb_delta"), t("cmb_share")], "rows": m_rows, "note": t("cmb_marker_note")})
    elif marker and marker.get("error"):
        alerts.append(t("cmb_improper_warning", model=t("baseline"), problems=translate(marker["error"], lang)))
    else:
        paragraphs.append(t("cmb_marker_missing"))
    v = cm["verdict"]
    reasons = ("；" if lang == "zh" else "; ").join(t(f"reason_{k}") for k in v["reasons"])
    verdict = t(f"verdict_{v['level']}") + ("" if lang == "zh" else " ") + reasons[:1].upper() + reasons[1:] + ("。" if lang == "zh" else ".")
    return {"lang": lang, "t": t, "table_word": phrase("table", lang), "title": title.get(lang) or title.get("en") or "", "heading": t("cmb_report"),
            "intro": t("cmb_intro"), "paragraphs": paragraphs, "alerts": alerts, "warnings": warnings,
            "tables": tables, "verdict": verdict, "sources": list(v["sources"]),
            "version": doc.get("meta", {}).get("version", ""), "n_used": doc.get("meta", {}).get("n_used", ""),
            "timestamp": doc.get("meta", {}).get("timestamp", "")}


def render_cmb_html(doc: Mapping, lang: str = "en") -> str:
    from .html import render_page
    return render_page("cmb.html.j2", cmb_context(doc, lang))


def render_cmb_markdown(doc: Mapping, lang: str = "en") -> str:
    from .markdown import _counter, render_page
    return render_page("cmb.md.j2", {**cmb_context(doc, lang), "tno": _counter()})


def render_cmb_summary(doc: Mapping, lang: str = "en") -> str:
    c = cmb_context(doc, lang)
    t = c["t"]
    out = [terminal_safe(c["title"]), terminal_safe(c["heading"]), ""]
    out += [terminal_safe(p) for p in c["paragraphs"][:1]]
    for row in c["tables"][0]["rows"]:
        out.append(terminal_safe(f"  {row[0]:<58} {row[1]:<10} chi2 {row[2]:<14} CFI {row[3]:<6} "
                                 f"d {row[7]:<24} {row[8]}"))
    out += [""] + [terminal_safe(f"! {a}") for a in c["alerts"]]
    out += ["", terminal_safe(t("cmb_summary_verdict", verdict=c["verdict"]))]
    return "\n".join(out)


__all__ = ["publication_context", "summary_lines", "cmb_context", "render_cmb_html", "render_cmb_markdown",
           "render_cmb_summary"]
