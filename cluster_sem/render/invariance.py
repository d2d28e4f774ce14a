"""Report section "Measurement invariance across groups" (en/zh) from the results document alone.

One view model (``invariance_context``) feeds the HTML template (autoescaped), the Markdown template
(every value through ``md_escape``) and the terminal summary (control characters stripped): group names,
construct labels and released rows are user data.
"""
from __future__ import annotations

from typing import Mapping

from ..results.document import Invariance, InvarianceLevel, PathDifference, ResultsDocument
from ..model.estimators import by_kind
from ..results.estimator_choice import estimator_kind
from ..results.fit_verdicts import reported_key
from .estimator_text import index_name, test_name
from .i18n import catalogue, translator
from .labels import check_lang, report_title
from .messages import translate
from .numbers import fmt, fmt_p, fmt_unit, or_blank
from .plain_text import terminal_safe


def _path_label(r: ResultsDocument, path: PathDifference, lang: str) -> str:
    source, to = path.ends
    return f"{r.spec.construct_label(source, lang)} → {r.spec.construct_label(to, lang)}"


def _shown_fit(fit: Mapping) -> dict:
    """The fit values a level row shows: the ones the decisions use (``reported_key``: WLSMV's scaled,
    MLR's scaled χ² and robust CFI/TLI/RMSEA, ML's plain values)."""
    return {**fit, **{k: fit[reported_key(fit, k)] for k in ("chi2", "cfi", "tli", "rmsea")}}


def _level_row(lv: InvarianceLevel, ordinal: bool, t) -> dict:
    """One row of the levels table: the level's fit and its change against the previous level."""
    f, d = _shown_fit(lv.fit), lv.delta
    return {
        "level": t("scalar_thresholds" if ordinal and lv.level == "scalar" else lv.level), "chi2": fmt(f["chi2"], 2),
        "df": str(f["df"]), "cfi": fmt_unit(f["cfi"]), "tli": fmt_unit(f["tli"]), "rmsea": fmt_unit(f["rmsea"]),
        "srmr": fmt_unit(f["srmr"]),
        "dchi2": fmt(d.chi2, 2) if d else "—", "ddf": str(d.df) if d else "—", "dp": fmt_p(d.pvalue) if d else "—",
        "dcfi": fmt_unit(d.cfi) if d else "—", "drmsea": fmt_unit(d.rmsea) if d else "—",
        "decision": t(lv.decision), "holds": lv.holds}


def _summary(inv: Invariance, t) -> str:
    """The sentence under the levels table: none can be claimed, the first failing level, or all hold."""
    if not inv.levels[0].holds:
        return t("summary_none")
    highest = t("name_" + inv.highest_holding)
    if inv.first_failing:
        return t("summary_fail", failing=t("name_" + inv.first_failing), highest=highest)
    return t("summary_all", highest=highest)


def _columns(fit: Mapping, kind: str, lang: str, t) -> dict:
    """Column heads of the levels and path tables, named for the statistics the rows show (``_shown_fit``):
    'Yuan–Bentler scaled χ²' and 'robust CFI' for MLR, 'scaled-shifted χ²' and 'scaled CFI' for WLSMV; the
    Δχ² of MLR (Satorra–Bentler 2001) and WLSMV (Satorra 2000) is a scaled difference."""
    names = {k: index_name(fit, k, lang) for k in ("cfi", "tli", "rmsea")}
    return {"chi2": test_name(fit, lang), **names, "dcfi": f"Δ{names['cfi']}", "drmsea": f"Δ{names['rmsea']}",
            "dchi2": t("delta_scaled") if _scaled(kind) else t("delta")}


def _scaled(kind: str) -> bool:
    """The kind's Δχ² is a scaled difference (its row in the estimator table is robust)."""
    row = by_kind(kind)
    return row is None or row.robust


def _cluster_note(inv, t, lang: str) -> str:
    """The cluster-robust sentence (``invariance --cluster``), or nothing without clusters."""
    if not inv.cluster:
        return ""
    counts = ", ".join(f"{g} {n}" for g, n in inv.cluster.get("clusters", {}).items())
    return ("" if lang == "zh" else " ") + t("cluster_note", column=inv.cluster.get("column", ""), counts=counts)


def _table_numbers(scores: bool, means: bool, paths: bool) -> dict[str, int]:
    """APA table numbers in the order the report shows its tables (optional ones only when present)."""
    shown = ["groups", "levels"] + [name for name, present in (("scores", scores), ("means", means),
                                                               ("paths", paths)) if present]
    return {name: i for i, name in enumerate(shown, 1)}


def invariance_context(doc: Mapping | ResultsDocument, lang: str = "en") -> dict:
    """Rows and sentences of the section; every number already formatted."""
    check_lang(lang)
    t = translator(catalogue("invariance"), lang)
    r = ResultsDocument.read(doc)
    inv = r.invariance
    scores = [{"constraint": s.constraint, "groups": " / ".join(s.groups), "chi2": fmt(s.chi2, 2),
               "p": fmt_p(s.pvalue)} for s in inv.score_tests]
    means = [{"construct": r.spec.construct_label(m.construct, lang), "group": m.group, "est": fmt(m.est),
              "se": fmt(m.se), "p": fmt_p(m.pvalue)} for m in inv.latent_means]
    group_names = [g.name for g in inv.groups]
    paths = [{"path": _path_label(r, p, lang), "est": [fmt(p.est.get(g)) for g in group_names],
              "chi2": fmt(p.chi2, 2), "df": str(p.df), "p": fmt_p(p.pvalue)} for p in inv.path_differences]
    kind = estimator_kind(inv.estimator, "ml" if inv.missing == "fiml" else inv.missing)
    # lavaan's ML with cluster= is robust (sandwich SEs, Yuan–Bentler test, Satorra–Bentler Δχ²): its columns
    # are worded as MLR's
    shown = estimator_kind("MLR", inv.missing) if inv.cluster else kind
    return {
        "t": t, "lang": lang, "title": report_title(r, lang),
        "intro": t("intro_ordinal" if inv.ordinal else "intro", group=inv.group, reference=inv.reference,
                   estimator=t(f"estimator_{kind}")),
        "columns": _columns(inv.levels[0].fit, shown, lang, t),
        "columns_note": "" if inv.ordinal else t(f"columns_{shown}") + _cluster_note(inv, t, lang),
        "tables": _table_numbers(bool(scores), bool(means), bool(paths)),
        "groups": [{"name": g.name, "n": str(g.n), "raw": ", ".join(g.values)} for g in inv.groups],
        "group_names": group_names,
        "levels": [_level_row(lv, inv.ordinal, t) for lv in inv.levels], "summary": _summary(inv, t),
        "released": t("released", rows=", ".join(inv.released)) if inv.released else "",
        "score_level": t(inv.first_failing) if inv.first_failing else "",
        "scores": scores, "score_note": t("score_note", first=inv.score_tests[0].constraint) if scores else "",
        "means": means, "paths": paths, "warnings": [translate(w, lang) for w in inv.warnings],
        "version": or_blank(r.meta.version), "n_used": or_blank(r.data.n_used), "timestamp": or_blank(r.meta.timestamp),
    }


def render_invariance_html(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    from .html import render_page
    return render_page("invariance.html.j2", invariance_context(doc, lang))


def render_invariance_markdown(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    from .markdown import render_page
    return render_page("invariance.md.j2", invariance_context(doc, lang))


def render_invariance_summary(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    """Plain-text summary for the terminal (user text stripped of control characters)."""
    c = invariance_context(doc, lang)
    clean = terminal_safe
    t = c["t"]
    out = [clean(c["title"]), clean(t("section")), ""]
    if c["warnings"]:
        out += ["WARNINGS"] + [f"  ! {clean(w)}" for w in c["warnings"]] + [""]
    out.append(f"  {'level':<24}{'chi2':>10}{'df':>6}{'CFI':>7}{'RMSEA':>7}{'dchi2':>9}{'ddf':>5}{'p':>7}"
               f"{'dCFI':>7}{'dRMSEA':>8}  decision")
    for r in c["levels"]:
        out.append(f"  {clean(r['level']):<24}{r['chi2']:>10}{r['df']:>6}{r['cfi']:>7}{r['rmsea']:>7}{r['dchi2']:>9}"
                   f"{r['ddf']:>5}{r['dp']:>7}{r['dcfi']:>7}{r['drmsea']:>8}  {clean(r['decision'])}")
    cols = c["columns"]
    out.append(f"  ({cols['chi2']}, {cols['cfi']}, {cols['rmsea']}; {cols['dchi2']})")
    out += ["", "  " + clean(c["summary"])]
    if c["scores"]:
        out += ["", "  " + clean(t("score", level=c["score_level"]))]
        out += [f"    {clean(s['constraint']):<28}{s['chi2']:>9}  p {s['p']}" for s in c["scores"][:10]]
    if c["means"]:
        out += ["", "  " + clean(t("means"))]
        out += [f"    {clean(m['construct'])} [{clean(m['group'])}]: {m['est']} (SE {m['se']}, p {m['p']})"
                for m in c["means"]]
    if c["paths"]:
        out += ["", "  " + clean(t("paths"))]
        out += [f"    {clean(p['path'])}: " + ", ".join(f"{clean(g)} {e}" for g, e in zip(c["group_names"], p["est"]))
                + f"; dchi2({p['df']}) = {p['chi2']}, p {p['p']}" for p in c["paths"]]
    return "\n".join(out)


__all__ = ["invariance_context", "render_invariance_html", "render_invariance_markdown", "render_invariance_summary"]
