"""The path diagram as a PNG (for Word, which shows no SVG from python-docx): the SVG of ``diagram.py`` replayed.

Why a replay and not a second drawing: ``path_diagram_svg`` is the one place that lays out constructs, routes
arrows and places coefficient labels; this module reads the handful of elements it writes (``ellipse``,
``rect``, ``path`` with ``M``/``L``/``Q``/``Z``, ``text``/``tspan``) and draws each with matplotlib's Agg
renderer at the same coordinates (1 viewBox unit = 1 pt), so both pictures always agree.  No system library
is needed (cairo, Inkscape, rsvg are not), only matplotlib, already a dependency.

Chinese labels need a CJK font matplotlib can find; without one the characters would come out as empty boxes,
so :func:`diagram_png` returns ``None`` then (the Word report says the figure is in report.html) rather than
a broken picture.
"""
from __future__ import annotations

import io
import logging
import re
import unicodedata
import xml.etree.ElementTree as ET

from ..results.document import ResultsDocument
from .diagram import path_diagram_svg
from .plain_text import xml_safe

DPI = 220
LATIN_FONTS = ("Times New Roman", "Liberation Serif", "DejaVu Serif", "DejaVu Sans")
CJK_FONTS = ("SimSun", "Songti SC", "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC")
_TOKEN = re.compile(r"[MLQZVHvh]|-?\d+(?:\.\d+)?")
_ANCHOR = {"start": "left", "middle": "center", "end": "right"}
_ROTATE = re.compile(r"rotate\((-?[\d.]+)")


def _installed(names: tuple[str, ...]) -> list[str]:
    from matplotlib import font_manager
    have = {f.name for f in font_manager.fontManager.ttflist}
    return [n for n in names if n in have]


def _needs_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def _families(svg: str) -> list[str] | None:
    """Font fallback list for the labels; None when they hold CJK text and no CJK font is installed."""
    latin = _installed(LATIN_FONTS)[:1] or ["DejaVu Sans"]
    texts = "".join(ET.fromstring(svg).itertext())
    if not _needs_cjk(texts):
        return latin
    cjk = _installed(CJK_FONTS)
    return latin + cjk[:1] if cjk else None


def _path(d: str):
    """An SVG path as ``diagram.py`` and ``moderation.py`` write them (M, L, Q, Z; V, H and the relative
    v, h of axis lines and ticks) as a matplotlib Path."""
    from matplotlib.path import Path
    verts, codes, tokens = [], [], _TOKEN.findall(d)
    i, start, here = 0, None, (0.0, 0.0)
    while i < len(tokens):
        cmd = tokens[i]
        i += 1
        if cmd == "Z":
            verts.append(start)
            codes.append(Path.CLOSEPOLY)
            continue
        if cmd in "VHvh":
            value = float(tokens[i])
            i += 1
            x, y = here
            here = {"V": (x, value), "H": (value, y), "v": (x, y + value), "h": (x + value, y)}[cmd]
            verts.append(here)
            codes.append(Path.LINETO)
            continue
        n = 2 if cmd == "Q" else 1
        points = [(float(tokens[i + 2 * k]), float(tokens[i + 2 * k + 1])) for k in range(n)]
        i += 2 * n
        verts += points
        codes += {"M": [Path.MOVETO], "L": [Path.LINETO], "Q": [Path.CURVE3, Path.CURVE3]}[cmd]
        here = points[-1]
        if cmd == "M":
            start = points[0]
    return Path(verts, codes)


def _stroke(el: ET.Element) -> dict:
    """Line colour, width (pt) and dash pattern of an element (matplotlib scales dashes by the width)."""
    lw = float(el.get("stroke-width", "1"))
    out = {"edgecolor": el.get("stroke", "none"), "linewidth": lw}
    dash = el.get("stroke-dasharray")
    if dash:
        on, off = (float(x) / lw for x in dash.split(","))
        out["linestyle"] = (0, (on, off))
    return out


def _draw(ax, el: ET.Element, families: list[str]) -> None:
    from matplotlib.patches import Ellipse, FancyBboxPatch, PathPatch
    tag = el.tag.rsplit("}", 1)[-1]
    if tag == "ellipse":
        ax.add_patch(Ellipse((float(el.get("cx")), float(el.get("cy"))), 2 * float(el.get("rx")),
                             2 * float(el.get("ry")), facecolor=el.get("fill", "none"), **_stroke(el)))
    elif tag == "rect":
        r = float(el.get("rx", "0"))
        ax.add_patch(FancyBboxPatch((float(el.get("x")), float(el.get("y"))), float(el.get("width")),
                                    float(el.get("height")), boxstyle=f"round,pad=0,rounding_size={r}",
                                    facecolor=el.get("fill"), alpha=float(el.get("fill-opacity", "1")),
                                    edgecolor="none"))
    elif tag == "path":
        ax.add_patch(PathPatch(_path(el.get("d")), facecolor=el.get("fill", "none"), capstyle="round",
                               joinstyle="round", **_stroke(el)))
    elif tag == "text":
        style = {"fontsize": float(el.get("font-size")), "color": el.get("fill"), "family": families,
                 "fontweight": el.get("font-weight", "normal"), "ha": _ANCHOR[el.get("text-anchor", "middle")],
                 "va": "center_baseline"}
        rotation = _ROTATE.match(el.get("transform", ""))
        if rotation:    # SVG turns clockwise on its y-down canvas, matplotlib counter-clockwise
            style.update(rotation=-float(rotation.group(1)), rotation_mode="anchor")
        spans = list(el) or [el]    # a diagram label has <tspan> lines; a plot label is one <text>
        for span in spans:
            ax.text(float(span.get("x")), float(span.get("y")), span.text or "", **style)
    else:   # <svg>, <g>: their children; <style> draws nothing
        for child in el:
            _draw(ax, child, families)


def svg_to_png(svg: str, families: list[str]) -> bytes:
    """Rasterise an SVG written by ``diagram.py`` (its viewBox in pt) to PNG bytes, deterministic."""
    from matplotlib.figure import Figure
    root = ET.fromstring(svg)
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    fig = Figure(figsize=(width / 72, height / 72), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    quiet = logging.getLogger("matplotlib.font_manager")
    level = quiet.level
    quiet.setLevel(logging.ERROR)     # "Failed to find font weight normal …, now using 500": noise, not a fault
    try:
        _draw(ax, root, families)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    finally:
        quiet.setLevel(level)
    return _opaque(buf.getvalue())


def _opaque(png: bytes) -> bytes:
    """RGB without the alpha channel matplotlib always writes: LibreOffice shades a transparent-capable
    picture's background grey in its PDF export."""
    from PIL import Image     # matplotlib's own dependency
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def picture(svg: str) -> tuple[bytes, float] | None:
    """An SVG of ``diagram.py`` / ``moderation.py`` as (PNG bytes, width in inches); None when it is empty
    or its Chinese text would have no font to be drawn with."""
    svg = xml_safe(svg)     # labels are user data: no character XML cannot hold
    if not svg:
        return None
    families = _families(svg)
    if families is None:
        return None
    width = float(ET.fromstring(svg).get("viewBox").split()[2]) / 72
    return svg_to_png(svg, families), width


def diagram_png(doc: ResultsDocument, lang: str) -> tuple[bytes, float] | None:
    """The path diagram as (PNG bytes, width in inches), or None (no paths, or no font for its labels)."""
    return picture(path_diagram_svg(doc, lang))


__all__ = ["diagram_png", "picture", "svg_to_png"]
