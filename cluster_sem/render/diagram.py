"""Path diagram of the structural model as an inline-able SVG string, written directly (text kept as text).

Layout: constructs are ellipses placed left to right by the path structure; a construct's layer is the length
of the longest chain of paths that leads to it from an exogenous construct (exogenous left, mediators in the
middle, outcomes right).  Arrows carry the standardized coefficient with significance stars; non-significant
paths are dashed.  Paths that skip a layer are bent around the constructs in between, and coefficient labels
are placed greedily where they do not overlap each other or a construct.

Reads the typed results document only (``ResultsDocument.spec``: the paths as written, controls, labels and
dimensions; ``ResultsDocument.structural``: the estimates).  Output is deterministic (no ids from hashes, no date metadata, no XML header).  Why no
matplotlib: importing it and drawing one figure cost ~1.8 s of every ``fit``; the drawing is a handful of
ellipses, quadratic Bézier arrows and text, which SVG expresses directly with the same look.
"""
from __future__ import annotations

import math
import textwrap
import unicodedata
from html import escape
from typing import Mapping

import numpy as np

from ..results.document import ResultsDocument
from .numbers import fmt_fixed, fmt_unit, stars

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


def structure(doc: Mapping | ResultsDocument) -> dict:
    """Nodes, edges (with β, p) and layers of the structural model, from the document."""
    r = ResultsDocument.read(doc)
    controls = set(r.spec.controls)
    params = r.structural.rows("~")
    pairs: list[tuple[str, str]] = []
    for path in r.spec.paths:
        for x in path.sources:
            if x not in controls and (x, path.to) not in pairs:
                pairs.append((x, path.to))
    if not pairs:  # document without a spec: fall back on the regressions themselves
        pairs = [(p.rhs, p.lhs) for p in params if p.rhs not in controls]
    est = {(p.rhs, p.lhs): p for p in params}
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
        p = est.get((a, b))
        edges.append({"from": a, "to": b, "beta": p.std_all if p else None, "pvalue": p.pvalue if p else None})
    second = {n: list(c.dimensions) for n, c in r.spec.constructs.items() if c.dimensions}
    return {"nodes": nodes, "edges": edges, "layer": layer, "second_order": second,
            "r2": {n: r.r_squared[n] for n in nodes if r.r_squared.get(n) is not None},
            "covariances": _residual_covariances(r, nodes, preds),
            "interactions": [{"name": m.name, "focal": m.focal, "moderator": m.moderator, "to": m.to,
                              "std": m.std, "pvalue": m.pvalue} for m in r.moderation
                             if {m.focal, m.moderator, m.to} <= set(nodes) and (m.focal, m.to) in pairs]}


def _residual_covariances(r: ResultsDocument, nodes: list[str], preds: dict) -> list[dict]:
    """``~~`` rows between two endogenous constructs of the diagram (their residuals' correlation, std.all)."""
    endogenous = {n for n in nodes if preds[n]}
    return [{"a": p.lhs, "b": p.rhs, "r": p.std_all, "pvalue": p.pvalue} for p in r.structural.rows("~~")
            if p.lhs != p.rhs and p.lhs in endogenous and p.rhs in endogenous and p.std_all is not None]


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
def _layout(r: ResultsDocument, lang: str):
    st = structure(r)
    layers = _order_layers(st)
    em, small_em = FONT_PT / 72, SMALL_PT / 72
    nodes = {}
    for k, members in enumerate(layers):
        n = len(members)
        for i, name in enumerate(members):
            label = r.spec.construct_label(name, lang)
            lines = _wrap(label, lang)
            if label != name:
                lines = lines + [f"({name})"]
            tw = max(_text_width_em(s) for s in lines) * em
            th = len(lines) * em * 1.25
            dims = st["second_order"].get(name)
            small = []     # small-type lines under the label: dimensions, then R²
            if dims:
                small.append((" · ".join(dims), COLORS["dim"]))
            if name in st["r2"]:
                small.append((f"R² = {fmt_unit(st['r2'][name])}", COLORS["text"]))
            for text, _ in small:
                th += small_em * 1.4
                tw = max(tw, _text_width_em(text) * small_em)
            w = max(1.7, tw * 1.3 + 0.35)
            h = max(0.62, th * 1.3 + 0.18)
            nodes[name] = {"xy": (k * LAYER_DX, ((n - 1) / 2 - i) * ROW_DY), "wh": (w, h), "lines": lines,
                           "dims": dims, "small": small}
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
        centre = np.array([g[0] for g in others]).reshape(-1, 2)
        half = 1.12 * np.array([g[1] for g in others]).reshape(-1, 2) / 2
        done = np.array(drawn).reshape(-1, 2)
        best = None
        for rad in (0.0, 0.12, -0.12, 0.2, -0.2, 0.28, -0.28, 0.36, -0.36, 0.45, -0.45):
            c = _control(p0, p2, rad)
            pts = [_bezier(p0, c, p2, t / 40) for t in range(1, 40)]
            # the same counts as ``_inside`` per point and construct / per point pair, vectorised (numpy)
            P = np.array(pts)
            hits = int((((P[:, None, :] - centre[None]) / half[None]) ** 2).sum(axis=2).__lt__(1).sum())
            near = np.abs(P[8:-8, None, :] - done[None]) < 0.22
            close = int((near[..., 0] & near[..., 1]).sum())
            score = (hits, close > 0, close, abs(rad))
            if best is None or score < best[0]:
                best = (score, rad, pts)
        _, rad, pts = best
        drawn.extend(pts)
        item = {**e, "rad": rad, "label": None, "points": pts}
        if e["beta"] is not None:
            c = _control(p0, p2, rad)
            item["label"] = _label_at([_bezier(p0, c, p2, t) for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2,
                                                                           0.8)],
                                      _coefficient(e["beta"], e["pvalue"]), label_boxes, geo)
        out.append(item)
    return out


def _coefficient(value: float, pvalue: float | None) -> str:
    """A standardized coefficient as printed on the diagram: 2 decimals, typographic minus, never −0.00."""
    return fmt_fixed(value, 2).replace("-", "\u2212") + stars(pvalue)


def _label_at(pts: list, text: str, boxes: list, geo: dict) -> tuple:
    """(x, y, text, box) of a label placed at the first of ``pts`` where it hits no construct and no box."""
    bw = _text_width_em(text) * SMALL_PT / 72 + 0.1
    bh = SMALL_PT / 72 * 1.5
    for px, py in pts:
        box = (px - bw / 2, py - bh / 2, px + bw / 2, py + bh / 2)
        if not any(_box_hits_node(box, g) for g in geo.values()) and not any(_overlap(box, o) for o in boxes):
            break
    else:
        px, py = pts[0]
        box = (px - bw / 2, py - bh / 2, px + bw / 2, py + bh / 2)
    boxes.append(box)
    return (px, py, text, box)


def _outline_point(node: dict, direction: np.ndarray) -> tuple[float, float]:
    """Where the ray from the ellipse's centre in ``direction`` meets its outline."""
    (cx, cy), (w, h) = node["xy"], node["wh"]
    dx, dy = direction
    scale = 1.0 / math.hypot(dx / (w / 2), dy / (h / 2))
    return (cx + scale * dx, cy + scale * dy)


def _covariance_routes(st: dict, nodes: dict, boxes: list) -> list[dict]:
    """Residual covariances: curved double-headed arrows from outline to outline on the side facing away
    from the diagram's centre (outcomes sit on the right: the arc bulges right), labelled with the residual
    correlation (std.all)."""
    if not st["covariances"]:
        return []
    geo = {name: (n["xy"], n["wh"]) for name, n in nodes.items()}
    centre = np.mean([n["xy"] for n in nodes.values()], axis=0)
    out = []
    for cov in st["covariances"]:
        a, b = nodes[cov["a"]], nodes[cov["b"]]
        p0, p2 = np.array(a["xy"]), np.array(b["xy"])
        u = (p2 - p0) / (np.linalg.norm(p2 - p0) or 1.0)
        normal = max((np.array([u[1], -u[0]]), np.array([-u[1], u[0]])),
                     key=lambda v: (float(v @ ((p0 + p2) / 2 - centre)), float(v[0])))
        start = _outline_point(a, normal + 0.6 * u)
        end = _outline_point(b, normal - 0.6 * u)
        ctrl = tuple((np.array(start) + np.array(end)) / 2 + normal * 0.45 * math.dist(start, end))
        pts = [_bezier(start, ctrl, end, t / 40) for t in range(1, 40)]
        label = _label_at([_bezier(start, ctrl, end, t) for t in (0.5, 0.42, 0.58, 0.34, 0.66)],
                          _coefficient(cov["r"], cov["pvalue"]), boxes, geo)
        out.append({"from": cov["a"], "to": cov["b"], "ends": (start, ctrl, end), "pvalue": cov["pvalue"],
                    "points": pts, "label": label})
    return out


def _covariance_svg(canvas: _Canvas, r: dict, k: int) -> str:
    """A residual covariance: one quadratic arc with a "-|>" head at each end; dashed when not significant."""
    start, ctrl, end = (canvas(p) for p in r["ends"])
    color, lw, dash = _stroke(r["pvalue"])
    line = (f'<path d="M {_f(start[0])} {_f(start[1])} Q {_f(ctrl[0])} {_f(ctrl[1])} {_f(end[0])} {_f(end[1])}" '
            f'fill="none"{dash} stroke="{color}" stroke-width="{_f(lw)}" stroke-linecap="round"/>')
    tips = "".join(_tip_svg(_head(tip, ctrl), color, lw) for tip in (start, end))
    return f'<g id="patch_{k}" class="residual-covariance">{line}{tips}</g>'


def _interaction_routes(st: dict, nodes: dict, routes: list[dict], covariances: list[dict]) -> list[dict]:
    """Latent interactions: an arrow from the moderator to the focal → outcome path (where no coefficient
    label sits), labelled with the product term's standardized coefficient."""
    geo = {name: (n["xy"], n["wh"]) for name, n in nodes.items()}
    boxes = [r["label"][3] for r in routes + covariances if r["label"]]
    out = []
    for it in st["interactions"]:
        path = next(r for r in routes if r["from"] == it["focal"] and r["to"] == it["to"])
        p0, p2 = nodes[it["focal"]]["xy"], nodes[it["to"]]["xy"]
        c = _control(p0, p2, path["rad"])
        ta = _clip_t(p0, c, p2, geo[it["focal"]], leaving=True)     # the visible part of the path
        tb = _clip_t(p0, c, p2, geo[it["to"]], leaving=False)
        label_at = path["label"][:2] if path["label"] else (math.inf, math.inf)
        target = max((_bezier(p0, c, p2, ta + f * (tb - ta)) for f in (0.3, 0.7, 0.25, 0.75)),
                     key=lambda q: (not any(_inside(q, g) for g in geo.values()), math.dist(q, label_at)))
        start = nodes[it["moderator"]]["xy"]
        mid = ((start[0] + target[0]) / 2, (start[1] + target[1]) / 2)
        pts = [(start[0] + (target[0] - start[0]) * t / 40, start[1] + (target[1] - start[1]) * t / 40)
               for t in range(1, 40)]
        text = f"{it['focal']}×{it['moderator']} " + (_coefficient(it["std"], it["pvalue"]) if it["std"] is not None
                                                       else "")
        label = _label_at([mid] + [pts[k] for k in (24, 14, 28, 10)], text.strip(), boxes, geo)
        out.append({"from": it["moderator"], "target": target, "pvalue": it["pvalue"], "points": pts,
                    "label": label})
    return out


def _moderation_svg(canvas: _Canvas, r: dict, nodes: dict, k: int) -> str:
    """The moderator's arrow: straight, from its outline to a point on the moderated path, "-|>" head."""
    a = nodes[r["from"]]
    p0, p2 = a["xy"], r["target"]
    c = ((p0[0] + p2[0]) / 2, (p0[1] + p2[1]) / 2)
    ta = _clip_t(p0, c, p2, (a["xy"], a["wh"]), leaving=True)
    P0, C, P2 = canvas(p0), canvas(c), canvas(p2)
    start = _bezier(P0, C, P2, ta)
    color, lw, dash = _stroke(r["pvalue"])
    line = (f'<path d="M {_f(start[0])} {_f(start[1])} L {_f(P2[0])} {_f(P2[1])}" fill="none"{dash} '
            f'stroke="{color}" stroke-width="{_f(lw)}" stroke-linecap="round"/>')
    return f'<g id="patch_{k}" class="interaction">{line}{_tip_svg(_head(P2, start), color, lw)}</g>'


def diagram_legend(doc: Mapping | ResultsDocument, lang: str = "en") -> str:
    """The sentences of the figure note that explain what this diagram draws beyond paths (en/zh)."""
    from .i18n import catalogue, translator
    st = structure(doc)
    t = translator(catalogue("structural"), lang)
    keys = [key for key, present in (("diagram_r2", st["r2"]), ("diagram_covariance", st["covariances"]),
                                     ("diagram_interaction", st["interactions"])) if present]
    return " ".join(t(key) for key in keys)


def path_diagram_svg(doc: Mapping | ResultsDocument, lang: str = "en", *, title: str | None = None) -> str:
    """The structural model as an SVG string (no XML header, responsive width), or "" when there are no paths.

    Written directly as SVG elements (no matplotlib: importing and driving it cost ~1.8 s of every fit):
    1 unit of the viewBox = 1 pt, geometry from ``_layout``/``_route`` in inches, text kept as text and
    XML-escaped (labels are user data), output deterministic."""
    st, nodes = _layout(ResultsDocument.read(doc), lang)
    if not st["edges"]:
        return ""
    routes = _route(st, nodes)
    covariances = _covariance_routes(st, nodes, [r["label"][3] for r in routes if r["label"]])
    moderations = _interaction_routes(st, nodes, routes, covariances)
    xs, ys = [], []
    for n in nodes.values():
        (cx, cy), (w, h) = n["xy"], n["wh"]
        xs += [cx - w / 2, cx + w / 2]
        ys += [cy - h / 2, cy + h / 2]
    for r in routes + covariances + moderations:
        xs += [p[0] for p in r["points"]]
        ys += [p[1] for p in r["points"]]
        if r["label"]:
            b = r["label"][3]
            xs += [b[0], b[2]]
            ys += [b[1], b[3]]
    m = 0.15
    canvas = _Canvas(min(xs) - m, max(ys) + m)
    width, height = (max(xs) - min(xs) + 2 * m) * PT, (max(ys) - min(ys) + 2 * m) * PT
    out = [f'<svg class="path-diagram" role="img"{_aria(title)} viewBox="0 0 {_f(width)} {_f(height)}" '
           f'version="1.1">',
           f'<style>.path-diagram text{{font-family:{FONT_FAMILY};text-anchor:middle;'
           'dominant-baseline:central}</style>']
    for k, r in enumerate(routes, start=1):
        out.append(_arrow_svg(canvas, r, nodes, k))
    for k, r in enumerate(covariances, start=len(routes) + 1):
        out.append(_covariance_svg(canvas, r, k))
    for k, r in enumerate(moderations, start=len(routes) + len(covariances) + 1):
        out.append(_moderation_svg(canvas, r, nodes, k))
    for name, n in nodes.items():
        out.append(_node_svg(canvas, n))
    for r in routes + covariances + moderations:
        if r["label"]:
            out.append(_label_svg(canvas, r))
    out.append("</svg>")
    return "\n".join(out)


PT = 72.0                 # points per inch: the viewBox unit
FONT_FAMILY = ("'DejaVu Sans',Arial,Helvetica,'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',"
               "'WenQuanYi Micro Hei',sans-serif")
HEAD_LENGTH, HEAD_HALF_WIDTH = 5.2, 2.6     # pt: matplotlib's "-|>" at mutation_scale 13 (the former look)


def _f(x: float) -> str:
    """Number for an SVG attribute: 2 decimals, no trailing zeros, never "-0"."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _aria(title: str | None) -> str:
    return f' aria-label="{escape(title)}"' if title else ""


class _Canvas:
    """Inches (y up, as the layout) → viewBox points (y down)."""

    def __init__(self, x0: float, y1: float):
        self.x0, self.y1 = x0, y1

    def __call__(self, p) -> tuple[float, float]:
        return (p[0] - self.x0) * PT, (self.y1 - p[1]) * PT


def _text_svg(x: float, y: float, lines: list[str], size: float, color: str, *, bold: bool = False) -> str:
    """Centred lines of text (line height 1.15 em, as before), escaped."""
    step = size * 1.15
    top = y - step * (len(lines) - 1) / 2
    weight = ' font-weight="bold"' if bold else ""
    spans = "".join(f'<tspan x="{_f(x)}" y="{_f(top + i * step)}">{escape(s)}</tspan>' for i, s in enumerate(lines))
    return f'<text font-size="{_f(size)}" fill="{color}"{weight}>{spans}</text>'


def _node_svg(canvas: _Canvas, n: dict) -> str:
    (cx, cy), (w, h) = n["xy"], n["wh"]
    x, y = canvas((cx, cy))
    parts = [f'<g class="construct"><ellipse cx="{_f(x)}" cy="{_f(y)}" rx="{_f(w / 2 * PT)}" ry="{_f(h / 2 * PT)}" '
             f'fill="{COLORS["node"]}" stroke="{COLORS["node_edge"]}" stroke-width="1.4"/>']
    if n["dims"]:   # second-order construct: double outline + its dimensions in small type
        parts.append(f'<ellipse cx="{_f(x)}" cy="{_f(y)}" rx="{_f((w - 0.1) / 2 * PT)}" '
                     f'ry="{_f((h - 0.1) / 2 * PT)}" fill="none" stroke="{COLORS["node_edge"]}" stroke-width="0.7"/>')
    small = n.get("small", ())
    text_dy = SMALL_PT * 0.8 * len(small)
    parts.append(_text_svg(x, y - text_dy, n["lines"], FONT_PT, COLORS["text"]))
    first_y = y - text_dy + len(n["lines"]) * FONT_PT * 1.15 / 2 + SMALL_PT * 0.9
    for i, (text, color) in enumerate(small):
        parts.append(_text_svg(x, first_y + i * SMALL_PT * 1.3, [text], SMALL_PT, color))
    parts.append("</g>")
    return "".join(parts)


def _clip_t(p0, c, p2, node, leaving: bool) -> float:
    """Curve parameter where the arrow leaves (``leaving``) or enters the ellipse ``node`` (bisection)."""
    lo, hi = (0.0, 1.0)
    for _ in range(40):
        mid = (lo + hi) / 2
        inside = _inside(_bezier(p0, c, p2, mid), node)
        if inside == leaving:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _arrow_svg(canvas: _Canvas, r: dict, nodes: dict, k: int) -> str:
    """A quadratic Bézier from construct to construct (clipped at both outlines, as matplotlib's arc3
    connection with patchA/patchB) ending in a filled "-|>" head; dashed when not significant."""
    a, b = nodes[r["from"]], nodes[r["to"]]
    p0, p2 = a["xy"], b["xy"]
    c = _control(p0, p2, r["rad"])
    ta = _clip_t(p0, c, p2, (a["xy"], a["wh"]), leaving=True)
    tb = _clip_t(p0, c, p2, (b["xy"], b["wh"]), leaving=False)
    P0, C, P2 = canvas(p0), canvas(c), canvas(p2)
    speed = max(1e-9, 2 * math.dist(P0, C) + 2 * math.dist(C, P2)) / 2   # rough |dB/dt| in pt
    ta, tb = ta + 1.0 / speed, tb - 2.0 / speed                          # shrinkA = 1 pt, shrinkB = 2 pt
    start, end = _bezier(P0, C, P2, ta), _bezier(P0, C, P2, tb)
    ctrl = _blossom(P0, C, P2, ta, tb)
    dx, dy = end[0] - ctrl[0], end[1] - ctrl[1]
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    bx, by = end[0] - HEAD_LENGTH * ux, end[1] - HEAD_LENGTH * uy
    head = [(bx - HEAD_HALF_WIDTH * uy, by + HEAD_HALF_WIDTH * ux), end,
            (bx + HEAD_HALF_WIDTH * uy, by - HEAD_HALF_WIDTH * ux)]
    color, lw, dash = _stroke(r["pvalue"])
    line = (f'<path d="M {_f(start[0])} {_f(start[1])} Q {_f(ctrl[0])} {_f(ctrl[1])} {_f(end[0])} {_f(end[1])}" '
            f'fill="none"{dash} stroke="{color}" stroke-width="{_f(lw)}" stroke-linecap="round"/>')
    return f'<g id="patch_{k}">{line}{_tip_svg(head, color, lw)}</g>'


def _stroke(pvalue: float | None) -> tuple[str, float, str]:
    """Colour, width and dash attribute of an arrow: solid and dark when p < .05, thin grey dashes otherwise."""
    if pvalue is not None and pvalue < 0.05:
        return COLORS["sig"], 1.5, ""
    return COLORS["ns"], 1.1, f' stroke-dasharray="{_f(4 * 1.1)},{_f(3 * 1.1)}"'


def _tip_svg(head: list[tuple[float, float]], color: str, lw: float) -> str:
    """A filled arrowhead polygon."""
    return (f'<path d="M {" L ".join(f"{_f(x)} {_f(y)}" for x, y in head)} Z" fill="{color}" stroke="{color}" '
            f'stroke-width="{_f(lw)}" stroke-linejoin="round"/>')


def _head(tip: tuple[float, float], towards: tuple[float, float]) -> list[tuple[float, float]]:
    """A filled "-|>" head at ``tip`` pointing away from ``towards`` (pt)."""
    dx, dy = tip[0] - towards[0], tip[1] - towards[1]
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    bx, by = tip[0] - HEAD_LENGTH * ux, tip[1] - HEAD_LENGTH * uy
    return [(bx - HEAD_HALF_WIDTH * uy, by + HEAD_HALF_WIDTH * ux), tip,
            (bx + HEAD_HALF_WIDTH * uy, by - HEAD_HALF_WIDTH * ux)]


def _blossom(p0, c, p2, a: float, b: float) -> tuple[float, float]:
    """Control point of the part [a, b] of a quadratic Bézier (its blossom at (a, b))."""
    w0, w1, w2 = (1 - a) * (1 - b), (1 - a) * b + a * (1 - b), a * b
    return (w0 * p0[0] + w1 * c[0] + w2 * p2[0], w0 * p0[1] + w1 * c[1] + w2 * p2[1])


def _label_svg(canvas: _Canvas, r: dict) -> str:
    """The coefficient on its arrow, on a white rounded box (bold when significant)."""
    px, py, text, _ = r["label"]
    sig = r["pvalue"] is not None and r["pvalue"] < 0.05
    x, y = canvas((px, py))
    w = _text_width_em(text) * SMALL_PT + 2 * 0.15 * SMALL_PT
    h = SMALL_PT * (1 + 2 * 0.15)
    box = (f'<rect x="{_f(x - w / 2)}" y="{_f(y - h / 2)}" width="{_f(w)}" height="{_f(h)}" '
           f'rx="{_f(0.15 * SMALL_PT)}" fill="{COLORS["label_bg"]}" fill-opacity="0.95"/>')
    return (f'<g class="coefficient">{box}'
            f'{_text_svg(x, y, [text], SMALL_PT, COLORS["text"] if sig else "#555555", bold=sig)}</g>')


__all__ = ["path_diagram_svg", "structure", "diagram_legend"]
