"""One problem of a spec, typed: file, key path, what is wrong, how to fix it, and (once known) the line.

Validation produces these (``validate.py``, ``shape_errors.py``, ``loader.py``); the loader adds line
numbers from the key path (``with_line``) without reading the message text back.  A ``Problem`` *is* its
one-line message (a ``str``), ``FILE: key.path: what (line N). Fix: how``, so the CLI, warnings and
``SpecError.problems`` print it as before.
"""
from __future__ import annotations

from .yamlmap import line_of


class Problem(str):
    """``FILE: key: message (line N). Fix: fix`` with its parts kept as attributes."""

    source: str
    key: str | None
    message: str
    fix: str
    line: int | None

    def __new__(cls, source: str, key: str | None, message: str, fix: str = "", line: int | None = None):
        text = f"{source}: {key}: {message}" if key is not None else f"{source}: {message}"
        if line is not None:
            text += f" (line {line})"
        if fix:
            text += f". Fix: {fix}"
        self = super().__new__(cls, text)
        self.source, self.key, self.message, self.fix, self.line = source, key, message, fix, line
        return self

    def with_line(self, lines: dict[str, int]) -> "Problem":
        """The same problem with the line of its key path (or nearest written ancestor), when known."""
        line = line_of(lines, self.key) if self.key is not None and lines and self.line is None else None
        return self if line is None else Problem(self.source, self.key, self.message, self.fix, line)

    def __reduce__(self):   # picklable with its parts (str subclasses with extra attributes need this)
        return Problem, (self.source, self.key, self.message, self.fix, self.line)


__all__ = ["Problem"]
