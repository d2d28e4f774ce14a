"""Split lavaan's two-level syntax (``level: 1`` / ``level: 2`` blocks) into one syntax per level.

Why a splitter and not a new grammar: each block is ordinary single-level syntax, so the project's parser and
parameter-table builder (``model/partable.py``) complete each level with lavaan's defaults unchanged.
"""
from __future__ import annotations

import re

from ...errors import FitError

_LEVEL = re.compile(r"^\s*level\s*:\s*([A-Za-z0-9_]+)\s*$", re.IGNORECASE)
_NAMES = {"1": 1, "within": 1, "2": 2, "between": 2}


def split_levels(syntax: str) -> tuple[str, str]:
    """(within syntax, between syntax).  Every statement must sit under a ``level:`` line, both levels must
    be present, each once: lavaan refuses the same cases."""
    blocks: dict[int, list[str]] = {}
    current: int | None = None
    for number, raw in enumerate(syntax.splitlines(), start=1):
        text = re.split(r"[#!]", raw, maxsplit=1)[0]
        match = _LEVEL.match(text)
        if match:
            level = _NAMES.get(match.group(1).lower())
            if level is None:
                raise FitError(f"model syntax line {number}: unknown level '{match.group(1)}'. "
                               "Fix: write 'level: 1' (within) or 'level: 2' (between)")
            if level in blocks:
                raise FitError(f"model syntax line {number}: level {level} is given twice. "
                               "Fix: put all its statements under one 'level:' line")
            blocks[level], current = [], level
            continue
        if not text.strip():
            continue
        if current is None:
            raise FitError(f"model syntax line {number}: a statement before the first 'level:' line. "
                           "Fix: start the model with 'level: 1'")
        blocks[current].append(text)
    missing = [lv for lv in (1, 2) if not blocks.get(lv)]
    if missing:
        raise FitError(f"two-level model syntax has no statements for level {missing[0]}. "
                       "Fix: give both 'level: 1' (within) and 'level: 2' (between) blocks")
    return "\n".join(blocks[1]), "\n".join(blocks[2])

