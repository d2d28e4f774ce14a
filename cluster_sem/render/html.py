"""Self-contained HTML report (and a compact notebook fragment) from the results document alone.

One file: inline CSS (screen, phone and print), the path diagram as inline SVG, no external URL of any kind.
Jinja2 autoescaping is on: item wording, labels and hypothesis text are user data.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Mapping

from ..results.document import ResultsDocument
from .context import SECTIONS, report_context
from .kinds import own_renderer
from .diagram import diagram_legend, path_diagram_svg
from .labels import check_lang
from .plain_text import strip_controls


@lru_cache(maxsize=None)
def environment():
    import jinja2
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cluster_sem.render", "templates"),
        # compiled templates cached per user in the temp dir (keyed by the template's checksum): compiling
        # both templates cost ~0.3 s of every `fit`/`report` process
        bytecode_cache=jinja2.FileSystemBytecodeCache(),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)


@lru_cache(maxsize=None)
def _css() -> str:
    return resources.files("cluster_sem.render").joinpath("templates/report.css").read_text(encoding="utf-8")


def render_page(template: str, ctx: Mapping) -> str:
    """``template`` rendered with ``ctx`` and the inline stylesheet: one self-contained page.  Why one function:
    the full report and the invariance, PLS and cmb reports are all such pages."""
    from markupsafe import Markup
    return environment().get_template(template).render(**ctx, css=Markup(_css()))


def render_html(doc: dict, lang: str = "en") -> str:
    """The full report as one self-contained HTML document (string)."""
    check_lang(lang)
    own = own_renderer(doc, "html")          # a PLS, invariance or cmb document has its own report
    if own is not None:
        return strip_controls(own(doc, lang))   # construct labels and the title are user text
    r = ResultsDocument.read(doc)
    ctx = report_context(r, lang)
    from markupsafe import Markup
    ctx["diagram"] = Markup(path_diagram_svg(r, lang, title=ctx["t"]("diagram_caption")))
    ctx["diagram_legend"] = diagram_legend(r, lang)
    from .moderation import simple_slopes_svg
    for entry, rec in zip(ctx["moderation"], r.moderation):
        entry["svg"] = Markup(simple_slopes_svg(rec, r, lang)) if rec.plot else ""
    return strip_controls(render_page("report.html.j2", ctx))   # labels are user text


def render_html_fragment(doc: dict, lang: str = "en") -> str:
    """A compact summary for Jupyter's ``_repr_html_``: warnings, fit, paths and indirect effects; styles are
    scoped to the fragment so the notebook's own look is not touched."""
    check_lang(lang)
    ctx = report_context(doc, lang)
    return strip_controls(environment().get_template("fragment.html.j2").render(**ctx))


__all__ = ["render_html", "render_html_fragment", "render_page", "SECTIONS"]
