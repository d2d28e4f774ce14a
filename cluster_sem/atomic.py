"""Files written whole or not at all, with the permissions a plain ``open`` would give them.

Why a base module: every command that writes a user-visible file (``new``'s spec, ``simulate``'s CSV, the
output folders of ``fit``/``pls``/…) promises no half-written output after a failure or Ctrl-C, and a file
first written under a temporary name must end with the mode the user's umask asks for, not ``mkstemp``'s
0600.  One helper keeps that promise the same way everywhere.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO


def umask() -> int:
    """The process's file-creation mask (read by setting and restoring it: there is no getter)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_file(path: str | Path, content: str | Callable[[TextIO], object], *, newline: str | None = None) -> Path:
    """Write ``content`` (text, or a function writing to the open UTF-8 file) to ``path`` atomically: into a
    temporary file beside it, then renamed over it; the temporary file is removed if anything fails."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.absolute().parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = ["umask", "write_file"]
