"""What produced a document: the versions recorded in ``meta.versions`` of results.json (fit, invariance).

Why recorded: "same spec + data + seed ⇒ same results.json" holds for one set of numerical libraries; the
versions say which.
"""
from __future__ import annotations

import platform

from .. import __version__


def versions() -> dict:
    """Python, cluster-sem and the numerical libraries' versions (None for one not installed)."""
    import importlib.metadata as md
    out = {"python": platform.python_version(), "cluster_sem": __version__}
    for pkg in ("numpy", "scipy", "pandas", "semopy", "pydantic"):
        try:
            out[pkg] = _version(md.distribution(pkg))
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def _version(dist) -> str:
    """``importlib.metadata.version``'s answer without its cost: the first ``Version:`` header of the
    metadata.  ``version()`` parses the whole file as an e-mail (numpy's carries ~140 kB of licence text):
    ~7 ms of every fit for five names.  Anything unusual goes the standard way."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in text.splitlines():
        if not line.strip():
            break                     # end of the headers
        if line.startswith("Version:"):
            return line[len("Version:"):].strip()
    return dist.version


__all__ = ["versions"]
