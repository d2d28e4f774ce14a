"""Which renderer a results document gets: `fit` documents have the main report; PLS, invariance and cmb
documents each have their own.  Declared once, as a table, so the HTML, Markdown and terminal renderers ask
the same question the same way (and a new kind of document is one row)."""
from __future__ import annotations

from importlib import import_module
from typing import Callable

# (module holding the "is this my document?" test, the test, module of the renderers, {format: function});
# module names are relative to cluster_sem.render and imported only when asked (a plain fit imports none)
KINDS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    (".pls", "is_pls_document", ".pls",
     {"html": "render_pls_html", "markdown": "render_pls_markdown", "summary": "render_pls_summary"}),
    (".context", "is_invariance_document", ".invariance",
     {"html": "render_invariance_html", "markdown": "render_invariance_markdown",
      "summary": "render_invariance_summary"}),
    ("..results.cmb", "is_cmb_document", ".publication",
     {"html": "render_cmb_html", "markdown": "render_cmb_markdown", "summary": "render_cmb_summary"}),
)


def own_renderer(doc, fmt: str) -> Callable | None:
    """The renderer of ``doc``'s own kind for ``fmt`` (html, markdown or summary), None for a `fit` document."""
    for test_module, test, module, renderers in KINDS:
        if getattr(import_module(test_module, __package__), test)(doc):
            return getattr(import_module(module, __package__), renderers[fmt])
    return None


__all__ = ["KINDS", "own_renderer"]
