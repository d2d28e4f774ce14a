"""Self-contained HTML report (and a compact notebook fragment) from the results document alone.

One file: inline CSS (screen, phone and print), the path diagram as inline SVG, no external URL of any kind.
Jinja2 autoescaping is on: item wording, labels and hypothesis text are user data.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

from .context import build_context
from .diagram import path_diagram_svg
from .labels import check_lang

SECTIONS = [("data", "sec_data"), ("descriptives", "sec_descriptives"), ("measurement", "sec_measurement"),
            ("discriminant", "sec_discriminant"), ("cmv", "sec_cmv"), ("fit", "sec_fit"), ("paths", "sec_paths"),
            ("indirect", "sec_indirect"), ("baron-kenny", "sec_bk"), ("reproducibility", "sec_repro")]


@lru_cache(maxsize=None)
def environment():
    import jinja2
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cluster_sem.render", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)


@lru_cache(maxsize=None)
def _css() -> str:
    return resources.files("cluster_sem.render").joinpath("templates/report.css").read_text(encoding="utf-8")


def _common(doc: dict, lang: str) -> dict:
    ctx = build_context(doc, lang)
    meta = doc.get("meta") or {}
    ctx.update(version=meta.get("version", ""), n_used=(doc.get("data") or {}).get("n_used", meta.get("n_used", "")),
               sections=SECTIONS)
    return ctx


def render_html(doc: dict, lang: str = "en") -> str:
    """The full report as one self-contained HTML document (string)."""
    check_lang(lang)
    if "invariance" in doc and "measurement_model" not in doc:   # a `cluster-sem invariance` document
        from .invariance import render_invariance_html
        return render_invariance_html(doc, lang)
    ctx = _common(doc, lang)
    from markupsafe import Markup
    ctx["css"] = Markup(_css())
    ctx["diagram"] = Markup(path_diagram_svg(doc, lang, title=ctx["t"]("diagram_caption")))
    return environment().get_template("report.html.j2").render(**ctx)


def render_html_fragment(doc: dict, lang: str = "en") -> str:
    """A compact summary for Jupyter's ``_repr_html_``: warnings, fit, paths and indirect effects; styles are
    scoped to the fragment so the notebook's own look is not touched."""
    check_lang(lang)
    ctx = _common(doc, lang)
    return environment().get_template("fragment.html.j2").render(**ctx)


__all__ = ["render_html", "render_html_fragment", "SECTIONS"]
