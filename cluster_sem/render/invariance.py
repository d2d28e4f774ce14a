"""Report section "Measurement invariance across groups" (en/zh) from the results document alone.

One view model (``invariance_context``) feeds the HTML template (autoescaped), the Markdown template
(every value through ``md_escape``) and the terminal summary (control characters stripped): group names,
construct labels and released rows are user data.
"""
from __future__ import annotations

import re
from typing import Mapping

from ..results.document import Invariance, InvarianceLevel, PathDifference, ResultsDocument
from ..results.fit_verdicts import reported_key
from .labels import check_lang, report_title
from .numbers import fmt, fmt_p, fmt_unit
from .plain_text import terminal_safe

TEXT = {
    "en": {
        "section": "Measurement invariance across groups",
        "report": "Measurement invariance report",
        "intro": "Multigroup CFA by {group} (reference group: {reference}; {estimator}, lavaan group.equal). Each level adds "
                 "equality constraints to the previous one: metric = loadings, scalar = + item intercepts, strict = "
                 "+ residual variances. A level holds when CFI drops by at most .010 and RMSEA rises by at most .015 "
                 "against the previous level (Chen, 2007); the configural model must fit acceptably (CFI ≥ .90, "
                 "RMSEA ≤ .08). The Δχ² test (lavTestLRT) is shown beside them.",
        "groups": "Groups", "group": "Group", "n": "n", "values": "Values in the data",
        "levels": "Invariance levels", "level": "Level", "decision": "Decision",
        "holds": "holds", "rejected": "rejected",
        "configural": "Configural", "metric": "Metric (loadings)", "scalar": "Scalar (+ intercepts)",
        "strict": "Strict (+ residuals)",
        "intro_ordinal": "Multigroup CFA by {group} (reference group: {reference}; WLSMV with items as ordered "
                         "categories, lavaan group.equal). Each level adds equality constraints to the previous one: "
                         "metric = loadings, scalar = + thresholds (latent means and response scales then free in the "
                         "other groups). χ², CFI, TLI and RMSEA are the scaled (WLSMV) values; Δχ² is lavaan's "
                         "scaled-shifted difference (lavTestLRT). A level holds when CFI drops by at most .010 and "
                         "RMSEA rises by at most .015 against the previous level (Chen, 2007); the configural model "
                         "must fit acceptably (CFI ≥ .90, RMSEA ≤ .08).",
        "scalar_thresholds": "Scalar (+ thresholds)",
        "name_configural": "configural", "name_metric": "metric", "name_scalar": "scalar", "name_strict": "strict",
        "summary_all": "Every level holds ({highest} invariance), so latent means and paths can be compared across "
                       "groups.",
        "summary_fail": "{failing} invariance is rejected (first failing level); the highest level that holds is {highest}.",
        "summary_none": "The configural model does not fit acceptably; the constrained levels are reported for "
                        "completeness but invariance cannot be claimed.",
        "released": "Constraints released in every level (partial invariance): {rows}.",
        "score": "Score tests of the equality constraints at the {level} level (lavTestScore)",
        "score_note": "Largest first. Releasing the first constraint (--release \"{first}\") lowers χ² by about its "
                      "score statistic; release as few as needed and keep at least two invariant items per construct.",
        "constraint": "Constraint", "groups_pair": "Groups",
        "means": "Latent means against the reference group (scalar model)",
        "means_note": "The reference group's latent means are fixed at 0; the estimates are differences in the "
                      "units of the marker item.",
        "construct": "Construct", "est": "Estimate", "se": "SE", "p": "p",
        "paths": "Path differences across groups",
        "paths_note": "Structural model with loadings and intercepts equal across groups and every path free per "
                      "group; Δχ² tests each path's equality across groups (lavTestLRT).",
        "path": "Path", "delta": "Δχ²", "none": "none",
        "warnings": "Warnings",
        "none_failing": "No constrained level fails, so no score tests are needed.",
    },
    "zh": {
        "section": "跨组测量不变性",
        "report": "测量不变性报告",
        "intro": "按 {group} 分组的多组验证性因子分析（参照组：{reference}；{estimator}，与 lavaan group.equal 一致）。每一层在前一层基础上"
                 "增加等同约束：度量不变 = 因子载荷，标量不变 = + 题项截距，严格不变 = + 残差方差。与前一层相比 CFI 下降不超过 .010 "
                 "且 RMSEA 上升不超过 .015 时判定该层成立（Chen, 2007）；形态不变模型须达到可接受拟合（CFI ≥ .90，RMSEA ≤ .08）。"
                 "同时列出 Δχ² 检验（lavTestLRT）。",
        "groups": "分组", "group": "组", "n": "n", "values": "数据中的取值",
        "levels": "不变性层级", "level": "层级", "decision": "判定",
        "holds": "成立", "rejected": "不成立",
        "configural": "形态不变", "metric": "度量不变（载荷）", "scalar": "标量不变（+ 截距）",
        "intro_ordinal": "按 {group} 分组的多组验证性因子分析（参照组：{reference}；WLSMV，题项作为有序类别，与 lavaan "
                         "group.equal 一致）。每一层在前一层基础上增加等同约束：度量不变 = 因子载荷，标量不变 = + 阈值"
                         "（其他组的潜变量均值和反应尺度随之自由估计）。χ²、CFI、TLI 与 RMSEA 为校正（WLSMV）值；Δχ² 为 "
                         "lavaan 的 scaled-shifted 差异检验（lavTestLRT）。与前一层相比 CFI 下降不超过 .010 且 RMSEA "
                         "上升不超过 .015 时判定该层成立（Chen, 2007）；形态不变模型须达到可接受拟合（CFI ≥ .90，RMSEA ≤ .08）。",
        "scalar_thresholds": "标量不变（+ 阈值）",
        "strict": "严格不变（+ 残差）",
        "name_configural": "形态不变", "name_metric": "度量不变", "name_scalar": "标量不变", "name_strict": "严格不变",
        "summary_all": "各层均成立（{highest}），可以跨组比较潜变量均值和路径。",
        "summary_fail": "{failing}不成立（首个不成立的层级）。成立的最高层级：{highest}。",
        "summary_none": "形态不变模型拟合不可接受；其余层级仅供参考，不能宣称测量不变。",
        "released": "各层均释放的约束（部分不变）：{rows}。",
        "score": "{level}层级等同约束的得分检验（lavTestScore）",
        "score_note": "按统计量从大到小排列。释放第一个约束（--release \"{first}\"）约可使 χ² 下降其得分统计量；"
                      "应尽量少释放，并保证每个构念至少有两个不变题项。",
        "constraint": "约束", "groups_pair": "组",
        "means": "相对参照组的潜变量均值（标量不变模型）",
        "means_note": "参照组潜变量均值固定为 0；估计值为以标识题项为单位的均值差异。",
        "construct": "构念", "est": "估计值", "se": "标准误", "p": "p",
        "paths": "路径系数的组间差异",
        "paths_note": "结构模型中载荷与截距跨组相等、各路径在各组自由估计；Δχ² 检验每条路径跨组相等（lavTestLRT）。",
        "path": "路径", "delta": "Δχ²", "none": "无",
        "warnings": "警告",
        "none_failing": "没有约束层级不成立，无需得分检验。",
    },
}

def _t(lang: str):
    return lambda key, **kw: TEXT[lang][key].format(**kw) if kw else TEXT[lang][key]


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


def invariance_context(doc: Mapping | ResultsDocument, lang: str = "en") -> dict:
    """Rows and sentences of the section; every number already formatted."""
    check_lang(lang)
    t = _t(lang)
    r = ResultsDocument.read(doc)
    inv = r.invariance
    scores = [{"constraint": s.constraint, "groups": " / ".join(s.groups), "chi2": fmt(s.chi2, 2),
               "p": fmt_p(s.pvalue)} for s in inv.score_tests]
    means = [{"construct": r.spec.construct_label(m.construct, lang), "group": m.group, "est": fmt(m.est),
              "se": fmt(m.se), "p": fmt_p(m.pvalue)} for m in inv.latent_means]
    group_names = [g.name for g in inv.groups]
    paths = [{"path": _path_label(r, p, lang), "est": [fmt(p.est.get(g)) for g in group_names],
              "chi2": fmt(p.chi2, 2), "df": str(p.df), "p": fmt_p(p.pvalue)} for p in inv.path_differences]
    return {
        "t": t, "lang": lang, "title": report_title(r, lang),
        "intro": t("intro_ordinal" if inv.ordinal else "intro", group=inv.group, reference=inv.reference,
                   estimator=inv.estimator),
        "groups": [{"name": g.name, "n": str(g.n), "raw": ", ".join(g.values)} for g in inv.groups],
        "group_names": group_names,
        "levels": [_level_row(lv, inv.ordinal, t) for lv in inv.levels], "summary": _summary(inv, t),
        "released": t("released", rows=", ".join(inv.released)) if inv.released else "",
        "score_level": t(inv.first_failing) if inv.first_failing else "",
        "scores": scores, "score_note": t("score_note", first=inv.score_tests[0].constraint) if scores else "",
        "means": means, "paths": paths, "warnings": list(inv.warnings),
        "version": _or_blank(r.meta.version), "n_used": _or_blank(r.data.n_used), "timestamp": _or_blank(r.meta.timestamp),
    }


def _or_blank(value) -> object:
    """A header value as stored; "" when the document lacks it."""
    return "" if value is None else value


def render_invariance_html(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    from markupsafe import Markup

    from .html import _css, environment
    ctx = invariance_context(doc, lang)
    ctx["css"] = Markup(_css())
    return environment().get_template("invariance.html.j2").render(**ctx)


def render_invariance_markdown(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    from .markdown import environment
    text = environment().get_template("invariance.md.j2").render(**invariance_context(doc, lang))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


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
