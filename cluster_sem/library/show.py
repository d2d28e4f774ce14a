"""Terminal text of ``cluster-sem library list`` and ``library show``.

Why a module of its own: the library's wording is package data, but it still passes ``terminal_safe`` and
is padded by display width (a Chinese character takes two terminal columns), so the table lines up in
either language.
"""
from __future__ import annotations

import unicodedata

from ..render.plain_text import terminal_safe
from .catalog import LibraryScale, get_scale, library_scales

STUDIES = {   # study key -> (en, zh) heading of the list, in the order the list shows them
    "zhejiang": ("Zhejiang cluster growth (shipped questionnaire)", "浙江产业集群成长（随附问卷）"),
    "fujian": ("Learning enterprise clusters (Fujian)", "学习型企业集群（福建）"),
    "liaoning": ("Collective technological learning (Liaoning)", "集体技术学习（辽宁）"),
    "innovation_governance": ("Technical innovation capability and cluster governance", "技术创新能力与集群治理"),
    "general": ("General network, learning and performance scales", "通用网络、学习与绩效量表"),
}
HEAD = {"en": ("key", "label", "items", "source", "language"), "zh": ("代码", "名称", "题项", "来源", "语言")}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _items_cell(scale: LibraryScale) -> str:
    """Number of items; a second-order scale: its dimensions' items and the dimensions."""
    if scale.dimensions:
        n = sum(len(get_scale(d).items or ()) for d in scale.dimensions)
        return f"{n} ({'+'.join(scale.dimensions)})"
    return str(len(scale.items or ()))


def library_table(lang: str = "en") -> str:
    """``library list``: one row per scale (key, label, items, source, languages), grouped by study."""
    scales = library_scales()
    rows = [HEAD[lang]]
    groups: list[tuple[str, list[tuple[str, ...]]]] = []
    for study, heading in STUDIES.items():
        members = [s for s in scales.values() if s.study == study]
        groups.append((heading[lang == "zh"], [(s.key, s.label.get(lang) or s.key, _items_cell(s),
                                                s.source.citation() if s.source else "—", "+".join(s.languages))
                                               for s in members]))
    rest = [s for s in scales.values() if s.study not in STUDIES]
    if rest:
        groups.append(("other", [(s.key, s.label.get(lang) or s.key, _items_cell(s),
                                  s.source.citation() if s.source else "—", "+".join(s.languages)) for s in rest]))
    widths = [max(_width(r[i]) for r in rows + [row for _, g in groups for row in g]) for i in range(5)]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip()
    out = [line(rows[0]), "  ".join("-" * w for w in widths)]
    for heading, members in groups:
        if members:
            out += [f"[{heading}]"] + [line(r) for r in members]
    total = "共 {n} 个量表；cluster-sem library show KEY 显示题项" if lang == "zh" else \
        "{n} scales; 'cluster-sem library show KEY' prints the items"
    out.append(total.format(n=len(scales)))
    return terminal_safe("\n".join(out))


def scale_text(name: str, lang: str | None = None) -> str:
    """``library show NAME``: label, source, reliability, response scale, adaptation note and the items
    (both languages unless ``lang``)."""
    s = get_scale(name)
    langs = (lang,) if lang else ("en", "zh")
    out = [f"{s.key}  " + " / ".join(s.label.get(x) or "" for x in langs)]
    out.append(("source: " + s.source.reference()) if s.source else "source: — (see the dimensions)")
    rel = s.reliability
    reported = [f"{k} {v:.2f}" for k, v in (("alpha", rel.alpha if rel else None),
                                             ("CR", rel.composite if rel else None)) if v is not None]
    out.append("reported reliability: " + (", ".join(reported) if reported else "none reported"))
    if s.scale:
        anchors = " / ".join(s.scale.anchors.get(x) or "" for x in langs if s.scale.anchors.get(x))
        out.append(f"response scale: {s.scale.min}–{s.scale.max}" + (f" ({anchors})" if anchors else ""))
    for x in langs:
        out.append(f"adapted ({x}): {s.adaptation.get(x)}")
    if s.dimensions:
        out.append("second-order; dimensions:")
        out += [f"  {d:<7} {' / '.join(get_scale(d).label.get(x) or '' for x in langs)}" for d in s.dimensions]
    else:
        out.append("items ((R) = reverse-keyed: v becomes min + max - v before analysis):")
        for it in s.items or ():
            tag = f"{it.id}{' (R)' if it.reverse else ''}"
            texts = [it.text.get(x) or "" for x in langs]
            out.append(f"  {tag:<10} {texts[0]}")
            out += [f"  {'':<10} {t}" for t in texts[1:]]
    return terminal_safe("\n".join(out))


__all__ = ["library_table", "scale_text", "STUDIES"]
