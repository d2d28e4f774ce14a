"""The R² table of the structural section (en/zh) and its terminal line: reads the typed document only.

One row per construct of the spec, in the spec's order: the construct's own R² when it is endogenous (an
outcome of a path, or a dimension of a second-order construct), "—" when it is exogenous, and its items'
R² beside it — so a reader sees how much of each outcome the model explains and how well each item
measures its construct in one table.  The values are results.json ``r_squared`` (lavaan's r2), formatted.
"""
from __future__ import annotations

from typing import Callable, Mapping

from ..results.document import ResultsDocument
from .i18n import catalogue, translator
from .numbers import fmt_unit


def _r2(values: Mapping, name: str, t: Callable[..., str]) -> str:
    """An R² as '.412'; '—' when the variable has none (exogenous); lavaan's NA spelled out."""
    if name not in values:
        return "—"
    value = values[name]
    return t("r2_negative") if value is None else fmt_unit(value)


def r_squared_context(r: ResultsDocument, lang: str, clabel: Callable[[str], str]) -> dict:
    """``r2``: {caption, heads, rows, note} or None when the document has no ``r_squared`` block."""
    values = r.r_squared
    if not values:
        return {"r2": None}
    t = translator(catalogue("structural"), lang)
    rows = []
    for c in r.spec.constructs.values():
        items = [f"{i} {_r2(values, i, t)}" for i in c.items if i in values]
        if c.name not in values and not items:
            continue
        rows.append({"construct": c.name, "label": clabel(c.name), "r2": _r2(values, c.name, t),
                     "item_r2": ", ".join(items)})
    return {"r2": {"caption": t("r2_table"), "heads": [t("r2_construct"), t("r2_value"), t("r2_items")],
                   "rows": rows, "note": t("r2_note")}}


def summary_lines(r: ResultsDocument) -> list[str]:
    """One terminal line: the endogenous constructs' R² and the range of the items' R²."""
    values = r.r_squared
    if not values:
        return []
    t = translator(catalogue("structural"), "en")
    constructs = ", ".join(f"{c} {_r2(values, c, t)}" for c in r.spec.constructs if c in values)
    items = [values[i] for i in r.spec.items if values.get(i) is not None]
    if not items:
        return [f"R² (structural model): {constructs}", ""]
    return [t("r2_summary", constructs=constructs or "—", low=fmt_unit(min(items)), high=fmt_unit(max(items))), ""]


__all__ = ["r_squared_context", "summary_lines"]
