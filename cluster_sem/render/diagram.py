"""Path diagram of the structural model as an inline-able SVG string (matplotlib, text kept as text).

Layout: constructs are ellipses placed left to right by the path structure; a construct's layer is the length
of the longest chain of paths that leads to it from an exogenous construct (exogenous left, mediators in the
middle, outcomes right).  Arrows carry the standardized coefficient with significance stars; non-significant
paths are dashed.  Paths that skip a layer are bent around the constructs in between, and coefficient labels
are placed greedily where they do not overlap each other or a construct.

Reads the results document only (``doc["spec"]`` for the model, ``doc["structural_model"]["parameters"]``
for the estimates).  Output is deterministic: fixed ``svg.hashsalt``, no date metadata, no XML header.
"""
from __future__ import annotations

import io
import logging
import math
import re
import textwrap
import unicodedata
import warnings

from .labels import construct_label
from .numbers import stars

FONT_PT = 10.0            # construct label size
SMALL_PT = 7.5            # dimension list / coefficient size
LAYER_DX = 3.3            # inches between layers
ROW_DY = 1.25             # inches between constructs of a layer
COLORS = {"sig": "#1f3b63", "ns": "#8a8f98", "node": "#eef3fa", "node_edge": "#1f3b63", "text": "#111111",
          "label_bg": "#ffffff", "dim": "#555555"}


# --------------------------------------------------------------------------------------------- structure
def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _text_width_em(s: str) -> float:
    """Approximate width of ``s`` in em (CJK full width = 1, Latin ≈ .56)."""
    return sum(1.0 if _is_wide(c) else 0.3 if c in " .,;:'|il()" else 0.58 for c in s)


def _wrap(label: str, lang: str) -> list[str]:
    if any(_is_wide(c) for c in label):
        # CJK text: break every ~8 characters, never inside a Latin word
        lines, cur = [], ""
        for ch in label:
            cur += ch
            if _text_width_em(cur) >= 8 and ch not in "（(":
                lines.append(cur)
                cur = ""
        if cur:
            lines.append(cur)
        return lines[:3]
    return textwrap.wrap(label, 16, break_long_words=False)[:3] or [label]


def structure(doc: dict) -> dict:
    """Nodes, edges (with β, p) and layers of the structural model, from the document."""
    spec = doc.get("spec") or {}
    controls = set(spec.get("controls") or [])
    constructs = spec.get("constructs") or {}
    params = [p for p in (doc.get("structural_model") or {}).get("parameters") or [] if p.get("op") == "~"]
    pairs: list[tuple[str, str]] = []
    for path in spec.get("paths") or []:
        for x in path.get("from") or []:
            if x not in controls and (x, path["to"]) not in pairs:
                pairs.append((x, path["to"]))
    if not pairs:  # document without a spec: fall back on the regressions themselves
        pairs = [(p["rhs"], p["lhs"]) for p in params if p["rhs"] not in controls]
    est = {(p["rhs"], p["lhs"]): p for p in params}
    nodes: list[str] = []
    for a, b in pairs:
        for n in (a, b):
            if n not in nodes:
                nodes.append(n)
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in pairs:
        preds[b].append(a)

    layer: dict[str, int] = {}

    def depth(n: str, seen: frozenset) -> int:
        if n in layer:
            return layer[n]
        ps = [p for p in preds[n] if p not in seen]   # a cycle (allow_cycles) is cut where it closes
        d = 0 if not ps else 1 + max(depth(p, seen | {n}) for p in ps)
        layer[n] = d
        return d

    for n in nodes:
        depth(n, frozenset())
    edges = []
    for a, b in pairs:
        p = est.get((a, b), {})
        edges.append({"from": a, "to": b, "beta": p.get("std_all"), "pvalue": p.get("pvalue")})
    second = {n: list(c.get("dimensions") or []) for n, c in constructs.items() if c.get("dimensions")}
    return {"nodes": nodes, "edges": edges, "layer": layer, "second_order": second}


def _order_layers(st: dict) -> list[list[str]]:
    n_layers = 1 + max(st["layer"].values(), default=0)
    layers = [[n for n in st["nodes"] if st["layer"][n] == k] for k in range(n_layers)]
    pos = {n: i for i, n in enumerate(layers[0])}
    for k in range(1, n_layers):       # barycentre ordering against everything placed to the left
        def bary(n, k=k):
            ps = [pos[e["from"]] / max(1, len(layers[st["layer"][e["from"]]]) - 1 or 1)
                  for e in st["edges"] if e["to"] == n and e["from"] in pos]
            return sum(ps) / len(ps) if ps else 0.5
        layers[k] = sorted(layers[k], key=lambda n: (bary(n), st["nodes"].index(n)))
        pos.update({n: i for i, n in enumerate(layers[k])})
    return layers


# ---------------------------------------------------------------------------------------------- geometry
def _bezier(p0, c, p2, t):
    u = 1 - t
    return (u * u * p0[0] + 2 * u * t * c[0] + t * t * p2[0], u * u * p0[1] + 2 * u * t * c[1] + t * t * p2[1])


def _control(p0, p2, rad):
    """Control point of matplotlib's ``arc3,rad=...`` connection (equal-aspect axes)."""
    mx, my = (p0[0] + p2[0]) / 2, (p0[1] + p2[1]) / 2
    dx, dy = p2[0] - p0[0], p2[1] - p0[1]
    return (mx + rad * dy, my - rad * dx)


def _inside(pt, node, margin=1.0) -> bool:
    (cx, cy), (w, h) = node
    return ((pt[0] - cx) / (w / 2 * margin)) ** 2 + ((pt[1] - cy) / (h / 2 * margin)) ** 2 < 1


def _overlap(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _box_hits_node(box, node) -> bool:
    x0, y0, x1, y1 = box
    pts = [(x0, y0), (x1, y0), (x0, y1), (x1, y1), ((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1)]
    return any(_inside(p, node, 1.02) for p in pts)


# ------------------------------------------------------------------------------------------------ render
def _layout(doc: dict, lang: str):
    st = structure(doc)
    layers = _order_layers(st)
    em, small_em = FONT_PT / 72, SMALL_PT / 72
    nodes = {}
    for k, members in enumerate(layers):
        n = len(members)
        for i, name in enumerate(members):
            label = construct_label(doc, name, lang)
            lines = _wrap(label, lang)
            if label != name:
                lines = lines + [f"({name})"]
            tw = max(_text_width_em(s) for s in lines) * em
            th = len(lines) * em * 1.25
            dims = st["second_order"].get(name)
            if dims:
                th += small_em * 1.4
                tw = max(tw, _text_width_em(" · ".join(dims)) * small_em)
            w = max(1.7, tw * 1.3 + 0.35)
            h = max(0.62, th * 1.3 + 0.18)
            nodes[name] = {"xy": (k * LAYER_DX, ((n - 1) / 2 - i) * ROW_DY), "wh": (w, h), "lines": lines,
                           "dims": dims}
    # spread rows so tall ellipses do not touch
    for members in layers:
        for a, b in zip(members, members[1:]):
            gap = nodes[a]["xy"][1] - nodes[b]["xy"][1]
            need = (nodes[a]["wh"][1] + nodes[b]["wh"][1]) / 2 + 0.35
            if gap < need:
                shift = need - gap
                idx = members.index(b)
                for m in members[idx:]:
                    x, y = nodes[m]["xy"]
                    nodes[m]["xy"] = (x, y - shift)
        if members:  # re-centre the layer
            top, bot = nodes[members[0]]["xy"][1], nodes[members[-1]]["xy"][1]
            off = (top + bot) / 2
            for m in members:
                x, y = nodes[m]["xy"]
                nodes[m]["xy"] = (x, y - off)
    return st, nodes


def _route(st: dict, nodes: dict) -> list[dict]:
    """Curvature and label position of every arrow: bend around constructs and away from arrows already
    routed; put each coefficient label where it hits no construct and no other label."""
    geo = {name: (n["xy"], n["wh"]) for name, n in nodes.items()}
    drawn: list[tuple[float, float]] = []
    label_boxes: list[tuple] = []
    out = []
    order = sorted(st["edges"], key=lambda e: (st["layer"][e["to"]] - st["layer"][e["from"]],
                                               st["nodes"].index(e["from"]), st["nodes"].index(e["to"])))
    for e in order:
        p0, p2 = nodes[e["from"]]["xy"], nodes[e["to"]]["xy"]
        others = [geo[m] for m in nodes if m not in (e["from"], e["to"])]
        best = None
        for rad in (0.0, 0.12, -0.12, 0.2, -0.2, 0.28, -0.28, 0.36, -0.36, 0.45, -0.45):
            c = _control(p0, p2, rad)
            pts = [_bezier(p0, c, p2, t / 40) for t in range(1, 40)]
            hits = sum(_inside(p, g, 1.12) for p in pts for g in others)
            close = sum(1 for p in pts[8:-8] for q in drawn if abs(p[0] - q[0]) < 0.22 and abs(p[1] - q[1]) < 0.22)
            score = (hits, close > 0, close, abs(rad))
            if best is None or score < best[0]:
                best = (score, rad, pts)
        _, rad, pts = best
        drawn.extend(pts)
        item = {**e, "rad": rad, "label": None, "points": pts}
        if e["beta"] is not None:
            text = f"{e['beta']:.2f}".replace("-", "\u2212") + stars(e["pvalue"])
            bw = _text_width_em(text) * SMALL_PT / 72 + 0.1
            bh = SMALL_PT / 72 * 1.5
            c = _control(p0, p2, rad)
            chosen = None
            for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8):
                px, py = _bezier(p0, c, p2, t)
                box = (px - bw / 2, py - bh / 2, px + bw / 2, py + bh / 2)
                if any(_box_hits_node(box, g) for g in geo.values()) or any(_overlap(box, o) for o in label_boxes):
                    continue
                chosen = (px, py, box)
                break
            if chosen is None:
                px, py = _bezier(p0, c, p2, 0.5)
                chosen = (px, py, (px - bw / 2, py - bh / 2, px + bw / 2, py + bh / 2))
            label_boxes.append(chosen[2])
            item["label"] = (chosen[0], chosen[1], text, chosen[2])
        out.append(item)
    return out


def path_diagram_svg(doc: dict, lang: str = "en", *, title: str | None = None) -> str:
    """The structural model as an SVG string (no XML header, responsive width), or "" when there are no paths."""
    st, nodes = _layout(doc, lang)
    if not st["edges"]:
        return ""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyArrowPatch

    routes = _route(st, nodes)
    xs, ys = [], []
    for n in nodes.values():
        (cx, cy), (w, h) = n["xy"], n["wh"]
        xs += [cx - w / 2, cx + w / 2]
        ys += [cy - h / 2, cy + h / 2]
    for r in routes:
        xs += [p[0] for p in r["points"]]
        ys += [p[1] for p in r["points"]]
        if r["label"]:
            b = r["label"][3]
            xs += [b[0], b[2]]
            ys += [b[1], b[3]]
    m = 0.15
    x0, x1, y0, y1 = min(xs) - m, max(xs) + m, min(ys) - m, max(ys) + m
    rc = {"svg.fonttype": "none", "svg.hashsalt": "cluster-sem", "svg.id": None,
          "font.family": "sans-serif",
          "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Noto Sans CJK SC", "PingFang SC",
                              "Microsoft YaHei", "WenQuanYi Micro Hei"],
          "path.simplify": False}
    rc = {k: v for k, v in rc.items() if k in matplotlib.rcParams}
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.simplefilter("ignore")          # CJK glyphs missing from DejaVu: the browser draws them
        logger.setLevel(logging.ERROR)
        try:
            fig = Figure(figsize=(x1 - x0, y1 - y0))
            FigureCanvasSVG(fig)
            ax = fig.add_axes([0, 0, 1, 1])
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_aspect("equal")
            ax.axis("off")
            patches = {}
            for name, n in nodes.items():
                (cx, cy), (w, h) = n["xy"], n["wh"]
                e = Ellipse((cx, cy), w, h, facecolor=COLORS["node"], edgecolor=COLORS["node_edge"], lw=1.4,
                            zorder=3)
                ax.add_patch(e)
                patches[name] = e
                if n["dims"]:   # second-order construct: double outline + its dimensions in small type
                    ax.add_patch(Ellipse((cx, cy), w - 0.1, h - 0.1, facecolor="none",
                                         edgecolor=COLORS["node_edge"], lw=0.7, zorder=3))
                text_dy = (SMALL_PT / 72 * 0.8) if n["dims"] else 0
                ax.text(cx, cy + text_dy, "\n".join(n["lines"]), ha="center", va="center", fontsize=FONT_PT,
                        color=COLORS["text"], zorder=4, linespacing=1.15, parse_math=False)
                if n["dims"]:
                    ax.text(cx, cy + text_dy - (len(n["lines"]) * FONT_PT * 1.15 / 72) / 2 - SMALL_PT / 72 * 0.9,
                            " · ".join(n["dims"]), ha="center", va="center", fontsize=SMALL_PT,
                            color=COLORS["dim"], zorder=4, parse_math=False)
            for r in routes:
                sig = r["pvalue"] is not None and r["pvalue"] < 0.05
                color = COLORS["sig"] if sig else COLORS["ns"]
                ax.add_patch(FancyArrowPatch(nodes[r["from"]]["xy"], nodes[r["to"]]["xy"],
                                             connectionstyle=f"arc3,rad={r['rad']}", arrowstyle="-|>",
                                             mutation_scale=13, lw=1.5 if sig else 1.1, color=color,
                                             linestyle="-" if sig else (0, (4, 3)), patchA=patches[r["from"]],
                                             patchB=patches[r["to"]], shrinkA=1, shrinkB=2, zorder=2))
                if r["label"]:
                    px, py, text, _ = r["label"]
                    ax.text(px, py, text, ha="center", va="center", fontsize=SMALL_PT,
                            color=COLORS["text"] if sig else "#555555", zorder=5,
                            fontweight="bold" if sig else "normal", parse_math=False,
                            bbox={"boxstyle": "round,pad=0.15", "facecolor": COLORS["label_bg"],
                                  "edgecolor": "none", "alpha": 0.95})
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, transparent=True)
        finally:
            logger.setLevel(level)
    return _inlineable(buf.getvalue(), title)


def _inlineable(svg: str, title: str | None) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # inline SVG in HTML needs no namespace declarations (and the report must not contain any URL)
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    # responsive: drop the fixed size, keep the viewBox
    svg = re.sub(r'(<svg\b[^>]*?)\s+width="[^"]*"\s+height="[^"]*"', r"\1", svg, count=1)
    attrs = 'class="path-diagram" role="img"'
    if title:
        from html import escape
        attrs += f' aria-label="{escape(title)}"'
    svg = svg.replace("<svg ", f"<svg {attrs} ", 1)
    return svg.strip()


__all__ = ["path_diagram_svg", "structure"]
