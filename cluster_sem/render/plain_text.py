"""User text made safe for a terminal: labels, titles and names come from the spec and the data file.

An ANSI escape sequence in a construct name could clear the screen, retitle the window or hide the rest
of a message; a bidi override can reorder what is shown; a 10 000-character name buries the message it
sits in.  ``terminal_safe`` removes escape sequences and control characters and shortens any single
overlong word, so the CLI and the summary print what the user wrote, not what it does.  The report files
(report.md, report.html, power.md, ...) go through ``strip_controls`` — the same removal without shortening
words — since they are opened with ``cat``/``less`` or previewed in terminals too.
"""
from __future__ import annotations

import re
import unicodedata

MAX_WORD = 300  # an echoed word longer than this is cut: "ABCD…(3000 characters)"; a file path stays whole

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"             # CSI: colours, cursor movement, clear screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"       # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]?"                      # other two-byte escapes (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"               # 8-bit CSI
)
_C0_C1 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")   # control characters except \t and \n
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _control(ch: str) -> bool:
    return ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d"


def _without_controls(text: object) -> str:
    """Escape sequences, control and bidi characters removed; a tab becomes a space."""
    s = _ESCAPES.sub("", str(text)).translate(_BIDI)
    return "".join(" " if ch == "\t" else ch for ch in s if not _control(ch))


def strip_controls(text: str) -> str:
    """``text`` without escape sequences (with their payload: a window title, a hyperlink), C0/C1 control
    characters other than newline and tab, and bidi overrides; everything else kept as written.  Applied
    to a whole rendered file: the templates hold no control characters, so only user text loses any."""
    return _C0_C1.sub("", _ESCAPES.sub("", text)).translate(_BIDI)


def terminal_safe(text: object, max_word: int = MAX_WORD) -> str:
    """``text`` without escape sequences, control/bidi characters, and with no word over ``max_word``."""
    s = _without_controls(text)
    return re.sub(r"\S{%d,}" % (max_word + 1), lambda m: f"{m.group(0)[:max_word]}…({len(m.group(0))} characters)", s)


def xml_safe(text: object) -> str:
    """User text for an XML document (the Word report): as ``terminal_safe`` but words kept whole, and
    without lone surrogates or the non-characters U+FFFE/U+FFFF, which XML 1.0 cannot hold at all (lxml
    refuses them; a file that held them would not open)."""
    s = _without_controls(text)
    return "".join(ch for ch in s if unicodedata.category(ch) != "Cs" and ch not in "\ufffe\uffff")


__all__ = ["terminal_safe", "strip_controls", "xml_safe", "MAX_WORD"]
