"""Invariance reports name the statistics their rows show (issue #26): MLR's levels table once headed the Yuan–
Bentler scaled χ² and robust CFI/RMSEA as plain χ²/CFI/RMSEA, a FIML report called its estimator "ML", and no
invariance table had a numbered APA caption."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cluster_sem.api import simulate
from cluster_sem.cli import main
from cluster_sem.render.html import render_html
from cluster_sem.render.markdown import render_markdown
from cluster_sem.render.terminal import render_summary

SPEC = Path(__file__).parent / "specs" / "regions_small.yaml"
RUNS = {"ML": [], "MLR": ["--estimator", "MLR"], "FIML": ["--missing", "fiml"],
        "FIML_MLR": ["--missing", "fiml", "--estimator", "MLR"], "WLSMV": ["--estimator", "WLSMV"]}


@pytest.fixture(scope="module")
def invariance_docs(tmp_path_factory) -> dict[str, dict]:
    data = tmp_path_factory.mktemp("data") / "regions.csv"
    frame = simulate(SPEC, 400, 7)
    frame.loc[frame.index[::17], "ts2"] = None      # a few blanks: FIML keeps the rows, listwise drops them
    frame.to_csv(data, index=False)
    docs = {}
    for name, options in RUNS.items():
        out = tmp_path_factory.mktemp(name.lower()) / "results"
        assert main(["invariance", str(SPEC), str(data), "--out", str(out), "--quiet", *options]) == 0
        docs[name] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return docs


# (levels-table header cells, phrases of the page) per run and language
HEADS = {
    "ML": {"en": (["χ²", "CFI", "RMSEA", "Δχ²", "ΔCFI"], ["normal-theory ML values"]),
           "zh": (["χ²", "CFI", "RMSEA", "Δχ²"], ["正态理论 ML 值"])},
    "MLR": {"en": (["Yuan–Bentler scaled χ²", "robust CFI", "robust TLI", "robust RMSEA", "scaled Δχ²",
                    "Δrobust CFI"], ["MLR, robust maximum likelihood", "Satorra–Bentler (2001)"]),
            "zh": (["Yuan–Bentler 校正 χ²", "稳健 CFI", "稳健 RMSEA", "校正 Δχ²"], ["稳健极大似然估计"])},
    "FIML": {"en": (["χ²", "CFI", "Δχ²"], ["ML with full-information maximum likelihood (FIML)",
                                          "against the saturated model"]),
             "zh": (["χ²", "CFI"], ["全信息极大似然（FIML）"])},
    "FIML_MLR": {"en": (["Yuan–Bentler scaled χ²", "robust CFI", "scaled Δχ²"],
                        ["MLR with full-information maximum likelihood (FIML)", "corrected for missing data"]),
                 "zh": (["Yuan–Bentler 校正 χ²", "稳健 CFI"], ["全信息极大似然（FIML）处理缺失作答的 MLR"])},
    "WLSMV": {"en": (["scaled-shifted χ²", "scaled CFI", "scaled RMSEA", "scaled Δχ²"], ["scaled-shifted difference"]),
              "zh": (["均值与方差校正 χ²", "校正 CFI", "校正 Δχ²"], ["scaled-shifted"])},
}


@pytest.mark.parametrize("run", list(RUNS))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_levels_table_heads_name_the_statistics_shown(invariance_docs, run, lang):
    doc = invariance_docs[run]
    heads, phrases = HEADS[run][lang]
    md, html = render_markdown(doc, lang), render_html(doc, lang)
    level_head = next(line for line in md.splitlines() if line.startswith("| " + ("Level" if lang == "en" else "层级")))
    cells = [c.strip() for c in level_head.strip("|").split("|")]
    for head in heads:
        assert head in cells, (run, lang, head, cells)
        assert f"<th>{head}</th>" in html, (run, lang, head)
    for phrase in phrases:
        assert phrase in md and phrase in html, (run, lang, phrase)
    if run != "ML":
        assert "; ML, lavaan" not in md and "；ML，" not in md


def test_terminal_summary_names_the_statistics(invariance_docs):
    assert "(Yuan–Bentler scaled χ², robust CFI, robust RMSEA; scaled Δχ²)" in render_summary(invariance_docs["MLR"])
    assert "(scaled-shifted χ², scaled CFI, scaled RMSEA; scaled Δχ²)" in render_summary(invariance_docs["WLSMV"])


@pytest.mark.parametrize("lang, table", [("en", "Table"), ("zh", "表")])
def test_invariance_tables_have_numbered_apa_captions(invariance_docs, lang, table):
    doc = invariance_docs["ML"]
    md, html = render_markdown(doc, lang), render_html(doc, lang)
    for n in (1, 2, 3, 4):      # groups, levels, latent means, path differences
        assert f"**{table} {n}.** *" in md
        assert f'<span class="tno">{table} {n}</span>' in html
    assert f"**{table} 5.**" not in md
