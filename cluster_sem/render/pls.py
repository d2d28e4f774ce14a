"""Report of a `cluster-sem pls` document (en/zh), in Hair et al.'s (2022) order: measurement model
(loadings, α/ρ_A/ρ_C/AVE, HTMT), structural model (paths with CIs, f², VIF; R²; indirect effects), then
prediction.

One view model (``pls_context``: sections of tables whose cells are formatted strings) feeds the HTML
template (autoescaped), the Markdown template (every cell through ``md_escape``) and the terminal summary
(control characters stripped): construct and item names are user text.
"""
from __future__ import annotations

from typing import Mapping

from ..results.document import ResultsDocument
from ..results.pls_blocks import PlsBlock, PlsInference
from .i18n import catalogue, translator
from .messages import translate
from .labels import check_lang, report_title
from .numbers import fmt, fmt_ci, fmt_p, fmt_unit, or_blank
from .plain_text import terminal_safe

RELIABILITY_RANGE = (0.70, 0.95)
SCHEMES = ("path", "factorial", "centroid")      # inner weighting schemes (pls/algorithm.py), named in the intro
AVE_MIN = 0.50


def _ci(x: PlsInference) -> str:
    return "—" if x.ci_lower is None else fmt_ci(x.ci_lower, x.ci_upper)


def _inference_cells(x: PlsInference, level: float) -> list[str]:
    """Estimate, SE, t, p and CI.  The claim is the percentile CI's (does it exclude zero?), as in the `fit`
    report: the estimate carries no stars, and the t-test p (bootstrap SE, as SmartPLS prints it) is marked
    † where it tells otherwise at α = 1 − level, so one table never makes two claims."""
    p = fmt_p(x.pvalue)
    if x.pvalue is not None and x.ci_lower is not None and \
            (x.pvalue < 1 - level) != (x.ci_lower > 0 or x.ci_upper < 0):
        p += "†"
    return [fmt(x.est), fmt(x.se) if x.se is not None else "—", fmt(x.t, 2) if x.t is not None else "—", p,
            _ci(x)]


def _table(caption: str, header: list[str], rows: list[list[str]], note: str = "") -> dict:
    return {"caption": caption, "header": header, "rows": rows, "note": note}


def _loadings(pls: PlsBlock, label, t) -> dict:
    """Loadings with their CIs, weights (mode-B weights may exceed 1) and outer VIF, item by item."""
    weight = {(w.construct, w.item): w.est for w in pls.weights}
    outer = (pls.vif or {}).get("outer", {})
    rows = [[label(x.construct), x.item, fmt_unit(x.est), _ci(x), fmt(weight.get((x.construct, x.item))),
             fmt(outer.get(x.construct, {}).get(x.item), 2)] for x in pls.loadings]
    return _table(t("loadings"), [t("col_construct"), t("col_item"), t("col_loading"), t("col_ci", level=_level(pls)),
                                  t("col_weight"), t("col_vif")], rows, t("loadings_note"))


def _reliability(pls: PlsBlock, label, t) -> dict:
    """α, ρ_A, ρ_C and AVE of the multi-item constructs, † outside Hair et al.'s ranges."""
    def mark(value, ok) -> str:
        return fmt_unit(value) + ("" if value is None or ok(value) else " †")

    items = {c.name: c.items for c in pls.constructs}
    within = lambda v: RELIABILITY_RANGE[0] <= v <= RELIABILITY_RANGE[1]  # noqa: E731
    rows = [[label(c), mark(r.get("alpha"), within), mark(r.get("rho_a"), within), mark(r.get("rho_c"), within),
             mark(r.get("ave"), lambda v: v >= AVE_MIN)] for c, r in (pls.reliability or {}).items()
            if len(items.get(c, ())) != 1]      # a single item has no internal consistency to report
    return _table(t("reliability"), [t("col_construct"), "α", "ρ_A", "ρ_C", "AVE"], rows, t("reliability_note"))


def _htmt(pls: PlsBlock, label, t) -> dict:
    """HTMT pairs judged by the upper confidence limit when bootstrapped, else by the estimate."""
    rows = []
    for h in pls.htmt:
        basis = h.ci_upper if h.ci_upper is not None else h.est
        verdict = "—" if basis is None else t("htmt_ok") if basis < 0.85 else t("htmt_lenient") if basis < 0.90 \
            else t("htmt_fail")
        rows.append([f"{label(h.a)} — {label(h.b)}", fmt(h.est), fmt(h.ci_upper) if h.ci_upper is not None else "—",
                     verdict])
    return _table(t("htmt"), [t("col_pair"), t("col_htmt"), t("col_upper"), t("col_verdict")], rows, t("htmt_note"))


def _measurement(pls: PlsBlock, label, t) -> list[dict]:
    return [_loadings(pls, label, t), _reliability(pls, label, t), _htmt(pls, label, t)]


def _ci_level(pls: PlsBlock) -> float:
    return pls.bootstrap.level if pls.bootstrap else 0.95


def _level(pls: PlsBlock) -> str:
    return f"{100 * _ci_level(pls):g}"


def _structural(pls: PlsBlock, label, t) -> list[dict]:
    def path_name(p) -> str:
        tag = {"second_order": f" ({t('kind_second_order')})", "control": f" ({t('kind_control')})"}.get(p.kind, "")
        return f"{label(p.from_)} → {label(p.to)}{tag}"

    level = _ci_level(pls)
    rows = [[path_name(p)] + _inference_cells(p, level) + [fmt(p.f2), fmt(p.vif, 2)] for p in pls.paths]
    head = [t("col_path"), t("col_beta"), t("col_se"), t("col_t"), t("col_p"), t("col_ci", level=_level(pls)),
            t("col_f2"), t("col_vif")]
    claim = " " + t("claim_note") if any(p.ci_lower is not None for p in pls.paths) else ""
    out = [_table(t("paths"), head, rows, t("paths_note") + claim)]
    r2 = [[label(c), fmt_unit(v), fmt_unit((pls.r2_adj or {}).get(c))] for c, v in (pls.r2 or {}).items()]
    out.append(_table(t("r2"), [t("col_construct"), t("col_r2"), t("col_r2_adj")], r2, t("r2_note")))
    if pls.indirect:
        rows = [[x.name, " → ".join(label(c) for c in x.path)] + _inference_cells(x, level) for x in pls.indirect]
        out.append(_table(t("indirect"), [t("col_effect"), t("col_path"), t("col_est"), t("col_se"), t("col_t"),
                                          t("col_p"), t("col_ci", level=_level(pls))], rows, claim.strip()))
    return out


def _prediction(pls: PlsBlock, label, t) -> dict:
    """PLSpredict: per item Q²_predict and PLS vs LM errors, then each construct's predictive power."""
    p = pls.predict
    if not p:
        return {"title": t("prediction"), "tables": [], "text": t("predict_none")}
    items = [[label(r["construct"]), r["item"], fmt(r["q2_predict"]), fmt(r["pls_rmse"]), fmt(r["lm_rmse"]),
              fmt(r["pls_mae"]), fmt(r["lm_mae"])] for r in p.get("items", ())]
    verdicts = [[label(c["construct"]), f"{c['pls_better_rmse']} / {c['items']}", t("power_" + c["power"])]
                for c in p.get("constructs", ())]
    return {"title": t("prediction"), "text": t("predict_intro", folds=p.get("folds"), seed=p.get("seed")),
            "tables": [_table(t("predict_items"), [t("col_construct"), t("col_item"), "Q²_predict", "RMSE (PLS)",
                                                   "RMSE (LM)", "MAE (PLS)", "MAE (LM)"], items),
                       _table(t("predict_power"), [t("col_construct"), t("col_better"), t("col_power")], verdicts,
                              t("predict_note"))]}


def _mga(pls: PlsBlock, label, t) -> dict:
    """PLS-MGA: each pair of groups, every path's estimates, difference, Henseler p and permutation p (a
    document written before the permutation test shows a dash there)."""
    m = pls.mga
    tables = []
    for c in m.get("comparisons", ()):
        rows = [[f"{label(r['from'])} → {label(r['to'])}", fmt(r["est_a"]), fmt(r["est_b"]), fmt(r["diff"]),
                 fmt(r["p_henseler"], 3), fmt_p(r["p_two_sided"]),
                 fmt_p(r["p_permutation"]) if r.get("p_permutation") is not None else "—"] for r in c["paths"]]
        tables.append(_table(t("mga_pair", a=c["a"], b=c["b"]), [t("col_path"), c["a"], c["b"], t("col_diff"),
                                                                  "p (Henseler)", t("col_p2"), t("col_p_perm")],
                             rows, t("mga_perm_note", permutations=c.get("permutations", "—"),
                                     completed=c.get("permutations_completed", "—"))))
    groups = ", ".join(f"{g['name']} (n = {g['n']})" for g in m.get("groups", ()))
    return {"title": t("mga"), "text": t("mga_intro", column=m.get("group"), groups=groups,
                                         resamples=m.get("resamples")), "tables": tables}


def _yes_no(value: bool | None, t) -> str:
    return "—" if value is None else t("answer_yes") if value else t("answer_no")


def _comparison(pls: PlsBlock, label, t) -> dict:
    """CB-SEM (std.all, the fit's claim) beside PLS(c) (estimate, percentile CI, its claim), path by path, then
    the indirect effects, with whether the two claims agree and why the estimates differ."""
    c = pls.cbsem_comparison
    variant = "PLSc" if c.get("pls_variant") == "plsc" else "PLS"

    def cells(r: Mapping) -> list[str]:
        lo, hi = r.get("pls_ci_lower"), r.get("pls_ci_upper")
        return [fmt(r.get("cbsem_std")), fmt_p(r.get("cbsem_pvalue")), _yes_no(r.get("cbsem_significant"), t),
                fmt(r.get("pls_est")), "—" if lo is None else fmt_ci(lo, hi), _yes_no(r.get("pls_significant"), t),
                _yes_no(r.get("same_conclusion"), t)]

    rows = [[f"{label(r['from'])} → {label(r['to'])}" + (f" ({t('kind_control')})" if r.get("kind") == "control"
                                                          else "")] + cells(r) for r in c.get("paths", ())]
    rows += [[f"{r['name']}: " + " → ".join(label(x) for x in r.get("path", ()))] + cells(r)
             for r in c.get("indirect", ())]
    head = [t("col_effect_any"), t("col_cb_beta"), t("col_cb_p"), t("col_cb_sig"), t("col_pls_beta", variant=variant),
            t("col_ci", level=_level(pls)), t("col_pls_sig", variant=variant), t("col_same")]
    note = t("compare_note") + " " + t("compare_plsc" if variant == "PLSc" else "compare_pls")
    return {"title": t("compare"), "text": t("compare_intro", source=c.get("source", ""),
                                             estimator=c.get("cbsem_estimator") or "—", variant=variant),
            "tables": [_table(t("compare_table", variant=variant), head, rows, note)]}


def pls_context(doc: Mapping | ResultsDocument, lang: str = "en") -> dict:
    """Title, introduction, warnings and the three sections' tables; every number already formatted."""
    check_lang(lang)
    t = translator(catalogue("pls"), lang)
    r = ResultsDocument.read(doc)
    pls = r.pls

    def label(name: str) -> str:
        return r.spec.construct_label(name, lang)

    intro = t("intro_plsc" if pls.variant == "plsc" else "intro_pls", n=or_blank(pls.n), mode=pls.mode,
              weighting=t("scheme_" + pls.weighting) if pls.weighting in SCHEMES else pls.weighting,
              iterations=or_blank(pls.iterations))
    if pls.second_order == "two-stage":
        intro += " " + t("two_stage_note")
    b = pls.bootstrap
    inference = t("bootstrap_note", completed=b.completed, resamples=b.resamples, seed=b.seed,
                  level=_level(pls)) if b else t("no_bootstrap")
    sections = [{"title": t("measurement"), "tables": _measurement(pls, label, t), "text": ""},
                {"title": t("structural"), "tables": _structural(pls, label, t), "text": ""},
                _prediction(pls, label, t)] + ([_mga(pls, label, t)] if pls.mga else []) \
        + ([_comparison(pls, label, t)] if pls.cbsem_comparison else [])
    return {"t": t, "lang": lang, "title": report_title(r, lang), "intro": intro, "inference": inference,
            "sections": sections, "warnings": [translate(w, lang) for w in r.warnings],
            "version": or_blank(r.meta.version),
            "n_used": or_blank(r.data.n_used), "timestamp": or_blank(r.meta.timestamp)}


def render_pls_html(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    from .html import render_page
    return render_page("pls.html.j2", pls_context(doc, lang))


def render_pls_markdown(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    from .markdown import render_page
    return render_page("pls.md.j2", pls_context(doc, lang))


def _plain_table(table: dict) -> list[str]:
    cells = [table["header"]] + table["rows"]
    widths = [max(len(terminal_safe(row[i])) for row in cells) for i in range(len(table["header"]))]
    line = lambda row: "  " + "  ".join(terminal_safe(c).ljust(w) for c, w in zip(row, widths))  # noqa: E731
    return [terminal_safe(table["caption"]), line(table["header"]), "  " + "  ".join("-" * w for w in widths)] \
        + [line(row) for row in table["rows"]]


def render_pls_summary(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    """Plain-text summary for the terminal: reliability, HTMT, paths, R² and indirect effects."""
    c = pls_context(doc, lang)
    out = [terminal_safe(c["title"]), terminal_safe(c["intro"]), terminal_safe(c["inference"]), ""]
    if c["warnings"]:
        out += [c["t"]("warnings").upper()] + [f"  ! {terminal_safe(w)}" for w in c["warnings"]] + [""]
    measurement, structural, prediction = c["sections"][:3]
    extra = [table for section in c["sections"][3:] for table in section["tables"]]
    for table in measurement["tables"][1:] + structural["tables"] + prediction["tables"][1:] + extra:
        out += _plain_table(table) + [""]
    claim = c["t"]("claim_note")
    bootstrapped = c["inference"] != c["t"]("no_bootstrap")
    return "\n".join(out + ([terminal_safe(claim)] if bootstrapped else []))


__all__ = ["pls_context", "render_pls_html", "render_pls_markdown", "render_pls_summary"]
