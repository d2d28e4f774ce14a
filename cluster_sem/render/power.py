"""Power-study report (Markdown, HTML with an inline SVG power curve, terminal) from power.json alone.

The renderers read the power document and format it; the only arithmetic here is the view model's
look-ups (which n a hypothesis needs = the largest min n of its effects) and the rules of thumb, which are
simple multiplications stated beside the simulation's answer.  User text (labels, hypothesis wording) is
autoescaped in HTML (jinja2), escaped in Markdown and stripped of control characters on the terminal.
"""
from __future__ import annotations

from functools import lru_cache

from .labels import check_lang
from .markdown import md_escape
from .numbers import fmt, fmt_unit
from .plain_text import terminal_safe

L = {
    "en": {
        "title": "Power and sample size", "study": "Study", "settings": "Settings",
        "recommendation": "Recommendation", "by_hypothesis": "Sample size per hypothesis",
        "hypothesis": "Hypothesis", "effects": "Effects", "needed": "n needed", "beyond": "beyond {n}",
        "at_most": "≤ {n}", "rules": "Rules of thumb beside the simulation",
        "rule": "Rule", "n": "n", "effect": "Effect", "kind": "Kind", "pop": "Population value",
        "pop_std": "Std. population value", "power": "Power", "mc_se": "MC SE", "mean_est": "Mean estimate",
        "bias": "Bias", "rel_bias": "Rel. bias", "sd_est": "SD of estimates", "mean_se": "Mean SE",
        "coverage": "95% coverage", "reps": "Replications", "converged": "Converged",
        "inadmissible": "Inadmissible", "dropped": "Dropped", "min_n": "Smallest n with power ≥ {t}",
        "curve": "Power curves", "curve_caption": "Simulated power by sample size; dashed line = target {t}.",
        "rmsea": "RMSEA test of close fit (MacCallum, Browne & Sugawara 1996; H0 ε ≤ .05 vs ε = .08), analytic",
        "per_n": "Results for n = {n}", "path": "path", "indirect": "indirect", "interaction": "interaction",
        "answer": "The simulation says: {n} firms give power ≥ {t} for every hypothesised effect with a "
                  "non-zero population value.",
        "answer_beyond": "The simulation says: even {n} firms do not give power ≥ {t} for every hypothesised "
                         "effect (see the table; some effects need a larger sample or are too small to detect).",
        "rule_200": "N ≥ 200 (Boomsma 1982; Kline 2016)", "rule_10": "10 cases per free parameter ({q} parameters)",
        "rule_5": "5 cases per free parameter (Bentler & Chou 1987)",
        "setting_text": "{reps} replications per n, seed {seed}, α = {alpha}, target power {target}, "
                        "indirect effects by {ci} CIs; population values = {pv}.",
        "estimation_text": "Estimator {est}, missing data: {missing}, fitted {fitting}. Interactions: {imethod}.",
        "imethod_dblcent": "double-mean-centred product indicators (dblcent, matched pairs) fitted by ML, "
                           "population value from {pop_n} simulated cases; ML standard errors of product "
                           "indicators run small at small n (see coverage), so their power is optimistic there",
        "imethod_none": "none in the spec", "imethod_skipped": "not estimated with {est} / {missing} ({names})",
        "direction": "Direction tested", "dir_pos": "+", "dir_neg": "−", "dir_two": "either (two-sided)",
        "int_counts": "interaction model: converged {c}, inadmissible {i}",
        "h_none": "(no hypothesis)",
        "notes": "Power = share of converged replications significant in the hypothesised direction; MC SE = its "
                 "Monte Carlo error. Bias is against the population value on the fitted model's scale. "
                 "A path without a hypothesis (and without an explicit 'expect') is tested two-sided.",
    },
    "zh": {
        "title": "统计功效与样本量", "study": "研究", "settings": "设置",
        "recommendation": "建议", "by_hypothesis": "各假设所需样本量",
        "hypothesis": "假设", "effects": "效应", "needed": "所需 n", "beyond": "超过 {n}",
        "at_most": "≤ {n}", "rules": "经验法则与模拟结果对照",
        "rule": "法则", "n": "n", "effect": "效应", "kind": "类型", "pop": "总体值",
        "pop_std": "标准化总体值", "power": "功效", "mc_se": "蒙特卡洛误差", "mean_est": "估计均值",
        "bias": "偏差", "rel_bias": "相对偏差", "sd_est": "估计标准差", "mean_se": "平均标准误",
        "coverage": "95% 覆盖率", "reps": "重复次数", "converged": "收敛",
        "inadmissible": "不可接受解", "dropped": "剔除", "min_n": "功效 ≥ {t} 的最小 n",
        "curve": "功效曲线", "curve_caption": "各样本量下的模拟功效；虚线为目标功效 {t}。",
        "rmsea": "RMSEA 近似拟合检验（MacCallum, Browne & Sugawara 1996；H0 ε ≤ .05 对 ε = .08），解析计算",
        "per_n": "n = {n} 的结果", "path": "路径", "indirect": "间接效应", "interaction": "交互效应",
        "answer": "模拟结论：{n} 家企业即可使所有总体值非零的假设效应的功效达到 {t} 以上。",
        "answer_beyond": "模拟结论：即使 {n} 家企业，也不能使所有假设效应的功效达到 {t}（见下表；部分效应需要更大样本或效应过小）。",
        "rule_200": "N ≥ 200（Boomsma 1982；Kline 2016）", "rule_10": "每个自由参数 10 个样本（{q} 个参数）",
        "rule_5": "每个自由参数 5 个样本（Bentler & Chou 1987）",
        "setting_text": "每个 n 重复 {reps} 次，种子 {seed}，α = {alpha}，目标功效 {target}，间接效应采用 {ci} 置信区间；"
                        "总体值 = {pv}。",
        "estimation_text": "估计方法 {est}，缺失数据：{missing}，拟合方式：{fitting}。交互效应：{imethod}。",
        "imethod_dblcent": "双重均值中心化乘积指标（dblcent，配对）ML 估计，总体值来自 {pop_n} 个模拟个案；"
                           "小样本时乘积指标的 ML 标准误偏小（见覆盖率），该处功效偏乐观",
        "imethod_none": "规范中没有", "imethod_skipped": "{est} / {missing} 下不估计（{names}）",
        "direction": "检验方向", "dir_pos": "+", "dir_neg": "−", "dir_two": "双侧",
        "int_counts": "交互模型：收敛 {c}，不可接受解 {i}",
        "h_none": "（无假设）",
        "notes": "功效 = 收敛的重复中在假设方向上显著的比例；蒙特卡洛误差为其模拟误差。偏差相对于拟合模型尺度上的总体值。"
                 "没有假设（且未明确给出 expect）的路径采用双侧检验。",
    },
}


def _t(lang: str):
    return lambda key, **kw: L[lang][key].format(**kw) if kw else L[lang][key]


def _label(doc: dict, name: str, lang: str) -> str:
    lab = (doc.get("labels") or {}).get(name) or {}
    return lab.get(lang) or lab.get("en") or name


def _needed(value, largest: int, t, smallest: int | None = None) -> str:
    """'beyond 300', '≤ 100' (the smallest n simulated already reaches the target) or the n."""
    if value is None:
        return t("beyond", n=largest)
    return t("at_most", n=value) if value == smallest else str(value)


def view(doc: dict, lang: str = "en") -> dict:
    """Everything the three renderers print, as strings, in display order."""
    check_lang(lang)
    t = _t(lang)
    ns = [s["n"] for s in doc["sizes"]]
    largest = max(ns)
    target = fmt_unit(doc["target"], 2)
    by_h, overall = _by_hypothesis(doc, lang, t)
    q = doc["model"]["n_parameters"]
    return {
        "t": t, "lang": lang, "title": f"{_label(doc, '__title__', lang)} — {t('title')}",
        "ns": ns, "target": target, "per_effect": _per_effect(doc, lang, t), "by_hypothesis": by_h,
        "answer": t("answer", n=overall, t=target) if overall is not None else t("answer_beyond", n=largest, t=target),
        "rules": [[t("rule_200"), "200"], [t("rule_10", q=q), str(10 * q)], [t("rule_5"), str(5 * q)],
                  [t("min_n", t=target), _needed(overall, largest, t, min(ns))]],
        "settings": t("setting_text", reps=doc["settings"]["reps"], seed=doc["seed"], alpha=fmt_unit(doc["alpha"], 2),
                      target=target, ci=doc["ci_method"].replace("_", " "), pv=doc["settings"]["population_values"])
        + " " + _estimation(doc, t),
        "rmsea": [[str(r["n"]), fmt(r["power"])] for r in doc["rmsea_power"]],
        "tables": [_size_table(doc, s, t) for s in doc["sizes"]],
        "header": [t("effect"), t("kind"), t("pop"), t("power"), t("mc_se"), t("mean_est"), t("bias"),
                   t("rel_bias"), t("sd_est"), t("mean_se"), t("coverage")],
    }


def _per_effect(doc: dict, lang: str, t) -> list[dict]:
    """One summary per effect: what it is, its population value, power at each n, the n it needs."""
    sizes = doc["sizes"]
    ns = [s["n"] for s in sizes]
    out = []
    for k, e in enumerate(doc["effects"]):
        rows = [s["effects"][k] for s in sizes]
        out.append({
            "name": e["name"], "label": _label(doc, e["name"], lang), "kind": t(e["kind"]),
            "direction": t({1: "dir_pos", -1: "dir_neg"}.get(e.get("direction"), "dir_two")),
            "hypothesis": e.get("hypothesis") or "", "population": fmt(e["population"]),
            "population_std": fmt(e["population_std"]),
            "power": [fmt(r["power"]) for r in rows], "raw_power": [r["power"] for r in rows],
            "min_n": ("—" if e.get("null")
                      else _needed(doc["min_n"].get(e["name"]), max(ns), t, min(ns))),
        })
    return out


def _by_hypothesis(doc: dict, lang: str, t) -> tuple[list[dict], int | None]:
    """The n each hypothesis needs (the largest of its non-null effects' needs; none if one is never
    reached) and the n the whole study needs (None: beyond the largest n tried)."""
    ns = [s["n"] for s in doc["sizes"]]
    groups: dict[str, list] = {}
    for e in doc["effects"]:
        if e.get("hypothesis") and not e.get("null"):
            groups.setdefault(e["hypothesis"], []).append(e["name"])
    by_h = []
    for h, names in groups.items():
        need = [doc["min_n"].get(nm) for nm in names]
        value = None if any(v is None for v in need) else max(need)
        by_h.append({"hypothesis": h, "text": _label(doc, h, lang), "effects": ", ".join(names),
                     "needed": _needed(value, max(ns), t, min(ns))})
    all_need = [doc["min_n"].get(nm) for names in groups.values() for nm in names]
    overall = None if not all_need or any(v is None for v in all_need) else max(all_need)
    return by_h, overall


def _size_table(doc: dict, s: dict, t) -> dict:
    """The per-effect simulation summary at one sample size, with its replication counts."""
    rows = []
    for e, r in zip(doc["effects"], s["effects"]):
        rows.append([e["name"], t(e["kind"]), fmt(r["population"]), fmt(r["power"]), fmt(r["power_mc_se"]),
                     fmt(r["mean_est"]), fmt(r["bias"]), fmt(r["relative_bias"]), fmt(r["sd_est"]),
                     fmt(r["mean_se"]), fmt(r["coverage"])])
    counts = (f"{t('reps')} {s['reps']}, {t('converged')} {s['converged']}, "
              f"{t('inadmissible')} {s['inadmissible']}, {t('dropped')} {s['dropped']}")
    if s.get("interaction_model"):
        counts += "; " + t("int_counts", c=s["interaction_model"]["converged"],
                           i=s["interaction_model"]["inadmissible"])
    return {"n": s["n"], "caption": t("per_n", n=s["n"]), "rows": rows, "counts": counts}


def _estimation(doc: dict, t) -> str:
    """Estimator, missing-data rule, how replications were fitted and how interactions were estimated."""
    st = doc["settings"]
    est, missing = st.get("estimator", "ML"), st.get("missing", "listwise")
    if doc.get("interactions_skipped"):
        imethod = t("imethod_skipped", est=est, missing=missing, names=", ".join(doc["interactions_skipped"]))
    elif doc.get("interaction_method") == "dblcent":
        imethod = t("imethod_dblcent", pop_n=f"{st.get('interaction_population_n') or 0:,}")
    else:
        imethod = t("imethod_none")
    return t("estimation_text", est=est, missing=missing, fitting=st.get("fitting", "batched ML"), imethod=imethod)


def power_curve_svg(doc: dict, lang: str = "en", kind: str | None = None) -> str:
    """Power against n, one polyline per effect (text as SVG <text>, escaped), target as a dashed line."""
    from markupsafe import escape
    v = view(doc, lang)
    ns = v["ns"]
    W, H, left, right, top, bottom = 640, 320, 50, 150, 20, 40
    lo, hi = min(ns), max(ns)
    span = (hi - lo) or 1

    def x(n):
        return left + (n - lo) / span * (W - left - right)

    def y(p):
        return top + (1 - p) * (H - top - bottom)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="power-curve" '
           f'font-family="sans-serif" font-size="11">',
           f'<title>{escape(v["t"]("curve"))}</title>',
           f'<line x1="{left}" y1="{y(0)}" x2="{W - right}" y2="{y(0)}" stroke="#333"/>',
           f'<line x1="{left}" y1="{y(0)}" x2="{left}" y2="{y(1)}" stroke="#333"/>']
    for p in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        out.append(f'<text x="{left - 6}" y="{y(p) + 4:.1f}" text-anchor="end">{p:.1f}</text>')
    for n in ns:
        out.append(f'<text x="{x(n):.1f}" y="{H - bottom + 16}" text-anchor="middle">{n}</text>')
    out.append(f'<text x="{(left + W - right) / 2:.1f}" y="{H - 6}" text-anchor="middle">n</text>')
    out.append(f'<line x1="{left}" y1="{y(doc["target"]):.1f}" x2="{W - right}" y2="{y(doc["target"]):.1f}" '
               f'stroke="#999" stroke-dasharray="4 3"/>')
    palette = ["#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6c4f9c", "#00798c", "#8d6a9f", "#c05746", "#3d5a80"]
    shown = [e for e in v["per_effect"] if kind is None or e["kind"] == v["t"](kind)]
    for i, e in enumerate(shown):
        pts = [(x(n), y(p)) for n, p in zip(ns, e["raw_power"]) if p is not None]
        if not pts:
            continue
        colour = palette[i % len(palette)]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="'
                   + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        out.append(f'<text x="{pts[-1][0] + 4:.1f}" y="{pts[-1][1] + 4:.1f}" fill="{colour}">{escape(e["name"])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def render_power_markdown(doc: dict, lang: str = "en") -> str:
    v = view(doc, lang)
    t = v["t"]

    def table(header, rows):
        lines = ["| " + " | ".join(md_escape(h) for h in header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in rows]
        return lines

    out = [f"# {md_escape(v['title'])}", "", f"## {t('recommendation')}", "", md_escape(v["answer"]), ""]
    out += [f"### {t('by_hypothesis')}", ""]
    out += table([t("hypothesis"), t("effects"), t("needed")],
                 [[h["hypothesis"], h["effects"], h["needed"]] for h in v["by_hypothesis"]]) + [""]
    out += [f"### {t('rules')}", ""] + table([t("rule"), t("n")], v["rules"]) + [""]
    out += [f"## {t('power')}", ""]
    out += table([t("effect"), t("hypothesis"), t("direction"), t("pop"), t("pop_std")]
                 + [f"n = {n}" for n in v["ns"]] + [t("min_n", t=v["target"])],
                 [[e["name"], e["hypothesis"], e["direction"], e["population"], e["population_std"]] + e["power"]
                  + [e["min_n"]]
                  for e in v["per_effect"]]) + [""]
    for tab in v["tables"]:
        out += [f"### {md_escape(tab['caption'])}", "", md_escape(tab["counts"]), ""]
        out += table(v["header"], tab["rows"]) + [""]
    out += [f"## {md_escape(t('rmsea'))}", ""] + table(["n", t("power")], v["rmsea"]) + [""]
    out += [f"## {t('settings')}", "", md_escape(v["settings"]), "", md_escape(t("notes")), ""]
    return "\n".join(out)


@lru_cache(maxsize=None)
def _template():
    from .html import environment
    return environment().get_template("power.html.j2")


def render_power_html(doc: dict, lang: str = "en") -> str:
    from markupsafe import Markup
    v = view(doc, lang)
    curves = [Markup(power_curve_svg(doc, lang, kind)) for kind in ("path", "indirect", "interaction")
              if any(e["kind"] == kind for e in doc["effects"])]
    return _template().render(v=v, t=v["t"], curves=curves, version=doc["meta"]["version"])


def render_power_summary(doc: dict, lang: str = "en") -> str:
    v = view(doc, lang)
    t = v["t"]

    clean = terminal_safe        # escape sequences (with their payload), control and bidi characters removed

    header = [t("effect"), t("hypothesis"), t("pop")] + [f"n={n}" for n in v["ns"]] + [t("needed")]
    rows = [[e["name"], e["hypothesis"], e["population"]] + e["power"] + [e["min_n"]] for e in v["per_effect"]]
    widths = [max(len(clean(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(clean(c).ljust(w) if i < 2 else clean(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    out = [clean(v["title"]), "", clean(v["answer"]), "", line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out += ["", f"{t('by_hypothesis')}: " + "; ".join(f"{clean(h['hypothesis'])} {clean(h['needed'])}"
                                                     for h in v["by_hypothesis"])]
    out += [f"{t('rules')}: " + "; ".join(f"{clean(a)} → {b}" for a, b in v["rules"][:3])]
    return "\n".join(out)


__all__ = ["render_power_markdown", "render_power_html", "render_power_summary", "power_curve_svg", "view"]
