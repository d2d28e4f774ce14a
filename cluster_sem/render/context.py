"""The report's view model: every table of the HTML and Markdown reports, with numbers already formatted.

Both templates render this one structure, so the two reports always show the same numbers.  It only reads
and formats the results document (plus simple bookkeeping such as counting how many tests of a hypothesis
were supported); no statistic is computed here.
"""
from __future__ import annotations

from .labels import (REFERENCES, check_lang, construct_label, hypothesis_text, indirect_label, item_index,
                     phrase, pick, title, translator)
from .numbers import fmt, fmt_ci, fmt_p, fmt_pct, fmt_unit, stars

FIT_INDEXES = [("chi2_df", "χ²/df"), ("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR")]

ZHAO_ZH = {
    "complementary (partial) mediation": "互补型（部分）中介",
    "competitive (partial) mediation": "竞争型（部分）中介",
    "indirect-only (full) mediation": "仅间接效应（完全）中介",
    "direct-only (no mediation)": "仅直接效应（无中介）",
    "no effect (no mediation)": "无效应（无中介）",
}

BK_KEYS = {1: "bk_step1", 2: "bk_step2", 3: "bk_step3", 4: "bk_step4"}

HTMT_FLAG_85, HTMT_FLAG_90 = 0.85, 0.90
LOADING_MIN = 0.50


def _cut(v: float | None) -> str:
    """A cut-off as written in a methods section: .95, .06, 2.0."""
    if v is None:
        return "—"
    return fmt_unit(v, 2) if abs(v) < 1 else f"{v:g}" if v != int(v) else f"{v:.1f}"


def _method_name(method: str, lang: str) -> str:
    return phrase(f"method_{method}", lang) if method else ""


def _verdict(v: str | None, lang: str) -> str:
    return phrase(v, lang) if v in ("good", "acceptable", "poor") else (v or "—")


def build_context(doc: dict, lang: str = "en") -> dict:
    check_lang(lang)
    t = translator(lang)
    spec = doc.get("spec") or {}
    meta = doc.get("meta") or {}
    data = doc.get("data") or {}
    items = item_index(doc)
    constructs = spec.get("constructs") or {}
    controls = list(spec.get("controls") or [])

    def clabel(name: str) -> str:
        return construct_label(doc, name, lang)

    ctx: dict = {"lang": lang, "t": t, "title": title(doc, lang), "timestamp": meta.get("timestamp", ""),
                 "warnings": list(doc.get("warnings") or []), "stars_legend": t("stars_legend"),
                 "references": REFERENCES}

    # -- study and data ------------------------------------------------------------------------------------
    n_used = data.get("n_used", meta.get("n_used"))
    ctx["data_rows"] = [
        (t("source"), str(data.get("source", ""))),
        (t("n_raw"), str(data.get("n_raw", ""))),
        (t("n_used"), str(n_used)),
        (t("n_dropped"), str(data.get("n_dropped", 0))),
        (t("estimator"), str(meta.get("estimator", ""))),
        (t("missing"), str(meta.get("missing", ""))),
    ]
    if controls:
        ctx["data_rows"].append((t("controls"), ", ".join(controls)))
    dropped = [{"row": str(d[0]), "reason": str(d[1])} for d in data.get("dropped") or []]
    ctx["dropped"] = dropped
    ctx["dropped_more"] = (t("dropped_more", shown=len(dropped), total=data.get("n_dropped"))
                           if data.get("n_dropped", 0) > len(dropped) else "")
    ctx["data_log"] = [str(x) for x in data.get("log") or []]
    miss = data.get("missing_by_item") or {}
    ctx["missing_items"] = [{"item": k, "pct": fmt_pct(v), "n": str(round(v * (data.get("n_raw") or 0)))}
                            for k, v in miss.items() if v]
    groups = data.get("groups") or {}
    total = sum(groups.values())
    ctx["group_name"] = spec.get("group") or ""
    ctx["groups"] = [{"name": str(k), "n": str(v), "pct": fmt_pct(v / total) if total else "—"}
                     for k, v in groups.items()]
    ctx["groups_total"] = str(total)

    # constructs legend
    legend = []
    for name, c in constructs.items():
        dims = c.get("dimensions") or []
        its = [it if isinstance(it, str) else it.get("id") for it in c.get("items") or []]
        legend.append({"id": name, "label": clabel(name),
                       "content": " · ".join(dims) if dims else " · ".join(its),
                       "second_order": bool(dims)})
    ctx["constructs"] = legend

    # -- item descriptives --------------------------------------------------------------------------------
    desc = []
    for r in doc.get("descriptives") or []:
        info = items.get(r["item"], {})
        desc.append({"item": r["item"], "construct": info.get("construct", ""),
                     "wording": pick(info.get("text"), lang, ""), "reverse": info.get("reverse", False),
                     "mean": fmt(r.get("mean"), 2), "sd": fmt(r.get("sd"), 2), "skew": fmt(r.get("skewness"), 2),
                     "kurt": fmt(r.get("kurtosis"), 2), "min": fmt(r.get("min"), 0), "max": fmt(r.get("max"), 0),
                     "missing": fmt(r.get("pct_missing"), 1)})
    ctx["descriptives"] = desc
    ctx["any_reverse"] = any(d["reverse"] for d in desc)

    # -- measurement model --------------------------------------------------------------------------------
    mm = doc.get("measurement_model") or {}
    sm = doc.get("structural_model") or {}
    loadings = [p for p in mm.get("parameters") or [] if p.get("op") == "=~"]
    rows, low = [], []
    for p in loadings:
        if p["rhs"] not in items:
            continue
        std = p.get("std_all")
        flag = std is not None and std < LOADING_MIN
        if flag:
            low.append(p["rhs"])
        rows.append({"construct": p["lhs"], "item": p["rhs"], "est": fmt(p.get("est")),
                     "se": fmt(p.get("se")) if p.get("pvalue") is not None else "—",
                     "std": fmt_unit(std), "p": fmt_p(p.get("pvalue")) if p.get("pvalue") is not None else "—",
                     "fixed": p.get("pvalue") is None, "flag": flag})
    ctx["loadings"] = rows
    ctx["low_loadings"] = low
    # first row of each construct starts a group (for rowspans / blank repeats)
    prev = None
    for r in rows:
        r["first"] = r["construct"] != prev
        r["construct_label"] = clabel(r["construct"])
        prev = r["construct"]

    second = []
    so_params = [p for p in (sm.get("parameters") or []) + (mm.get("parameters") or [])
                 if p.get("op") == "=~" and p.get("rhs") in constructs]
    seen = set()
    for p in so_params:
        key = (p["lhs"], p["rhs"])
        if key in seen:
            continue
        seen.add(key)
        second.append({"construct": p["lhs"], "label": clabel(p["lhs"]), "dimension": p["rhs"],
                       "dim_label": clabel(p["rhs"]), "std": fmt_unit(p.get("std_all")),
                       "p": fmt_p(p.get("pvalue")) if p.get("pvalue") is not None else "—",
                       "flag": p.get("std_all") is not None and p["std_all"] < LOADING_MIN})
    ctx["second_order"] = second

    rel = []
    for c, r in (doc.get("reliability") or {}).items():
        std = [p["std_all"] for p in loadings if p["lhs"] == c and p.get("std_all") is not None]
        rel.append({"construct": c, "label": clabel(c),
                    "alpha": fmt_unit(r.get("alpha")), "omega": fmt_unit(r.get("omega")),
                    "ave": fmt_unit(r.get("ave")),
                    "alpha_low": r.get("alpha") is not None and r["alpha"] < 0.70,
                    "omega_low": r.get("omega") is not None and r["omega"] < 0.70,
                    "ave_low": r.get("ave") is not None and r["ave"] < 0.50,
                    "range": f"{fmt_unit(min(std))}–{fmt_unit(max(std))}" if std else "—"})
    ctx["reliability"] = rel

    # -- discriminant validity ----------------------------------------------------------------------------
    fl = doc.get("fornell_larcker") or {}
    names = list(fl)
    fl_rows, fl_bad = [], []
    for i, a in enumerate(names):
        cells = []
        diag = fl[a].get(a)
        for j, b in enumerate(names):
            if j > i:
                cells.append({"v": "", "kind": "empty"})
            elif j == i:
                cells.append({"v": fmt_unit(diag), "kind": "diag"})
            else:
                v = fl[a].get(b)
                bad = v is not None and (abs(v) >= (diag or 0) or abs(v) >= (fl[b].get(b) or 0))
                cells.append({"v": fmt_unit(v), "kind": "bad" if bad else "cell"})
        if any(fl[a].get(b) is not None and b != a and abs(fl[a][b]) >= (diag or 0) for b in names):
            fl_bad.append(a)
        fl_rows.append({"name": a, "cells": cells})
    ctx["fl_names"] = names
    ctx["fl_rows"] = fl_rows
    ctx["fl_bad"] = fl_bad

    ht = doc.get("htmt") or {}
    hnames = list(ht)
    h_rows = []
    for i, a in enumerate(hnames):
        cells = []
        for j, b in enumerate(hnames):
            if j >= i:
                cells.append({"v": "", "kind": "empty"})
                continue
            v = ht[a].get(b)
            mark = "" if v is None else "‡" if v > HTMT_FLAG_90 else "†" if v > HTMT_FLAG_85 else ""
            cells.append({"v": fmt(v) + mark, "kind": "bad" if mark else "cell"})
        h_rows.append({"name": a, "cells": cells[:len(hnames) - 1]})
    ctx["htmt_names"] = hnames[:-1] if hnames else []
    ctx["htmt_rows"] = h_rows[1:]
    flags = []
    for f in doc.get("htmt_flags") or []:
        if isinstance(f, (list, tuple)) and len(f) >= 3:
            flags.append(f"{f[0]}–{f[1]} ({fmt(f[2])})")
        else:
            flags.append(str(f))
    ctx["htmt_flags"] = flags

    cm = doc.get("common_method") or {}
    ctx["harman"] = {
        "text": t("harman_text", share=fmt_pct(cm.get("harman_first_factor_share")),
                  nfac=cm.get("n_factors_eigen_gt_1", "—")),
        "verdict": t("harman_bad") if cm.get("flag") else t("harman_ok"),
        "flag": bool(cm.get("flag")),
        "share": fmt_pct(cm.get("harman_first_factor_share")),
    } if cm else None

    # -- model fit ----------------------------------------------------------------------------------------
    fv = doc.get("fit_verdicts") or {}
    fit_rows = []
    sources = []
    for key, name in FIT_INDEXES:
        vm, vs = (fv.get("measurement") or {}).get(key), (fv.get("structural") or {}).get(key)
        ref = vm or vs
        if not ref:
            continue
        op = "≥" if ref.get("direction") == "higher" else "≤"
        digits = 2 if key == "chi2_df" else 3
        f = (lambda x: fmt(x, 2)) if key == "chi2_df" else (lambda x: fmt_unit(x, digits))
        fit_rows.append({
            "index": name,
            "m": f(vm.get("value")) if vm else "—", "m_verdict": _verdict(vm.get("verdict"), lang) if vm else "",
            "m_class": vm.get("verdict", "") if vm else "",
            "s": f(vs.get("value")) if vs else "—", "s_verdict": _verdict(vs.get("verdict"), lang) if vs else "",
            "s_class": vs.get("verdict", "") if vs else "",
            "cutoff": f"{op} {_cut(ref.get('good'))} / {op} {_cut(ref.get('acceptable'))}",
            "source": ref.get("source", ""),
        })
        for s in str(ref.get("source", "")).split(";"):
            s = s.strip()
            if s and s not in sources:
                sources.append(s)
    ctx["fit_rows"] = fit_rows
    ctx["fit_sources"] = sources
    fm, fs = mm.get("fit") or {}, sm.get("fit") or {}

    def _rmsea_ci(f):
        ci = f.get("rmsea_ci90_scaled") or f.get("rmsea_ci90") or [None, None]
        return f"[{fmt_unit(ci[0])}, {fmt_unit(ci[1])}]"

    sc = "_scaled" if fm.get("chi2_scaled") is not None else ""   # WLSMV: report the scaled-shifted χ²
    ctx["fit_note"] = t("fit_note", df_m=fm.get("df", "—"), chi_m=fmt(fm.get("chi2" + sc), 2),
                        p_m=_p_eq(fm.get("pvalue" + sc)),
                        df_s=fs.get("df", "—"), chi_s=fmt(fs.get("chi2" + sc), 2), p_s=_p_eq(fs.get("pvalue" + sc)),
                        ci_m=_rmsea_ci(fm), ci_s=_rmsea_ci(fs)) if fm and fs else ""
    ctx["ic_note"] = t("ic_note", aic_m=fmt(fm.get("aic"), 1), aic_s=fmt(fs.get("aic"), 1),
                       bic_m=fmt(fm.get("bic"), 1), bic_s=fmt(fs.get("bic"), 1)) if fm and fs else ""
    ctx["fit_raw"] = [
        {"model": t("measurement_model"), "chi2": fmt(fm.get("chi2"), 2), "df": str(fm.get("df", "—")),
         "p": fmt_p(fm.get("pvalue")), "n": str(fm.get("n", "—"))},
        {"model": t("structural_model"), "chi2": fmt(fs.get("chi2"), 2), "df": str(fs.get("df", "—")),
         "p": fmt_p(fs.get("pvalue")), "n": str(fs.get("n", "—"))},
    ] if fm and fs else []

    # -- structural paths ---------------------------------------------------------------------------------
    hyps = doc.get("hypotheses") or []
    path_h = {(h["from"], h["to"]): h for h in hyps if h.get("kind") == "path"}
    paths = []
    for p in sm.get("parameters") or []:
        if p.get("op") != "~":
            continue
        h = path_h.get((p["rhs"], p["lhs"]))
        is_control = p["rhs"] in controls
        if h and h.get("id"):
            result = t("supported") if h.get("supported") else t("not_supported")
            rclass = "yes" if h.get("supported") else "no"
        else:
            result, rclass = (t("control"), "ctl") if is_control else ("", "")
        paths.append({"from": p["rhs"], "to": p["lhs"], "path": f"{p['rhs']} → {p['lhs']}",
                      "path_label": f"{clabel(p['rhs'])} → {clabel(p['lhs'])}",
                      "hyp": (h or {}).get("id") or "", "b": fmt(p.get("est")), "se": fmt(p.get("se")),
                      "z": fmt(p.get("z"), 2), "beta": fmt(p.get("std_all")), "p": fmt_p(p.get("pvalue")),
                      "stars": stars(p.get("pvalue")), "result": result, "rclass": rclass,
                      "control": is_control})
    ctx["paths"] = paths

    # hypotheses summary
    hyp_text = (spec.get("hypotheses") or {})
    hsum = []
    for hid in hyp_text:
        tests = [h for h in hyps if h.get("id") == hid]
        n_sup = sum(1 for h in tests if h.get("supported"))
        if not tests:
            verdict, vclass = "—", ""
        elif n_sup == len(tests):
            verdict, vclass = t("supported"), "yes"
        elif n_sup == 0:
            verdict, vclass = t("not_supported"), "no"
        else:
            verdict, vclass = f"{t('supported')}: {n_sup} / {len(tests)}", "partly"
        what = []
        for h in tests:
            arrow = f"{h['from']} → {h['to']}" if h.get("kind") in ("path", "interaction") else \
                f"{h['from']} → … → {h['to']}"
            what.append({"test": arrow, "ok": bool(h.get("supported"))})
        hsum.append({"id": hid, "text": hypothesis_text(doc, hid, lang), "verdict": verdict, "vclass": vclass,
                     "tests": what})
    ctx["hypotheses"] = hsum

    # -- indirect effects ---------------------------------------------------------------------------------
    med = {m["name"]: m for m in doc.get("mediation") or []}
    ind = []
    for e in doc.get("indirect_effects") or []:
        m = med.get(e["name"], {})
        mtype = m.get("type", "")
        others = [{"method": _method_name(k, lang), "ci": fmt_ci(v[0], v[1])}
                  for k, v in (e.get("cis") or {}).items() if k != e.get("ci_method") and v]
        hyp = next((h for h in hyps if h.get("kind") == "indirect" and h.get("name") == e["name"]), {})
        ind.append({"name": e["name"], "label": indirect_label(doc, e["name"], lang),
                    "path": " → ".join(e.get("path") or []), "est": fmt(e.get("est")), "se": fmt(e.get("se")),
                    "ci": fmt_ci(e.get("ci_lower"), e.get("ci_upper")), "std": fmt(e.get("std_all")),
                    "p": fmt_p(e.get("pvalue")), "stars": stars(e.get("pvalue")),
                    "direct": fmt(m.get("direct")) if m.get("direct") is not None else "—",
                    "direct_stars": stars(m.get("direct_pvalue")),
                    "total": fmt(m.get("total")) if m.get("total") is not None else "—",
                    "mediation": t(m["mediation"]) if m.get("mediation") in ("full", "partial", "none") else "—",
                    "mclass": m.get("mediation", ""),
                    "type": (ZHAO_ZH.get(mtype, mtype) if lang == "zh" else mtype),
                    "hyp": hyp.get("id") or "",
                    "others": others})
    ctx["indirect"] = ind
    first = (doc.get("indirect_effects") or [None])[0]
    if first:
        level = first.get("level") or meta.get("ci_level") or 0.95
        ctx["indirect_note"] = t("indirect_note", level=f"{100 * level:g}",
                                 method=_method_name(first.get("ci_method", ""), lang))
        ctx["ci_level"] = f"{100 * level:g}%"
        ctx["ci_method"] = _method_name(first.get("ci_method", ""), lang)
    else:
        ctx["indirect_note"] = ""
        ctx["ci_level"] = ""
        ctx["ci_method"] = ""
    ctx["any_other_cis"] = any(r["others"] for r in ind)
    ctx["totals"] = [{"name": e["name"], "path": " → ".join(e.get("path") or []), "est": fmt(e.get("est")),
                      "se": fmt(e.get("se")), "ci": fmt_ci(e.get("ci_lower"), e.get("ci_upper")),
                      "std": fmt(e.get("std_all")), "p": fmt_p(e.get("pvalue")), "stars": stars(e.get("pvalue"))}
                     for e in doc.get("total_effects") or []]
    b = doc.get("bootstrap")
    ctx["bootstrap"] = (t("bootstrap_info", B=b.get("B"), seed=b.get("seed"), conv=b.get("n_converged"),
                          inadm=b.get("n_inadmissible"), rule=b.get("rule", "")) if b else t("bootstrap_none"))
    if b and b.get("n_lost_category"):
        lost = b["n_lost_category"]
        ctx["bootstrap"] += " " + t("bootstrap_lost", B=b["B"], lost=lost, share=f"{lost / b['B']:.0%}",
                                    other=b["n_nonconverged"] - lost, conv=b["n_converged"])

    # -- Baron & Kenny ------------------------------------------------------------------------------------
    bk = []
    for m in doc.get("mediation") or []:
        steps = m.get("baron_kenny")
        if not steps:
            continue
        bk.append({"name": m["name"], "path": " → ".join(m.get("path") or []),
                   "steps": [{"step": str(s.get("step")),
                              "what": t(BK_KEYS[s["step"]]) if s.get("step") in BK_KEYS else s.get("what", ""),
                              "est": fmt(s.get("est")), "p": fmt_p(s.get("pvalue")), "stars": stars(s.get("pvalue")),
                              "met": t("yes") if s.get("met") else t("no"), "ok": bool(s.get("met"))}
                             for s in steps]})
    ctx["baron_kenny"] = bk

    # -- reproducibility ----------------------------------------------------------------------------------
    versions = meta.get("versions") or {}
    ctx["repro"] = [
        (t("package_version"), str(meta.get("version", ""))),
        (t("seed"), str(meta.get("seed", ""))),
        (t("spec_sha"), str(meta.get("spec_sha256", ""))),
        (t("data_sha"), str(meta.get("data_sha256", ""))),
        (t("timestamp"), str(meta.get("timestamp", ""))),
        (t("conventions"), str(meta.get("conventions", ""))),
        (t("estimation"), str(sm.get("estimation") or mm.get("estimation") or "")),
    ]
    ctx["command"] = meta.get("command") or ""
    ctx["versions"] = [(k, str(v) if v is not None else "—") for k, v in versions.items()]
    ctx["model_warnings"] = [f"{t('measurement_model')}: {w}" for w in mm.get("warnings") or []] + \
                            [f"{t('structural_model')}: {w}" for w in sm.get("warnings") or []]
    ctx["syntax"] = sm.get("syntax", "")
    from .diagnostics import diagnostics_context
    ctx["diagnostics"] = diagnostics_context(doc, lang)
    from .moderation import moderation_context  # latent interactions (spec ``interactions``), if any
    ctx.update(moderation_context(doc, lang, with_svg=False))
    from .ordinal_context import ordinal_context  # estimator method, estimator-choice note, ordinal reliability
    ctx.update(ordinal_context(doc, t, clabel))
    ctx["data_rows"] = [(k, ctx["estimator_method"]) if k == t("estimator") else (k, v) for k, v in ctx["data_rows"]]
    return ctx


def _p_eq(p: float | None) -> str:
    """'= .016' or '< .001' for running text."""
    s = fmt_p(p)
    return s if s.startswith("<") else f"= {s}"


__all__ = ["build_context"]
