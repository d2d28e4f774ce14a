"""The note under the measurement table that cites the scale each construct's items were adapted from.

Why: items written from the scale library (``cluster-sem new``) carry the spec key ``source`` on their
construct; a reader of the report must see which published construct each item goes back to.  The note
reads the stored spec only (``SpecLabels``), so ``cluster-sem report`` renders it from any results.json,
and a construct without a (well-formed) ``source`` is simply not cited.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..results.document import SpecLabels, pick
from .i18n import catalogue, translator


def _citation(source) -> str | None:
    """``Authors (year), Journal`` from a stored ``source`` mapping; None when it lacks authors or year."""
    if not isinstance(source, Mapping) or not source.get("authors") or source.get("year") is None:
        return None
    journal = source.get("journal")
    return f"{source['authors']} ({source['year']})" + (f", {journal}" if journal else "")


def _members(items: tuple[str, ...], dimensions: tuple[str, ...]) -> str:
    """``TS1–TS4`` for items, ``KA, KS, KC`` for the dimensions of a second-order construct."""
    if items:
        return items[0] if len(items) == 1 else f"{items[0]}–{items[-1]}"
    return ", ".join(dimensions)


def item_sources_note(spec: SpecLabels, lang: str) -> str:
    """The whole note ("" when no construct has a source), in the report's language."""
    t = translator(catalogue("sources"), lang)
    open_, close = ("（", "）：") if lang == "zh" else (" (", "): ")
    cited = []
    for c in spec.constructs.values():
        citation = _citation(c.source)
        if citation:
            cited.append(f"{pick(c.label, lang, c.name)}{open_}{_members(c.items, c.dimensions)}{close}{citation}")
    return t("item_sources", sources=t("separator").join(cited)) if cited else ""


__all__ = ["item_sources_note"]
