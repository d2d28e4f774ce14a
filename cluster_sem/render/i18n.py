"""Bilingual phrase catalogues of the report sections: each phrase holds its English and Chinese side by side.

Why this shape: a section's phrases written as two parallel dictionaries (``{"en": {...}, "zh": {...}}``)
repeat every key in both halves and drift apart silently (a key added to one language only, noticed when a
Chinese report raises ``KeyError``).  A catalogue ``{key: {"en": ..., "zh": ...}}`` keeps the two
translations of one phrase in one entry; :func:`missing_translations` is the check that none lacks a language.
Why data files: the phrases are text for translators, not code; ``render/phrases/<section>.yaml`` holds the
invariance, moderation and power sections' catalogues, loaded once on first use (not at import: a plain
``fit`` never opens the power phrases).  ``render/labels.py`` keeps its own look-up, with an English
fallback, for the main report's headings.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Mapping

LANGS = ("en", "zh")
Catalogue = Mapping[str, Mapping[str, Any]]     # key -> {"en": text, "zh": text}; text may be a dict of texts


@lru_cache(maxsize=None)
def catalogue(section: str) -> Catalogue:
    """The catalogue of a report section, ``render/phrases/<section>.yaml`` (parsed once per process)."""
    import yaml
    text = resources.files("cluster_sem.render").joinpath(f"phrases/{section}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def phrases(catalogue: Catalogue, lang: str) -> dict[str, Any]:
    """The catalogue in one language, ``{key: text}`` (what templates index, e.g. ``mt.slope``)."""
    return {key: entry[lang] for key, entry in catalogue.items()}


def translator(catalogue: Catalogue, lang: str) -> Callable[..., str]:
    """``t(key, **kw)``: the phrase in ``lang``, formatted with ``kw`` (without ``kw``: as written)."""
    table = phrases(catalogue, lang)
    return lambda key, **kw: table[key].format(**kw) if kw else table[key]


def missing_translations(catalogue: Catalogue) -> list[str]:
    """``key:lang`` of every entry without a text in one of :data:`LANGS` (empty when the catalogue is whole)."""
    return [f"{key}:{lang}" for key, entry in catalogue.items() for lang in LANGS if lang not in entry]


__all__ = ["LANGS", "Catalogue", "catalogue", "phrases", "translator", "missing_translations"]
