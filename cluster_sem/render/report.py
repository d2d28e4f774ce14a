"""``Results`` with its reports: the object ``cluster_sem.fit``, ``run_invariance`` and ``load_results`` return.

Why a subclass here: ``results.Results`` is the document and its typed views; the renderers read it, so
the methods that call them belong to the render layer (results/ never imports render/).  Every method
renders the same document ``to_json`` writes, so a report rebuilt from results.json is the same report.
"""
from __future__ import annotations

from ..results import results as document


class Results(document.Results):
    """Results of ``cluster_sem.fit`` (frozen, see ``results.results.Results``) plus ``summary()``,
    ``to_markdown()``, ``to_html()`` and ``_repr_html_`` for notebooks."""

    def summary(self, *, lang: str = "en") -> str:
        from .terminal import render_summary
        return render_summary(self.to_dict(), lang=lang)

    def to_markdown(self, *, lang: str = "en") -> str:
        from .markdown import render_markdown
        return render_markdown(self.to_dict(), lang=lang)

    def to_html(self, *, lang: str = "en") -> str:
        from .html import render_html
        return render_html(self.to_dict(), lang=lang)

    def to_docx(self, *, lang: str = "en") -> bytes:
        """The Word report (APA three-line tables, path diagram) as the bytes of a .docx file."""
        from .docx import render_docx
        return render_docx(self.to_dict(), lang=lang)

    def _repr_html_(self) -> str:
        from .html import render_html_fragment
        return render_html_fragment(self.to_dict())


__all__ = ["Results"]
