"""Markdown report from the results document alone (same view model and numbers as the HTML report).

Every value printed by the template goes through :func:`md_escape` (the environment's ``finalize``): table
pipes, emphasis stars, HTML-looking ``<tag`` / ``<https:…>`` sequences and Markdown link or image syntax
(``[x](javascript:…)``, ``![](https://…)``) in user text cannot break the document or make it load anything.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping

from .context import report_context
from .kinds import own_renderer
from .labels import check_lang
from .plain_text import strip_controls

_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_LINK = re.compile(r"\](?=\s*[(\[])")


def md_escape(value) -> str:
    """One table cell / inline value: no line breaks, pipes and stars escaped, no raw HTML tags."""
    if value is None:
        return ""
    s = str(value)
    s = s.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("`", "\\`")
    s = _TAG.sub("&lt;", s)
    s = _LINK.sub(r"\\]", s)      # '](' and '][' would close a live link or image: [x](javascript:…), ![](http…)
    s = re.sub(r"\s*\n\s*", " ", s)
    return s


@lru_cache(maxsize=None)
def environment():
    import jinja2
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cluster_sem.render", "templates"), autoescape=False,
        # compiled template cached per user in the temp dir, as the HTML one (render/html.py): compiling
        # report.md.j2 was the largest single cost of a plain `fit` after the imports
        bytecode_cache=jinja2.FileSystemBytecodeCache(),
        undefined=jinja2.StrictUndefined, finalize=md_escape, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def render_page(template: str, ctx: Mapping) -> str:
    """``template`` rendered with ``ctx``, runs of blank lines collapsed to one and one final newline: a
    standalone Markdown report (invariance, PLS, cmb)."""
    text = environment().get_template(template).render(**ctx)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _counter():
    n = [0]

    def tno() -> int:
        n[0] += 1
        return n[0]
    return tno


def render_markdown(doc: dict, lang: str = "en") -> str:
    """The full report as GitHub-flavoured Markdown (string)."""
    check_lang(lang)
    own = own_renderer(doc, "markdown")      # a PLS, invariance or cmb document has its own report
    if own is not None:
        return strip_controls(own(doc, lang))   # construct labels and the title are user text
    ctx = report_context(doc, lang)
    ctx["tno"] = _counter()
    text = strip_controls(environment().get_template("report.md.j2").render(**ctx))   # labels are user text
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


__all__ = ["render_markdown", "md_escape"]
