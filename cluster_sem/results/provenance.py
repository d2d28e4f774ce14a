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
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


__all__ = ["versions"]
