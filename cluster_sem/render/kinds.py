"""Which renderer a results document gets: `fit` documents have the main report; PLS, invariance and cmb
documents each have their own.  Declared once, as a table, so the HTML, Markdown, terminal and Word renderers
ask the same question the same way (and a new kind of document is one row)."""
from __future__ import annotations

from importlib import import_module
from typing import Callable

# (kind = the command that wrote it, module holding the "is this my document?" test, the test, module of the
# renderers, {format: function}); module names are relative to cluster_sem.render and imported only when asked
# (a plain fit imports none)
KINDS: tuple[tuple[str, str, str, str, dict[str, str]], ...] = (
    ("pls", ".pls", "is_pls_document", ".pls",
     {"html": "render_pls_html", "markdown": "render_pls_markdown", "summary": "render_pls_summary"}),
    ("invariance", ".context", "is_invariance_document", ".invariance",
     {"html": "render_invariance_html", "markdown": "render_invariance_markdown",
      "summary": "render_invariance_summary"}),
    ("cmb", "..results.cmb", "is_cmb_document", ".publication",
     {"html": "render_cmb_html", "markdown": "render_cmb_markdown", "summary": "render_cmb_summary"}),
)


def document_kind(doc) -> str | None:
    """The command whose document ``doc`` is (pls, invariance or cmb), None for a `fit` document."""
    for kind, test_module, test, _, _ in KINDS:
        if getattr(import_module(test_module, __package__), test)(doc):
            return kind
    return None


def own_renderer(doc, fmt: str) -> Callable | None:
    """The renderer of ``doc``'s own kind for ``fmt`` (html, markdown or summary), None for a `fit` document."""
    kind = document_kind(doc)
    if kind is None:
        return None
    module, renderers = next((module, renderers) for name, _, _, module, renderers in KINDS if name == kind)
    return getattr(import_module(module, __package__), renderers[fmt])


__all__ = ["KINDS", "document_kind", "own_renderer"]
