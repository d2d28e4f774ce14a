"""The report's view model: every table of the HTML and Markdown reports, with numbers already formatted.

Both templates render this one structure, so the two reports always show the same numbers.  It reads the
typed results document (``results.document.ResultsDocument``) and formats it; verdicts and flags (the
Fornell–Larcker and HTMT decisions, reliability and loading criteria, fit verdicts, hypothesis support)
come from ``quality/`` and ``results/`` — the only decision made here is how many tests of a hypothesis
were supported.  One small builder per report section, in the order the report shows them.
"""
from __future__ import annotations

from ..quality.reliability import ALPHA_MIN, AVE_MIN, LOADING_MIN, OMEGA_MIN, below
from ..quality.validity import fornell_larcker_verdict, htmt_level
from ..results.document import ModelBlock, ResultsDocument
from ..results.fit_verdicts import reported_key
from .estimator_text import conventions_text, index_name, test_name
from .effect_claims import claim_context, p_cells
from .labels import REFERENCES, check_lang, phrase, pick, report_title, translator
from .messages import translate, translate_notes
from .numbers import fmt, fmt_ci, fmt_p, fmt_pct, fmt_unit, or_blank, p_eq, stars

FIT_INDEXES = [("chi2_df", "χ²/df"), ("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR")]

ZHAO_ZH = {
    "complementary (partial) mediation": "互补型（部分）中介",
    "competitive (partial) mediation": "竞争型（部分）中介",
    "indirect-only (full) mediation": "仅间接效应（完全）中介",
    "direct-only (no mediation)": "仅直接效应（无中介）",
    "no effect (no mediation)": "无效应（无中介）",
}

# the report's sections in order (anchor, heading key): the HTML contents list and the Markdown headings
SECTIONS = [("data", "sec_data"), ("descriptives", "sec_descriptives"), ("measurement", "sec_measurement"),
            ("discriminant", "sec_discriminant"), ("cmv", "sec_cmv"), ("fit", "sec_fit"), ("paths", "sec_paths"),
            ("indirect", "sec_indirect"), ("baron-kenny", "sec_bk"), ("reproducibility", "sec_repro")]

BK_KEYS = {1: "bk_step1", 2: "bk_step2", 3: "bk_step3", 4: "bk_step4"}
HTMT_MARK = {"": "", "strict": "†", "liberal": "‡"}


def _cut(v: float | None) -> str:
    """A cut-off as written in a methods section: .95, .06, 2.0."""
    if v is None:
        return "—"
    return fmt_unit(v, 2) if abs(v) < 1 else f"{v:g}" if v != int(v) else f"{v:.1f}"


def _method_name(method: str | None, lang: str) -> str:
    return phrase(f"method_{method}", lang) if method else ""


def _verdict(v: str | None, lang: str) -> str:
    return phrase(v, lang) if v in ("good", "acceptable", "poor") else (v or "—")


def _p_or_dash(p: float | None) -> str:
    return fmt_p(p) if p is not None else "—"


class _Section:
    """What every section builder needs: the typed document, the language and its two look-ups."""

    def __init__(self, r: ResultsDocument, lang: str):
        self.r, self.lang, self.t = r, lang, translator(lang)

    def clabel(self, name: str) -> str:
        return self.r.spec.construct_label(name, self.lang)


def build_context(doc: dict | ResultsDocument, lang: str = "en") -> dict:
    check_lang(lang)
    s = _Section(ResultsDocument.read(doc), lang)
    ctx: dict = {"lang": lang, "t": s.t, "title": report_title(s.r, lang), "timestamp": s.r.meta.timestamp or "",
                 "warnings": [translate(w, lang) for w in s.r.warnings], "stars_legend": s.t("stars_legend"),
                 "references": REFERENCES}
    for builder in (study_section, descriptives_section, measurement_section, discriminant_section,
                    common_method_section, fit_section, paths_section, indirect_section, baron_kenny_section,
                    reproducibility_section):
        ctx.update(builder(s))
    ctx.update(_feature_sections(doc, s))
    return _with_estimator_method(ctx)


def report_context(doc: dict | ResultsDocument, lang: str = "en") -> dict:
    """``build_context`` plus the header both report templates print: version, n and the section list."""
    r = ResultsDocument.read(doc)
    ctx = build_context(r, lang)
    n_used = r.data.n_used if r.data.n_used is not None else r.meta.n_used
    sections = _sections(ctx)
    ctx.update(version=or_blank(r.meta.version), n_used=or_blank(n_used), sections=sections,
               section_no={sid: i for i, (sid, _) in enumerate(sections, 1)})
    return ctx


def _sections(ctx: dict) -> list[tuple[str, str]]:
    """(anchor, heading) of the sections this report shows, in order: :data:`SECTIONS`, with the latent
    interactions' section after the indirect effects when the document has one, so it is numbered and listed
    in the contents like the others."""
    t = ctx["t"]
    out = [(sid, t(key)) for sid, key in SECTIONS]
    if ctx.get("moderation"):
        at = next(i for i, (sid, _) in enumerate(out) if sid == "indirect") + 1
        out.insert(at, ("moderation", ctx["mt"]["sec_moderation"]))
    return out


# -- study and data --------------------------------------------------------------------------------------
def study_section(s: _Section) -> dict:
    t, data, meta = s.t, s.r.data, s.r.meta
    n_dropped = data.n_dropped if data.n_dropped is not None else 0
    rows = [(t("source"), str(data.source if data.source is not None else "")),
            (t("n_raw"), str(data.n_raw if data.n_raw is not None else "")),
            (t("n_used"), str(data.n_used if data.n_used is not None else meta.n_used)),
            (t("n_dropped"), str(n_dropped)),
            (t("estimator"), str(meta.estimator if meta.estimator is not None else "")),
            (t("missing"), str(meta.missing if meta.missing is not None else ""))]
    if s.r.spec.controls:
        rows.append((t("controls"), ", ".join(s.r.spec.controls)))
    dropped = [{"row": str(d[0]), "reason": translate(str(d[1]), s.lang)} for d in data.dropped]
    total = sum(data.groups.values())
    return {
        "data_rows": rows, "dropped": dropped,
        "dropped_more": (t("dropped_more", shown=len(dropped), total=data.n_dropped)
                         if n_dropped > len(dropped) else ""),
        "data_log": [translate(str(x), s.lang) for x in data.log],
        "missing_items": [{"item": k, "pct": fmt_pct(v), "n": str(round(v * (data.n_raw or 0)))}
                          for k, v in data.missing_by_item.items() if v],
        "group_name": s.r.spec.group,
        "groups": [{"name": str(k), "n": str(v), "pct": fmt_pct(v / total) if total else "—"}
                   for k, v in data.groups.items()],
        "groups_total": str(total),
        "constructs": [{"id": c.name, "label": s.clabel(c.name),
                        "content": " · ".join(c.dimensions) if c.dimensions else " · ".join(c.items),
                        "second_order": bool(c.dimensions)} for c in s.r.spec.constructs.values()],
    }


def descriptives_section(s: _Section) -> dict:
    desc = []
    for r in s.r.descriptives:
        info = s.r.spec.items.get(r.item)
        desc.append({"item": r.item, "construct": info.construct if info else "",
                     "wording": pick(info.text if info else None, s.lang, ""),
                     "reverse": info.reverse if info else False,
                     "mean": fmt(r.mean, 2), "sd": fmt(r.sd, 2), "skew": fmt(r.skewness, 2),
                     "kurt": fmt(r.kurtosis, 2), "min": fmt(r.min, 0), "max": fmt(r.max, 0),
                     "missing": fmt(r.pct_missing, 1)})
    return {"descriptives": desc, "any_reverse": any(d["reverse"] for d in desc)}


# -- measurement model -----------------------------------------------------------------------------------
def measurement_section(s: _Section) -> dict:
    items = s.r.spec.items
    loadings = s.r.measurement.rows("=~")
    rows, prev = [], None
    for p in (p for p in loadings if p.rhs in items):
        rows.append({"construct": p.lhs, "item": p.rhs, "est": fmt(p.est),
                     "se": fmt(p.se) if not p.fixed else "—", "std": fmt_unit(p.std_all), "p": _p_or_dash(p.pvalue),
                     "fixed": p.fixed, "flag": below(p.std_all, LOADING_MIN),
                     "first": p.lhs != prev, "construct_label": s.clabel(p.lhs)})
        prev = p.lhs
    from .sources import item_sources_note
    return {"loadings": rows, "low_loadings": [r["item"] for r in rows if r["flag"]],
            "second_order": _second_order_rows(s), "reliability": _reliability_rows(s, loadings),
            "item_sources": item_sources_note(s.r.spec, s.lang)}


def _second_order_rows(s: _Section) -> list[dict]:
    out, seen = [], set()
    for p in s.r.structural.rows("=~") + s.r.measurement.rows("=~"):
        if p.rhs not in s.r.spec.constructs or (p.lhs, p.rhs) in seen:
            continue
        seen.add((p.lhs, p.rhs))
        out.append({"construct": p.lhs, "label": s.clabel(p.lhs), "dimension": p.rhs, "dim_label": s.clabel(p.rhs),
                    "std": fmt_unit(p.std_all), "p": _p_or_dash(p.pvalue), "flag": below(p.std_all, LOADING_MIN)})
    return out


def _reliability_rows(s: _Section, loadings) -> list[dict]:
    out = []
    for r in s.r.reliability:
        std = [p.std_all for p in loadings if p.lhs == r.construct and p.std_all is not None]
        out.append({"construct": r.construct, "label": s.clabel(r.construct),
                    "alpha": fmt_unit(r.alpha), "omega": fmt_unit(r.omega), "ave": fmt_unit(r.ave),
                    "alpha_low": below(r.alpha, ALPHA_MIN), "omega_low": below(r.omega, OMEGA_MIN),
                    "ave_low": below(r.ave, AVE_MIN),
                    "range": f"{fmt_unit(min(std))}–{fmt_unit(max(std))}" if std else "—"})
    return out


# -- discriminant validity and common method -------------------------------------------------------------
def discriminant_section(s: _Section) -> dict:
    fl = s.r.fornell_larcker
    names = list(fl)
    bad_pairs, failing = fornell_larcker_verdict(fl)
    fl_rows = []
    for i, a in enumerate(names):
        cells = []
        for j, b in enumerate(names):
            if j > i:
                cells.append({"v": "", "kind": "empty"})
            elif j == i:
                cells.append({"v": fmt_unit(fl[a].get(a)), "kind": "diag"})
            else:
                cells.append({"v": fmt_unit(fl[a].get(b)), "kind": "bad" if frozenset((a, b)) in bad_pairs else "cell"})
        fl_rows.append({"name": a, "cells": cells})
    ht = s.r.htmt
    hnames = list(ht)
    h_rows = []
    for i, a in enumerate(hnames):
        cells = []
        for j, b in enumerate(hnames):
            if j >= i:
                cells.append({"v": "", "kind": "empty"})
                continue
            v = ht[a].get(b)
            mark = HTMT_MARK[htmt_level(v)]
            cells.append({"v": fmt(v) + mark, "kind": "bad" if mark else "cell"})
        h_rows.append({"name": a, "cells": cells[:len(hnames) - 1]})
    flags = [f"{f[0]}–{f[1]} ({fmt(f[2])})" if isinstance(f, (list, tuple)) and len(f) >= 3 else str(f)
             for f in s.r.htmt_flags]
    return {"fl_names": names, "fl_rows": fl_rows, "fl_bad": failing,
            "htmt_names": hnames[:-1] if hnames else [], "htmt_rows": h_rows[1:], "htmt_flags": flags}


def common_method_section(s: _Section) -> dict:
    cm, t = s.r.common_method, s.t
    if cm is None:
        return {"harman": None}
    share = fmt_pct(cm.harman_first_factor_share)
    nfac = cm.n_factors_eigen_gt_1 if cm.n_factors_eigen_gt_1 is not None else "—"
    return {"harman": {"text": t("harman_text", share=share, nfac=nfac),
                       "verdict": t("harman_bad") if cm.flag else t("harman_ok"), "flag": bool(cm.flag),
                       "share": share}}


# -- model fit -------------------------------------------------------------------------------------------
def fit_section(s: _Section) -> dict:
    rows, sources = _fit_rows(s)
    fm, fs = s.r.measurement.fit, s.r.structural.fit
    out = {"fit_rows": rows, "fit_sources": sources, "fit_note": "", "ic_note": "", "fit_raw": []}
    if not (fm and fs):
        return out
    t = s.t
    out["fit_note"] = t("fit_note", stat=test_name(fm, s.lang), rmsea=index_name(fm, "rmsea", s.lang),
                        df_m=fm.get("df", "—"), chi_m=fmt(fm.get(reported_key(fm, "chi2")), 2),
                        p_m=p_eq(fm.get(reported_key(fm, "pvalue"))), df_s=fs.get("df", "—"),
                        chi_s=fmt(fs.get(reported_key(fs, "chi2")), 2), p_s=p_eq(fs.get(reported_key(fs, "pvalue"))),
                        ci_m=_rmsea_ci(fm), ci_s=_rmsea_ci(fs))
    out["ic_note"] = t("ic_note", aic_m=fmt(fm.get("aic"), 1), aic_s=fmt(fs.get("aic"), 1),
                       bic_m=fmt(fm.get("bic"), 1), bic_s=fmt(fs.get("bic"), 1))
    out["fit_raw"] = [{"model": t(name), "chi2": fmt(f.get("chi2"), 2), "df": str(f.get("df", "—")),
                       "p": fmt_p(f.get("pvalue")), "n": str(f.get("n", "—"))}
                      for name, f in (("measurement_model", fm), ("structural_model", fs))]
    return out


def _fit_rows(s: _Section) -> tuple[list[dict], list[str]]:
    fv = s.r.fit_verdicts
    rows, sources = [], []
    for key, name in FIT_INDEXES:
        vm, vs = (fv.get("measurement") or {}).get(key), (fv.get("structural") or {}).get(key)
        ref = vm or vs
        if not ref:
            continue
        op = "≥" if ref.direction == "higher" else "≤"
        f = (lambda x: fmt(x, 2)) if key == "chi2_df" else (lambda x: fmt_unit(x, 3))
        shown_in = s.r.measurement.fit or s.r.structural.fit
        rows.append({
            "index": _index_label(shown_in, key, name, s.lang),
            "m": f(vm.value) if vm else "—", "m_verdict": _verdict(vm.verdict, s.lang) if vm else "",
            "m_class": (vm.verdict or "") if vm else "",
            "s": f(vs.value) if vs else "—", "s_verdict": _verdict(vs.verdict, s.lang) if vs else "",
            "s_class": (vs.verdict or "") if vs else "",
            "cutoff": f"{op} {_cut(ref.good)} / {op} {_cut(ref.acceptable)}",
            "source": ref.source if ref.source is not None else "",
        })
        for src in str(ref.source if ref.source is not None else "").split(";"):
            src = src.strip()
            if src and src not in sources:
                sources.append(src)
    return rows, sources


def _index_label(fit, key: str, name: str, lang: str) -> str:
    """The fit table's row name for the statistic the fit reports: 'robust CFI' (MLR), 'scaled CFI' (WLSMV),
    'Yuan–Bentler scaled χ²/df'; the plain name for ML."""
    if key == "chi2_df":
        return f"{test_name(fit, lang)}/df"
    return index_name(fit, key, lang, shown=name) if key in ("cfi", "tli", "rmsea") else name


def _rmsea_ci(f) -> str:
    ci = f.get(reported_key(f, "rmsea_ci90")) or [None, None]
    return f"[{fmt_unit(ci[0])}, {fmt_unit(ci[1])}]"


# -- structural paths and hypotheses ---------------------------------------------------------------------
def paths_section(s: _Section) -> dict:
    t, hyps = s.t, s.r.hypotheses
    path_h = {(h.source, h.to): h for h in hyps if h.kind == "path"}
    paths = []
    for p in s.r.structural.rows("~"):
        h = path_h.get((p.rhs, p.lhs))
        is_control = p.rhs in s.r.spec.controls
        if h and h.id:
            result, rclass = (t("supported"), "yes") if h.supported else (t("not_supported"), "no")
        else:
            result, rclass = (t("control"), "ctl") if is_control else ("", "")
        paths.append({"from": p.rhs, "to": p.lhs, "path": f"{p.rhs} → {p.lhs}",
                      "path_label": f"{s.clabel(p.rhs)} → {s.clabel(p.lhs)}",
                      "hyp": (h.id if h else None) or "", "b": fmt(p.est), "se": fmt(p.se),
                      "z": fmt(p.z, 2), "beta": fmt(p.std_all), "p": fmt_p(p.pvalue),
                      "beta_unit": fmt_unit(p.std_all),   # APA: no leading zero (the Word report)
                      "stars": stars(p.pvalue), "result": result, "rclass": rclass, "control": is_control})
    return {"paths": paths, "hypotheses": [_hypothesis_row(s, hid) for hid in s.r.spec.hypotheses]}


def _hypothesis_row(s: _Section, hid: str) -> dict:
    t = s.t
    tests = [h for h in s.r.hypotheses if h.id == hid]
    n_sup = sum(1 for h in tests if h.supported)
    if not tests:
        verdict, vclass = "—", ""
    elif n_sup == len(tests):
        verdict, vclass = t("supported"), "yes"
    elif n_sup == 0:
        verdict, vclass = t("not_supported"), "no"
    else:
        verdict, vclass = f"{t('supported')}: {n_sup} / {len(tests)}", "partly"
    what = [{"test": f"{h.source} → {h.to}" if h.kind in ("path", "interaction") else f"{h.source} → … → {h.to}",
             "ok": h.supported} for h in tests]
    return {"id": hid, "text": s.r.spec.hypothesis_text(hid, s.lang), "verdict": verdict, "vclass": vclass,
            "tests": what}


# -- indirect and total effects, Baron & Kenny -----------------------------------------------------------
def indirect_section(s: _Section) -> dict:
    t, lang = s.t, s.lang
    med = {m.name: m for m in s.r.mediation}
    rows = []
    for e in s.r.indirect_effects:
        m = med.get(e.name)
        mtype = (m.type if m else None) or ""
        hyp = next((h for h in s.r.hypotheses if h.kind == "indirect" and h.name == e.name), None)
        rows.append({"name": e.name, "label": s.r.spec.indirect_label(e.name, lang), "path": " → ".join(e.path),
                     "est": fmt(e.est), "se": fmt(e.se), "ci": fmt_ci(e.ci_lower, e.ci_upper),
                     "std": fmt(e.std_all), "std_unit": fmt_unit(e.std_all), **p_cells(e),
                     "direct": fmt(m.direct) if m and m.direct is not None else "—",
                     "direct_stars": stars(m.direct_pvalue if m else None),
                     "total": fmt(m.total) if m and m.total is not None else "—",
                     "mediation": t(m.mediation) if m and m.mediation in ("full", "partial", "none") else "—",
                     "mclass": (m.mediation or "") if m else "",
                     "type": ZHAO_ZH.get(mtype, mtype) if lang == "zh" else mtype,
                     "hyp": (hyp.id if hyp else None) or "",
                     "others": [{"method": _method_name(k, lang), "ci": fmt_ci(v[0], v[1])}
                                for k, v in e.cis.items() if k != e.ci_method and v]})
    out = {"indirect": rows, "indirect_note": "", "ci_level": "", "ci_method": "",
           "any_other_cis": any(r["others"] for r in rows)}
    if s.r.indirect_effects:
        first = s.r.indirect_effects[0]
        level = first.level or s.r.meta.ci_level or 0.95
        out["indirect_note"] = t("indirect_note", level=f"{100 * level:g}",
                                 method=_method_name(first.ci_method or "", lang))
        out["ci_level"] = f"{100 * level:g}%"
        out["ci_method"] = _method_name(first.ci_method or "", lang)
    out["totals"] = [{"name": e.name, "path": " → ".join(e.path), "est": fmt(e.est), "se": fmt(e.se),
                      "ci": fmt_ci(e.ci_lower, e.ci_upper), "std": fmt(e.std_all), "std_unit": fmt_unit(e.std_all),
                      **p_cells(e)} for e in s.r.total_effects]
    out.update(claim_context(s.r.indirect_effects + s.r.total_effects, lang))
    b = s.r.bootstrap
    out["bootstrap"] = (t("bootstrap_info", B=b.B, seed=b.seed, conv=b.n_converged, inadm=b.n_inadmissible,
                          excluded=b.n_nonconverged) if b else t("bootstrap_none"))
    if b and b.resampling == "cluster":
        out["bootstrap"] += " " + t("bootstrap_clusters", G=b.n_clusters)
    if b and b.n_lost_category:
        lost = b.n_lost_category
        out["bootstrap"] += " " + t("bootstrap_lost", B=b.B, lost=lost, share=f"{lost / b.B:.0%}",
                                    other=b.n_nonconverged - lost, conv=b.n_converged)
    return out


def baron_kenny_section(s: _Section) -> dict:
    t = s.t
    return {"baron_kenny": [
        {"name": m.name, "path": " → ".join(m.path),
         "steps": [{"step": str(st.step),
                    "what": t(BK_KEYS[st.step]) if st.step in BK_KEYS else st.what or "",
                    "est": fmt(st.est), "p": fmt_p(st.pvalue), "stars": stars(st.pvalue),
                    "met": t("yes") if st.met else t("no"), "ok": bool(st.met)} for st in m.baron_kenny]}
        for m in s.r.mediation if m.baron_kenny]}


# -- reproducibility -------------------------------------------------------------------------------------
def reproducibility_section(s: _Section) -> dict:
    t, meta = s.t, s.r.meta
    mm, sm = s.r.measurement, s.r.structural
    text = lambda v: str(v if v is not None else "")   # noqa: E731
    return {
        "repro": [(t("package_version"), text(meta.version)), (t("seed"), text(meta.seed)),
                  (t("spec_sha"), text(meta.spec_sha256)), (t("data_sha"), text(meta.data_sha256)),
                  (t("timestamp"), text(meta.timestamp)), (t("conventions"), conventions_text(meta, s.lang)),
                  (t("estimation"), translate_notes(str(sm.estimation or mm.estimation or ""), s.lang))],
        "command": meta.command or "",
        "versions": [(k, str(v) if v is not None else "—") for k, v in meta.versions.items()],
        "model_warnings": _model_warnings(s, mm, sm),
        "syntax": sm.syntax,
    }


def _model_warnings(s: _Section, mm: ModelBlock, sm: ModelBlock) -> list[str]:
    """The models' own warnings that the document's warnings do not already carry (the pipeline copies each
    as "measurement model: …"; a document written otherwise may not), in the report's language."""
    out = []
    for block, name, prefix in ((mm, "measurement_model", "measurement model"), (sm, "structural_model",
                                                                                 "structural model")):
        out += [s.t("model_warning", model=s.t(name), warning=translate(w, s.lang)) for w in block.warnings
                if f"{prefix}: {w}" not in s.r.warnings]
    return out


# -- sections of features still in flight (dict-backed until their blocks settle) ------------------------
def _feature_sections(doc: dict, s: _Section) -> dict:
    from .diagnostics import diagnostics_context
    from .moderation import moderation_context  # latent interactions (spec ``interactions``), if any
    from .ordinal_context import ordinal_context  # estimator method, estimator-choice note, ordinal reliability
    from .design import design_context  # complex samples (clusters, weights), if any
    out: dict = {"diagnostics": diagnostics_context(s.r, s.lang), "design": design_context(s.r, s.lang)}
    out.update(moderation_context(s.r, s.lang, with_svg=False))
    out.update(ordinal_context(s.r, s.clabel, s.lang))
    from .rsquare import r_squared_context
    out.update(r_squared_context(s.r, s.lang, s.clabel))
    from .publication import publication_context   # modification indices, equality tests
    out.update(publication_context(s.r, s.lang))
    return out


def _with_estimator_method(ctx: dict) -> dict:
    """The study table names the estimator by its method (``ordinal_context``), not its short code."""
    est = ctx["t"]("estimator")
    ctx["data_rows"] = [(k, ctx["estimator_method"]) if k == est else (k, v) for k, v in ctx["data_rows"]]
    return ctx


__all__ = ["build_context", "report_context", "SECTIONS"]
