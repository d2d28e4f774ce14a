"""Report view of the ``moderation`` block: tables (formatted numbers) and the simple-slopes plot (SVG).

Reads results.json only: the plotted lines come from ``moderation[].plot`` (computed in the model stage),
the renderer only draws them.  The SVG is written directly and keeps text as text, XML-escaped — construct
labels are user data, a ``$`` in them must stay a ``$``.
"""
from __future__ import annotations

import math
from typing import Mapping

from ..results.document import JohnsonNeymanRange, ModerationRecord, ResultsDocument
from ..results.effects import johnson_neyman_within
from .i18n import LANGS, catalogue, phrases
from .labels import phrase
from .numbers import fmt, fmt_ci, fmt_p, p_eq, stars

COLORS = ("#2b6cb0", "#444444", "#c05621")
DASHES = ("9,5.4", None, "2.7,3.6")     # matplotlib's (5, 3), solid and (1.5, 2) at 1.8 pt, as before
WIDTH, HEIGHT = 432.0, 273.6           # pt: the former 6.0 × 3.8 in figure
AXES = (51.84, 27.36, 241.92, 205.2)   # left, top, width, height in pt (the former axes [.12, .15, .56, .75])


def _ticks(lo: float, hi: float) -> tuple[float, float, list[float]]:
    """Axis limits (5 % margins, as matplotlib's) and 'nice' tick values (steps 1, 2, 2.5, 5 × 10^k, ≤ 7)."""
    span = (hi - lo) or 1.0
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    raw = (hi - lo) / 6
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = [round(k * step, 10) for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]
    return lo, hi, ticks


def _tick_labels(ticks: list[float]) -> list[str]:
    """Tick labels with the decimals the step needs, all alike ("-0.5", "0.0", "0.5", as before)."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    digits = next(d for d in range(7) if abs(round(step, d) - step) < 1e-9 * max(1.0, abs(step)))
    return [f"{v + 0.0:.{digits}f}" for v in ticks]


def simple_slopes_svg(rec: ModerationRecord | Mapping, doc, lang: str) -> str:
    """Three predicted lines (moderator at −1/0/+1 SD) as an inline-able SVG string.

    Written directly as SVG (no matplotlib, whose import alone cost ~1 s of a fit with interactions): axes
    with ticks, the three lines, their names right of the axes, text kept as text and XML-escaped (construct
    labels are user data — a ``$`` stays a ``$``)."""
    from html import escape

    from .diagram import FONT_FAMILY, _f
    rec = rec if isinstance(rec, ModerationRecord) else ModerationRecord.of(rec)
    spec = ResultsDocument.read(doc).spec
    ph = phrases(catalogue("moderation"), lang)
    focal, mod, out = (spec.construct_label(name, lang) for name in (rec.focal, rec.moderator, rec.to))
    plot = rec.plot
    left, top, w, h = AXES
    x_lo, x_hi, x_ticks = _ticks(min(plot.x), max(plot.x))
    ys = [y for line in plot.lines for y in line.y]
    y_lo, y_hi, y_ticks = _ticks(min(ys), max(ys))

    def X(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * w

    def Y(v: float) -> float:
        return top + h - (v - y_lo) / (y_hi - y_lo) * h

    def text(x, y, s, size, color="#111111", anchor="middle", extra=""):
        return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" fill="{color}" text-anchor="{anchor}" '
                f'dominant-baseline="central"{extra}>{escape(s)}</text>')

    caption = ph["plot_caption"].format(focal=focal, outcome=out, moderator=mod)
    parts = [f'<svg class="slopes-plot" role="img" aria-label="{escape(caption)}" '
             f'viewBox="0 0 {_f(WIDTH)} {_f(HEIGHT)}" version="1.1" font-family="{escape(FONT_FAMILY)}">',
             f'<path d="M {_f(left)} {_f(top)} V {_f(top + h)} H {_f(left + w)}" fill="none" stroke="#000000" '
             'stroke-width="0.8"/>']
    for v, label in zip(x_ticks, _tick_labels(x_ticks)):
        parts.append(f'<path d="M {_f(X(v))} {_f(top + h)} v 3.5" stroke="#000000" stroke-width="0.8"/>')
        parts.append(text(X(v), top + h + 10, label, 8))
    for v, label in zip(y_ticks, _tick_labels(y_ticks)):
        parts.append(f'<path d="M {_f(left)} {_f(Y(v))} h -3.5" stroke="#000000" stroke-width="0.8"/>')
        parts.append(text(left - 6, Y(v), label, 8, anchor="end"))
    names = (ph["low"].format(m=mod), ph["mean"].format(m=mod), ph["high"].format(m=mod))
    for line, name, color, dash in zip(plot.lines, names, COLORS, DASHES):
        pts = " L ".join(f"{_f(X(x))} {_f(Y(y))}" for x, y in zip(plot.x, line.y))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<path d="M {pts}" fill="none" stroke="{color}" stroke-width="1.8"{dashes}/>')
        parts.append(text(left + 1.03 * w, Y(line.y[1]), name, 8.5, color, anchor="start"))
    parts.append(text(left + w / 2, top + h + 24, ph["plot_x"].format(focal=focal), 9))
    ylab_x = left - 36
    parts.append(text(ylab_x, top + h / 2, ph["plot_y"].format(outcome=out), 9,
                      extra=f' transform="rotate(-90 {_f(ylab_x)} {_f(top + h / 2)})"'))
    parts.append("</svg>")
    return "\n".join(parts)


_AT = {-1: "low", 0: "mean", 1: "high"}


def _slope_rows(rec: ModerationRecord, ph: dict, mod: str) -> list[dict]:
    return [{"at": ph[_AT[s.at]].format(m=mod),
             "value": fmt(s.moderator_value), "est": fmt(s.est), "se": fmt(s.se),
             "ci": fmt_ci(s.ci_lower, s.ci_upper), "p": fmt_p(s.pvalue),
             "stars": stars(s.pvalue)} for s in rec.simple_slopes]


def _jn_range(rec: ModerationRecord) -> JohnsonNeymanRange | None:
    """The stored Johnson–Neyman result within ±3 SD; for a document written before it was stored, the same
    classification (``results.effects.johnson_neyman_within``) of its stored bounds."""
    if rec.johnson_neyman_range is not None:
        return rec.johnson_neyman_range
    if rec.moderator_sd is None:
        return None
    jn = list(rec.johnson_neyman) if rec.johnson_neyman else None
    return JohnsonNeymanRange.of(johnson_neyman_within(jn, rec.johnson_neyman_significant, rec.moderator_sd))


def _jn_text(rec: ModerationRecord, ph: dict, focal: str, mod: str, level: str) -> str:
    """Johnson–Neyman in words: only bounds within ±3 SD of the moderator, never an extrapolated one."""
    within = _jn_range(rec)
    if within is None:
        where = ph.get(f"jn_{rec.johnson_neyman_significant}", "")
        return ph["jn_none"].format(focal=focal, moderator=mod, where=where)
    lo, hi = within.range
    kw = {"focal": focal, "moderator": mod, "level": level, "k": f"{within.k_sd:g}", "lo": fmt(lo), "hi": fmt(hi)}
    if not within.bounds:
        return ph["jn_range_everywhere" if within.significant else "jn_range_nowhere"].format(**kw)
    regions = ph["jn_and"].join(f"{fmt(a)} … {fmt(b)}" for a, b in within.significant)
    return ph["jn_range"].format(**kw, sd=fmt(rec.moderator_sd), regions=regions,
                                 bounds=ph["jn_and"].join(fmt(b) for b in within.bounds))


def johnson_neyman_sentence(rec: ModerationRecord, lang: str = "en") -> str:
    """The Johnson–Neyman sentence with construct ids (the terminal summary's wording)."""
    ph = phrases(catalogue("moderation"), lang if lang in LANGS else "en")
    return _jn_text(rec, ph, rec.focal, rec.moderator, f"{100 * rec.level:g}%")


def _imm_differs(e, rec: ModerationRecord, r: ResultsDocument, ph: dict, lang: str) -> str:
    """Why the conditional indirect effects' CIs may tell otherwise than the unconditional ones (one sentence),
    or "" when both use the same method."""
    method = next((x.ci_method for x in r.indirect_effects if x.name == e.indirect), None)
    if method is None or method == e.ci_method:
        return ""
    hint = ph["imm_differs_hint"] if rec.method == "lms" and e.ci_method == "monte_carlo" and r.bootstrap else ""
    return ph["imm_differs"].format(imm_method=phrase(f"method_{e.ci_method}", lang),
                                    method=phrase(f"method_{method}", lang), hint=hint)


def _imm_tables(rec: ModerationRecord, ph: dict, mod: str, level: str, r: ResultsDocument, lang: str) -> list[dict]:
    imm = []
    for e in rec.index_of_moderated_mediation:
        rows = [{"what": ph[_AT[c.at]].format(m=mod), "est": fmt(c.est),
                 "se": fmt(c.se), "ci": fmt_ci(c.ci_lower, c.ci_upper)}
                for c in e.conditional_indirect]
        rows.append({"what": ph["index"], "est": fmt(e.est), "se": fmt(e.se),
                     "ci": fmt_ci(e.ci_lower, e.ci_upper)})
        note = ph["imm_note_boot" if e.ci_method == "percentile" else "imm_note"]
        differs = _imm_differs(e, rec, r, ph, lang)
        imm.append({"path": " → ".join(e.path), "name": e.indirect, "rows": rows,
                    "note": note.format(level=level, draws=e.draws, seed=e.seed) + (" " + differs if differs else "")})
    return imm


def _verdict(r: ResultsDocument, rec: ModerationRecord, ph: dict) -> str:
    hyp = next((h for h in r.hypotheses if h.kind == "interaction"
                and h.name == rec.name and h.to == rec.to), None)
    if hyp and hyp.id:
        return ph["verdict"].format(h=hyp.id, expect=ph["expect"].get(rec.expect, ""),
                                    verdict=ph["supported"] if hyp.supported else ph["not_supported"])
    return ""


def moderation_context(doc, lang: str, *, with_svg: bool = True) -> dict:
    """``{"moderation": [...], "mt": phrases}`` for the templates; empty list without interactions.

    ``doc``: the stored document (dict) or its ``ResultsDocument``; the tables read the typed records."""
    r = ResultsDocument.read(doc)
    ph = phrases(catalogue("moderation"), lang if lang in LANGS else "en")
    out = []
    for rec in r.moderation:
        focal, mod, to = (r.spec.construct_label(name, lang) for name in (rec.focal, rec.moderator, rec.to))
        level = f"{100 * rec.level:g}%"
        lrt = rec.lrt
        entry = {"name": rec.name, "term": f"{rec.to} ~ {rec.focal}:{rec.moderator}",
                 "to": to, "focal": focal, "moderator": mod,
                 "method": ph["methods"].get(rec.method, rec.method), "est": fmt(rec.est),
                 "se": fmt(rec.se), "std": fmt(rec.std), "p": fmt_p(rec.pvalue),
                 "stars": stars(rec.pvalue), "hyp": rec.hypothesis or "",
                 "hyp_text": r.spec.hypothesis_text(rec.hypothesis, lang),
                 "slopes_title": ph["simple_slopes"].format(focal=focal, outcome=to, moderator=mod),
                 "slopes": _slope_rows(rec, ph, mod), "jn": _jn_text(rec, ph, focal, mod, level),
                 "verdict": _verdict(r, rec, ph),
                 "lrt": ph["lrt"].format(df=lrt.df, chi2=fmt(lrt.chi2, 2), p=p_eq(lrt.pvalue))
                 if lrt else "", "imm": _imm_tables(rec, ph, mod, level, r, lang), "imm_title": ph["imm"]}
        if with_svg and rec.plot:
            entry["svg"] = simple_slopes_svg(rec, r, lang)
        out.append(entry)
    return {"moderation": out, "mt": ph}


__all__ = ["moderation_context", "simple_slopes_svg", "johnson_neyman_sentence"]
