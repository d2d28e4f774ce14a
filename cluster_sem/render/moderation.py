"""Report view of the ``moderation`` block: tables (formatted numbers) and the simple-slopes plot (SVG).

Reads results.json only: the plotted lines come from ``moderation[].plot`` (computed in the model stage),
the renderer only draws them.  The SVG keeps text as text (``svg.fonttype = none``) and every label is
drawn with ``parse_math=False`` — construct labels are user data, a ``$`` in them must stay a ``$``.
"""
from __future__ import annotations

import io
import logging
import warnings

from .labels import construct_label, hypothesis_text
from .numbers import fmt, fmt_ci, fmt_p, stars

PHRASES = {
    "en": {
        "sec_moderation": "Moderation (latent interaction)",
        "interaction": "Interaction", "outcome": "Outcome", "method": "Method", "product": "Product term",
        "simple_slopes": "Simple slopes of {focal} on {outcome} at values of {moderator}",
        "at": "{moderator} at", "moderator_value": "Value", "slope": "Slope",
        "jn": "Johnson–Neyman: the slope of {focal} is significant ({level}) {where} {lo} … {hi} of {moderator} "
              "(latent scale, mean 0, SD {sd}).",
        "jn_none": "Johnson–Neyman: the slope of {focal} is significant {where} over the range of {moderator}.",
        "jn_outside": "outside the interval", "jn_inside": "inside the interval",
        "jn_everywhere": "everywhere", "jn_nowhere": "nowhere",
        "lrt": "Likelihood-ratio test, model with vs. without the product: χ²({df}) = {chi2}, p {p}.",
        "imm": "Conditional indirect effects and index of moderated mediation (Hayes 2015)",
        "imm_note": "{level} Monte Carlo confidence intervals ({draws} draws from the estimates' sampling "
                    "distribution, seed {seed}); SEs by the delta method.",
        "index": "Index of moderated mediation", "indirect": "Indirect effect",
        "low": "Low {m} (−1 SD)", "mean": "Mean {m}", "high": "High {m} (+1 SD)",
        "plot_x": "{focal} (latent, centred)", "plot_y": "Predicted {outcome} (latent)",
        "plot_caption": "Simple slopes of {focal} on {outcome} at low, mean and high {moderator}",
        "methods": {"lms": "LMS (Klein & Moosbrugger 2000), ML with numerical integration over the moderator",
                    "qml": "QML (Klein & Muthén 2007)",
                    "dblcent": "double-mean-centred product indicators (Lin et al. 2010), ML"},
        "verdict": "Hypothesis {h} ({expect} interaction): {verdict}.",
        "supported": "supported", "not_supported": "not supported",
        "expect": {"negative": "negative", "positive": "positive", "nonzero": "non-zero"},
        "md_plot": "The simple-slopes figure is in report.html.",
    },
    "zh": {
        "sec_moderation": "调节效应（潜变量交互）",
        "interaction": "交互项", "outcome": "结果变量", "method": "方法", "product": "乘积项",
        "simple_slopes": "{moderator} 取不同值时 {focal} 对 {outcome} 的简单斜率",
        "at": "{moderator} 取值", "moderator_value": "取值", "slope": "斜率",
        "jn": "Johnson–Neyman：{focal} 的斜率在 {moderator} 的区间 {lo} … {hi} {where}显著（{level}；潜变量尺度，"
              "均值 0，标准差 {sd}）。",
        "jn_none": "Johnson–Neyman：在 {moderator} 的取值范围内，{focal} 的斜率{where}显著。",
        "jn_outside": "之外", "jn_inside": "之内", "jn_everywhere": "处处", "jn_nowhere": "均不",
        "lrt": "似然比检验（含与不含乘积项的模型）：χ²({df}) = {chi2}，p {p}。",
        "imm": "条件间接效应与有调节的中介指数（Hayes 2015）",
        "imm_note": "{level} 蒙特卡洛置信区间（从估计值的抽样分布抽取 {draws} 次，种子 {seed}）；标准误采用 delta 法。",
        "index": "有调节的中介指数", "indirect": "间接效应",
        "low": "低{m}（−1 SD）", "mean": "{m}均值", "high": "高{m}（+1 SD）",
        "plot_x": "{focal}（潜变量，中心化）", "plot_y": "{outcome} 预测值（潜变量）",
        "plot_caption": "{moderator} 低、中、高水平下 {focal} 对 {outcome} 的简单斜率",
        "methods": {"lms": "LMS（Klein & Moosbrugger 2000），对调节变量数值积分的极大似然",
                    "qml": "QML（Klein & Muthén 2007）",
                    "dblcent": "双重均值中心化乘积指标（Lin et al. 2010），极大似然"},
        "verdict": "假设 {h}（{expect}交互效应）：{verdict}。",
        "supported": "成立", "not_supported": "不成立",
        "expect": {"negative": "负向", "positive": "正向", "nonzero": "非零"},
        "md_plot": "简单斜率图见 report.html。",
    },
}

COLORS = ("#2b6cb0", "#444444", "#c05621")
STYLES = ((0, (5, 3)), "-", (0, (1.5, 2)))


def _p_eq(p) -> str:
    s = fmt_p(p)
    return s if s.startswith("<") else f"= {s}"


def simple_slopes_svg(rec: dict, doc: dict, lang: str) -> str:
    """Three predicted lines (moderator at −1/0/+1 SD) as an inline-able SVG string."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    from .diagram import _inlineable
    ph = PHRASES[lang]
    focal, mod, out = (construct_label(doc, rec[k], lang) for k in ("focal", "moderator", "to"))
    plot = rec["plot"]
    rc = {"svg.fonttype": "none", "svg.hashsalt": "cluster-sem", "svg.id": None, "font.family": "sans-serif",
          "font.sans-serif": ["DejaVu Sans", "Arial", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei"],
          "path.simplify": False, "axes.unicode_minus": False}
    rc = {k: v for k, v in rc.items() if k in matplotlib.rcParams}
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CJK glyphs missing from DejaVu: the browser draws the text
        logger.setLevel(logging.ERROR)
        try:
            fig = Figure(figsize=(6.0, 3.8))
            FigureCanvasSVG(fig)
            ax = fig.add_axes([0.12, 0.15, 0.56, 0.75])
            names = (ph["low"].format(m=mod), ph["mean"].format(m=mod), ph["high"].format(m=mod))
            for line, name, color, style in zip(plot["lines"], names, COLORS, STYLES):
                ax.plot(plot["x"], line["y"], color=color, linestyle=style, lw=1.8)
                ax.text(1.03, line["y"][1], name, transform=ax.get_yaxis_transform(), color=color,
                        fontsize=8.5, va="center", parse_math=False)
            ax.set_xlabel(ph["plot_x"].format(focal=focal), parse_math=False, fontsize=9)
            ax.set_ylabel(ph["plot_y"].format(outcome=out), parse_math=False, fontsize=9)
            ax.tick_params(labelsize=8)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, transparent=True)
        finally:
            logger.setLevel(level)
    caption = ph["plot_caption"].format(focal=focal, outcome=out, moderator=mod)
    return _inlineable(buf.getvalue(), caption).replace('class="path-diagram"', 'class="slopes-plot"', 1)


def moderation_context(doc: dict, lang: str, *, with_svg: bool = True) -> dict:
    """``{"moderation": [...], "mt": phrases}`` for the templates; empty list without interactions."""
    ph = PHRASES.get(lang, PHRASES["en"])
    out = []
    for rec in doc.get("moderation") or []:
        focal, mod, to = (construct_label(doc, rec[k], lang) for k in ("focal", "moderator", "to"))
        level = f"{100 * rec.get('level', 0.95):g}%"
        slopes = [{"at": ph[{-1: "low", 0: "mean", 1: "high"}[s["at"]]].format(m=mod),
                   "value": fmt(s["moderator_value"]), "est": fmt(s["est"]), "se": fmt(s["se"]),
                   "ci": fmt_ci(s["ci_lower"], s["ci_upper"]), "p": fmt_p(s.get("pvalue")),
                   "stars": stars(s.get("pvalue"))} for s in rec["simple_slopes"]]
        jn, where = rec.get("johnson_neyman"), rec.get("johnson_neyman_significant")
        if jn:
            jn_text = ph["jn"].format(focal=focal, moderator=mod, level=level, lo=fmt(jn[0]), hi=fmt(jn[1]),
                                      where=ph.get(f"jn_{where}", ""), sd=fmt(rec.get("moderator_sd")))
        else:
            jn_text = ph["jn_none"].format(focal=focal, moderator=mod, where=ph.get(f"jn_{where}", ""))
        lrt = rec.get("lrt") or {}
        imm = []
        for e in rec.get("index_of_moderated_mediation") or []:
            rows = [{"what": ph[{-1: "low", 0: "mean", 1: "high"}[c["at"]]].format(m=mod), "est": fmt(c["est"]),
                     "se": fmt(c.get("se")), "ci": fmt_ci(c["ci_lower"], c["ci_upper"])}
                    for c in e["conditional_indirect"]]
            rows.append({"what": ph["index"], "est": fmt(e["est"]), "se": fmt(e.get("se")),
                         "ci": fmt_ci(e["ci_lower"], e["ci_upper"])})
            imm.append({"path": " → ".join(e["path"]), "name": e["indirect"], "rows": rows,
                        "note": ph["imm_note"].format(level=level, draws=e.get("draws"), seed=e.get("seed"))})
        hyp = next((h for h in doc.get("hypotheses") or [] if h.get("kind") == "interaction"
                    and h.get("name") == rec["name"] and h.get("to") == rec["to"]), None)
        verdict = ""
        if hyp and hyp.get("id"):
            verdict = ph["verdict"].format(h=hyp["id"], expect=ph["expect"].get(rec.get("expect"), ""),
                                           verdict=ph["supported"] if hyp.get("supported") else ph["not_supported"])
        entry = {"name": rec["name"], "term": f"{rec['to']} ~ {rec['focal']}:{rec['moderator']}",
                 "to": to, "focal": focal, "moderator": mod,
                 "method": ph["methods"].get(rec["method"], rec["method"]), "est": fmt(rec["est"]),
                 "se": fmt(rec["se"]), "std": fmt(rec.get("std")), "p": fmt_p(rec.get("pvalue")),
                 "stars": stars(rec.get("pvalue")), "hyp": rec.get("hypothesis") or "",
                 "hyp_text": hypothesis_text(doc, rec.get("hypothesis"), lang),
                 "slopes_title": ph["simple_slopes"].format(focal=focal, outcome=to, moderator=mod),
                 "slopes": slopes, "jn": jn_text, "verdict": verdict,
                 "lrt": ph["lrt"].format(df=lrt.get("df"), chi2=fmt(lrt.get("chi2"), 2), p=_p_eq(lrt.get("pvalue")))
                 if lrt else "", "imm": imm, "imm_title": ph["imm"]}
        if with_svg and rec.get("plot"):
            entry["svg"] = simple_slopes_svg(rec, doc, lang)
        out.append(entry)
    return {"moderation": out, "mt": ph}


__all__ = ["moderation_context", "simple_slopes_svg"]
