"""Which renderer a results document gets: `fit` documents have the main report; PLS, invariance and cmb
documents each have their own.  Declared once, as a table, so the HTML, Markdown, terminal and Word renderers
ask the same question the same way (and a new kind of document is one row)."""
from __future__ import annotations

from importlib import import_module
from typing import Callable

from ..results.kinds import document_kind

# kind (``results/kinds.py`` tells which kind a document is) → (module of its renderers, {format: function});
# module names are relative to cluster_sem.render and imported only when asked (a plain fit imports none)
KINDS: dict[str, tuple[str, dict[str, str]]] = {
    "pls": (".pls", {"html": "render_pls_html", "markdown": "render_pls_markdown",
                     "summary": "render_pls_summary"}),
    "invariance": (".invariance", {"html": "render_invariance_html", "markdown": "render_invariance_markdown",
                                   "summary": "render_invariance_summary"}),
    "cmb": (".publication", {"html": "render_cmb_html", "markdown": "render_cmb_markdown",
                             "summary": "render_cmb_summary"}),
}


def own_renderer(doc, fmt: str) -> Callable | None:
    """The renderer of ``doc``'s own kind for ``fmt`` (html, markdown or summary), None for a `fit` document."""
    kind = document_kind(doc)
    if kind is None:
        return None
    module, renderers = KINDS[kind]
    return getattr(import_module(module, __package__), renderers[fmt])


__all__ = ["KINDS", "document_kind", "own_renderer"]
