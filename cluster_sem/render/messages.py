"""Stored English messages (warnings, the data-preparation log, dropped-row reasons, estimation notes,
power settings) in the report's language, by the templates of ``phrases/messages.yaml``.

Why match text instead of storing message codes: results.json keeps these messages as the sentences the
library wrote (its bytes are the reproducibility contract), so a Chinese report has only that text to go on.
Each catalogue entry's English side is the message's template; ``{name}`` matches any text, which is
translated again when it is itself a catalogued message (a warning's "measurement model: …" prefix, a row
listing).  A message no entry matches is returned unchanged: an unknown message is shown, never dropped.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .i18n import catalogue

_FIELD = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern:
    """The English template as an anchored regular expression, each ``{name}`` a lazy group."""
    parts, pos = [], 0
    for m in _FIELD.finditer(template):
        parts.append(re.escape(template[pos:m.start()]))
        parts.append(f"(?P<{m.group(1)}>.*?)")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


@lru_cache(maxsize=None)
def _entries(lang: str) -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((_pattern(entry["en"]), entry[lang]) for entry in catalogue("messages").values())


def translate(message: str, lang: str) -> str:
    """``message`` in ``lang`` (as stored for English, or when no catalogue entry matches it)."""
    if lang == "en" or not isinstance(message, str):
        return message
    for pattern, target in _entries(lang):
        m = pattern.match(message)
        if m:
            return target.format(**{k: translate(v, lang) for k, v in m.groupdict().items()})
    return message


def translate_notes(note: str, lang: str) -> str:
    """An estimation note of pieces joined by '; ' (a start note plus a fallback's), each piece translated."""
    if lang == "en" or not note:
        return note
    whole = translate(note, lang)
    if whole != note:
        return whole
    return "；".join(translate(piece, lang) for piece in note.split("; "))


__all__ = ["translate", "translate_notes"]
