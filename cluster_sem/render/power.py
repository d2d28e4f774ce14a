"""Power-study report (Markdown, HTML with an inline SVG power curve, terminal) from power.json alone.

The renderers read the power document and format it; the only arithmetic here is the view model's
look-ups (which n a hypothesis needs = the largest min n of its effects) and the rules of thumb, which are
simple multiplications stated beside the simulation's answer.  User text (labels, hypothesis wording) is
autoescaped in HTML (jinja2), escaped in Markdown and stripped of control characters on the terminal.
"""
from __future__ import annotations

from functools import lru_cache

from .i18n import catalogue, translator
from .labels import check_lang
from .markdown import md_escape
from .messages import translate
from .numbers import fmt, fmt_unit
from .plain_text import strip_controls, terminal_safe


def _label(doc: dict, name: str, lang: str) -> str:
    lab = (doc.get("labels") or {}).get(name) or {}
    return lab.get(lang) or lab.get("en") or name


def _needed(value, largest: int, t, smallest: int | None = None) -> str:
    """'beyond 300', '≤ 100' (the smallest n simulated already reaches the target) or the n."""
    if value is None:
        return t("beyond", n=largest)
    return t("at_most", n=value) if value == smallest else str(value)


def _axis(doc: dict) -> tuple[str, dict]:
    """What the study varies: "n" (firms, ``min_n``) or, for a clustered design, "clusters" (``min_clusters``)."""
    return ("clusters", doc["min_clusters"]) if doc.get("design") else ("n", doc["min_n"])


def _column(doc: dict, s: dict) -> str:
    """A size's column heading: 'n = 128', or '20 × 8' (clusters × firms per cluster)."""
    return f"{s['clusters']} × {s['cluster_size']}" if doc.get("design") else f"n = {s['n']}"


def _answer(doc: dict, t, overall: int | None, largest: int, target: str) -> str:
    """The recommendation: n firms, or K clusters × M firms per cluster."""
    design = doc.get("design")
    if design is None:
        return t("answer", n=overall, t=target) if overall is not None else t("answer_beyond", n=largest, t=target)
    m = design["cluster_size"]
    if overall is None:
        return t("answer_clusters_beyond", k=largest, m=m, n=largest * m, t=target)
    return t("answer_clusters", k=overall, m=m, n=overall * m, t=target)


def _design_text(doc: dict, t) -> str:
    """The clustered design in the settings paragraph ('' for independent firms)."""
    design = doc.get("design")
    if design is None:
        return ""
    icc = design["icc"]
    icc_text = ", ".join(f"{k} {fmt_unit(v, 2)}" for k, v in icc.items()) if isinstance(icc, dict) \
        else fmt_unit(icc, 2)
    return " " + t("design_text", ks=", ".join(map(str, design["clusters"])), m=design["cluster_size"], icc=icc_text)


def view(doc: dict, lang: str = "en") -> dict:
    """Everything the three renderers print, as strings, in display order."""
    check_lang(lang)
    t = translator(catalogue("power"), lang)
    axis, _ = _axis(doc)
    ns = [s[axis] for s in doc["sizes"]]
    largest = max(ns)
    target = fmt_unit(doc["target"], 2)
    by_h, overall = _by_hypothesis(doc, lang, t)
    q = doc["model"]["n_parameters"]
    min_key = "min_clusters" if axis == "clusters" else "min_n"
    m = doc["design"]["cluster_size"] if axis == "clusters" else None
    return {
        "t": t, "lang": lang, "title": f"{_label(doc, '__title__', lang)} — {t('title')}",
        "ns": ns, "columns": [_column(doc, s) for s in doc["sizes"]], "x_label": t(f"axis_{axis}", m=m),
        "min_header": t(min_key, t=target, m=m), "target": target, "per_effect": _per_effect(doc, lang, t),
        "by_hypothesis": by_h, "answer": _answer(doc, t, overall, largest, target),
        "rules": [[t("rule_200"), "200"], [t("rule_10", q=q), str(10 * q)], [t("rule_5"), str(5 * q)],
                  [t(min_key, t=target, m=m), _needed(overall, largest, t, min(ns))]],
        "settings": t("setting_text", reps=doc["settings"]["reps"], seed=doc["seed"], alpha=fmt_unit(doc["alpha"], 2),
                      target=target, ci=doc["ci_method"].replace("_", " "),
                      pv=translate(doc["settings"]["population_values"], lang))
        + " " + _estimation(doc, t, lang) + _design_text(doc, t),
        "rmsea": [[str(r["n"]), fmt(r["power"])] for r in doc["rmsea_power"]],
        "tables": [{**_size_table(doc, s, t), "no": 4 + i} for i, s in enumerate(doc["sizes"])],
        # APA numbers in display order: by hypothesis, rules, power by n, one per simulated n, RMSEA test
        "table_no": {"by_hypothesis": 1, "rules": 2, "power": 3, "rmsea": 4 + len(doc["sizes"])},
        "header": [t("effect"), t("kind"), t("pop"), t("power"), t("mc_se"), t("mean_est"), t("bias"),
                   t("rel_bias"), t("sd_est"), t("mean_se"), t("coverage")],
    }


def _per_effect(doc: dict, lang: str, t) -> list[dict]:
    """One summary per effect: what it is, its population value, power at each n, the n it needs."""
    sizes = doc["sizes"]
    axis, mins = _axis(doc)
    ns = [s[axis] for s in sizes]
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
                      else _needed(mins.get(e["name"]), max(ns), t, min(ns))),
        })
    return out


def _by_hypothesis(doc: dict, lang: str, t) -> tuple[list[dict], int | None]:
    """The n each hypothesis needs (the largest of its non-null effects' needs; none if one is never
    reached) and the n the whole study needs (None: beyond the largest n tried)."""
    axis, mins = _axis(doc)
    ns = [s[axis] for s in doc["sizes"]]
    groups: dict[str, list] = {}
    for e in doc["effects"]:
        if e.get("hypothesis") and not e.get("null"):
            groups.setdefault(e["hypothesis"], []).append(e["name"])
    by_h = []
    for h, names in groups.items():
        need = [mins.get(nm) for nm in names]
        value = None if any(v is None for v in need) else max(need)
        by_h.append({"hypothesis": h, "text": _label(doc, h, lang), "effects": ", ".join(names),
                     "needed": _needed(value, max(ns), t, min(ns))})
    all_need = [mins.get(nm) for names in groups.values() for nm in names]
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
    caption = t("per_design", k=s["clusters"], m=s["cluster_size"], n=s["n"]) if doc.get("design") \
        else t("per_n", n=s["n"])
    return {"n": s["n"], "caption": caption, "rows": rows, "counts": counts}


def _estimation(doc: dict, t, lang: str = "en") -> str:
    """Estimator, missing-data rule, how replications were fitted and how interactions were estimated."""
    st = doc["settings"]
    est, missing = st.get("estimator", "ML"), st.get("missing", "listwise")
    if doc.get("interactions_skipped"):
        how = f"{est} / {missing}" + (" / clusters" if doc.get("design") else "")
        imethod = t("imethod_skipped", how=how, names=", ".join(doc["interactions_skipped"]))
    elif doc.get("interaction_method") == "dblcent":
        imethod = t("imethod_dblcent", pop_n=f"{st.get('interaction_population_n') or 0:,}")
    else:
        imethod = t("imethod_none")
    return t("estimation_text", est=est, missing=missing, fitting=translate(st.get("fitting", "batched ML"), lang),
             imethod=imethod)


LABEL_GAP = 13.0   # px between label baselines at font-size 11


def spread_labels(ys: list[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions as near ``ys`` (the lines' end points) as possible, at least ``gap`` apart and within
    [low, high].  Why: several effects reach power 1.0 (or the same value) at the largest n, and their
    end labels were drawn on top of each other."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [min(max(ys[i], low), high) for i in order]
    for k in range(1, len(placed)):                       # push down past the previous label
        placed[k] = max(placed[k], placed[k - 1] + gap)
    if placed and placed[-1] > high:                       # then pull back up from the bottom edge
        placed[-1] = high
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    out = [0.0] * len(ys)
    for i, value in zip(order, placed):
        out[i] = value
    return out


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
    out.append(f'<text x="{(left + W - right) / 2:.1f}" y="{H - 6}" text-anchor="middle">{escape(v["x_label"])}</text>')
    out.append(f'<line x1="{left}" y1="{y(doc["target"]):.1f}" x2="{W - right}" y2="{y(doc["target"]):.1f}" '
               f'stroke="#999" stroke-dasharray="4 3"/>')
    palette = ["#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6c4f9c", "#00798c", "#8d6a9f", "#c05746", "#3d5a80"]
    shown = [e for e in v["per_effect"] if kind is None or e["kind"] == v["t"](kind)]
    lines = []
    for i, e in enumerate(shown):
        pts = [(x(n), y(p)) for n, p in zip(ns, e["raw_power"]) if p is not None]
        if pts:
            lines.append((palette[i % len(palette)], pts, e["name"]))
    label_y = spread_labels([pts[-1][1] for _, pts, _ in lines], LABEL_GAP, top, H - bottom)
    for (colour, pts, name), ly in zip(lines, label_y):
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="'
                   + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        end_x, end_y = pts[-1]
        if abs(ly - end_y) > 1:    # a label moved off its line's end gets a leader line back to it
            out.append(f'<line x1="{end_x + 1:.1f}" y1="{end_y:.1f}" x2="{end_x + 8:.1f}" y2="{ly:.1f}" '
                       f'stroke="{colour}" stroke-width="0.8"/>')
        out.append(f'<text x="{end_x + 10:.1f}" y="{ly + 4:.1f}" fill="{colour}">{escape(name)}</text>')
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

    def caption(key: str, title: str) -> list[str]:
        return [f"**{t('table')} {v['table_no'][key]}.** *{md_escape(title)}*", ""]

    out = [f"# {md_escape(v['title'])}", "", f"## {t('recommendation')}", "", md_escape(v["answer"]), ""]
    out += [f"### {t('by_hypothesis')}", ""] + caption("by_hypothesis", t("by_hypothesis"))
    out += table([t("hypothesis"), t("effects"), t("needed")],
                 [[h["hypothesis"], h["effects"], h["needed"]] for h in v["by_hypothesis"]]) + [""]
    out += [f"### {t('rules')}", ""] + caption("rules", t("rules")) + table([t("rule"), t("n")], v["rules"]) + [""]
    out += [f"## {t('power')}", ""] + caption("power", t("power_table"))
    out += table([t("effect"), t("hypothesis"), t("direction"), t("pop"), t("pop_std")]
                 + v["columns"] + [v["min_header"]],
                 [[e["name"], e["hypothesis"], e["direction"], e["population"], e["population_std"]] + e["power"]
                  + [e["min_n"]]
                  for e in v["per_effect"]]) + [""]
    for tab in v["tables"]:
        out += [f"### {md_escape(tab['caption'])}", "",
                f"**{t('table')} {tab['no']}.** *{md_escape(tab['caption'])}*", "", md_escape(tab["counts"]), ""]
        out += table(v["header"], tab["rows"]) + [""]
    out += [f"## {md_escape(t('rmsea'))}", ""] + caption("rmsea", t("rmsea_table"))
    out += table(["n", t("power")], v["rmsea"]) + [""]
    out += [f"## {t('settings')}", "", md_escape(v["settings"]), "", md_escape(t("notes")), ""]
    return strip_controls("\n".join(out))   # effect names and the title are user text


@lru_cache(maxsize=None)
def _template():
    from .html import environment
    return environment().get_template("power.html.j2")


def render_power_html(doc: dict, lang: str = "en") -> str:
    from markupsafe import Markup
    v = view(doc, lang)
    curves = [Markup(power_curve_svg(doc, lang, kind)) for kind in ("path", "indirect", "interaction")
              if any(e["kind"] == kind for e in doc["effects"])]
    return strip_controls(_template().render(v=v, t=v["t"], curves=curves, version=doc["meta"]["version"]))


def render_power_summary(doc: dict, lang: str = "en") -> str:
    v = view(doc, lang)
    t = v["t"]

    clean = terminal_safe        # escape sequences (with their payload), control and bidi characters removed

    header = [t("effect"), t("hypothesis"), t("pop")] + [c.replace(" ", "") for c in v["columns"]] \
        + [t("needed_clusters" if doc.get("design") else "needed")]
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
