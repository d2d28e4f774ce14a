"""Report layout (issue #26): the latent-interaction section is numbered and listed in the contents like the
others, the power report numbers its tables and figures (APA "Table 1."), and the power curves' end labels
do not overlap when several effects end at the same power."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from cluster_sem.cli import main
from cluster_sem.render.html import render_html
from cluster_sem.render.markdown import render_markdown
from cluster_sem.render.power import LABEL_GAP, power_curve_svg, render_power_html, render_power_markdown, \
    spread_labels

POWER_SPEC = Path(__file__).parent / "specs" / "mm2002_cfa.yaml"


@pytest.mark.parametrize("lang, heading", [("en", "Moderation (latent interaction)"), ("zh", None)])
def test_moderation_section_is_numbered_and_in_the_contents(example_doc, lang, heading):
    assert example_doc.get("moderation"), "the shipped example estimates the IOL x DF interaction"
    html, md = render_html(example_doc, lang), render_markdown(example_doc, lang)
    toc = re.search(r'<nav class="toc".*?</nav>', html, re.DOTALL).group(0)
    anchors = re.findall(r'href="#([\w-]+)"', toc)
    assert anchors.index("moderation") == anchors.index("indirect") + 1
    numbers = re.findall(r"<h2>(\d+)\. ", html)
    assert numbers == [str(i) for i in range(1, 12)]                 # 1 … 11, moderation is 9
    mod = re.search(r'<section id="moderation">\s*<h2>(\d+)\. ([^<]+)</h2>', html)
    assert mod and mod.group(1) == "9"
    assert heading is None or mod.group(2) == heading
    assert f"## 9. {mod.group(2)}" in md and "## 10. " in md and "## 11. " in md


@pytest.fixture(scope="module")
def power_doc(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("power") / "p"
    assert main(["power", str(POWER_SPEC), "--n", "60,90", "--reps", "20", "--seed", "3", "--out", str(out),
                 "--quiet"]) == 0
    return json.loads((out / "power.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang, table, figure", [("en", "Table", "Figure"), ("zh", "表", "图")])
def test_power_tables_have_numbered_apa_captions(power_doc, lang, table, figure):
    md, html = render_power_markdown(power_doc, lang), render_power_html(power_doc, lang)
    n_tables = 3 + len(power_doc["sizes"]) + 1      # by hypothesis, rules, power, one per n, RMSEA test
    assert re.findall(rf"\*\*{table} (\d+)\.\*\* \*", md) == [str(i) for i in range(1, n_tables + 1)]
    assert re.findall(rf"<caption>{table} (\d+)\. <em>", html) == [str(i) for i in range(1, n_tables + 1)]
    assert f"<figcaption>{figure} 1. " in html


def test_spread_labels_keeps_a_gap_and_the_plot_area():
    ys = [20.0, 20.0, 20.5, 150.0, 299.0, 300.0]
    out = spread_labels(ys, 13.0, 20.0, 300.0)
    ordered = sorted(out)
    assert all(b - a >= 13.0 - 1e-9 for a, b in zip(ordered, ordered[1:]))
    assert min(out) >= 20.0 and max(out) <= 300.0
    assert out[3] == 150.0                         # a label with room stays at its line's end
    assert spread_labels([], 13.0, 0.0, 10.0) == []


def test_power_curve_labels_do_not_overlap(power_doc):
    """Four effects with the same power at every n: their end labels once sat on one spot."""
    doc = copy.deepcopy(power_doc)
    base = doc["effects"][0]
    doc["effects"] = [{**base, "name": f"E{i}~F1"} for i in range(4)]
    for size in doc["sizes"]:
        size["effects"] = [{**size["effects"][0], "name": f"E{i}~F1"} for i in range(4)]
    doc["min_n"] = {f"E{i}~F1": None for i in range(4)}
    svg = power_curve_svg(doc, "en", "path")
    ys = sorted(float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" fill=', svg))
    assert len(ys) == 4
    assert all(b - a >= LABEL_GAP - 0.05 for a, b in zip(ys, ys[1:]))
