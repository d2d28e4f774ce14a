"""`cluster-sem pls --lang zh` reports are Chinese throughout (detector: tests/english_prose.py): with a bootstrap,
PLSpredict, PLS-MGA (Henseler and permutation tests), PLSc, the CB-SEM comparison and the warnings a PLS run
writes — once left in English — in HTML, Markdown and the terminal summary."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.cli import main
from cluster_sem.render.pls import render_pls_html, render_pls_markdown, render_pls_summary

from english_prose import english_in_report, english_runs, user_strings

ROOT = Path(__file__).resolve().parents[1]
MOBI_SPEC = ROOT / "tests" / "specs" / "pls_mobi.yaml"
MOBI = ROOT / "tests" / "reference" / "pls" / "mobi.csv"
ZJ_SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
ZJ = ROOT / "data" / "zhejiang_128_synthetic.csv"


def _assert_chinese(doc: dict) -> None:
    leaks = english_in_report(render_pls_html(doc, "zh"), doc, html=True) \
        + english_in_report(render_pls_markdown(doc, "zh"), doc, html=False) \
        + english_runs(render_pls_summary(doc, "zh"), user_strings(doc))
    assert not leaks, sorted(set(leaks))


@pytest.fixture(scope="module")
def mobi_mga(tmp_path_factory) -> dict:
    """mobi with a group column: bootstrap, PLSpredict and PLS-MGA in one run."""
    base = tmp_path_factory.mktemp("zh")
    data = pd.read_csv(MOBI)
    data["grp"] = np.where(np.arange(len(data)) % 2 == 0, "even", "odd")
    data.to_csv(base / "mobi_grp.csv", index=False)
    (base / "spec.yaml").write_text(MOBI_SPEC.read_text().replace("scale:", "group: grp\nscale:", 1))
    out = base / "out"
    assert main(["pls", str(base / "spec.yaml"), str(base / "mobi_grp.csv"), "--out", str(out), "--bootstrap", "100",
                 "--predict", "5", "--mga", "--seed", "2", "--lang", "zh", "--quiet"]) == 0
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_bootstrap_predict_mga_report_is_chinese(mobi_mga):
    assert mobi_mga["pls"]["predict"] and mobi_mga["pls"]["mga"] and mobi_mga["pls"]["bootstrap"]
    _assert_chinese(mobi_mga)
    md = render_pls_markdown(mobi_mga, "zh")
    assert "p（置换检验）" in md and "多组分析" in md and "路径加权" in md


def test_plsc_with_cbsem_and_warnings_is_chinese(tmp_path):
    """The shipped example: interactions and covariances (two warnings), failed resamples (a third)."""
    fit = tmp_path / "fit"
    assert main(["fit", str(ZJ_SPEC), str(ZJ), "--out", str(fit), "--bootstrap", "0", "--quiet"]) == 0
    out = tmp_path / "plsc"
    assert main(["pls", str(ZJ_SPEC), str(ZJ), "--out", str(out), "--consistent", "--bootstrap", "100",
                 "--cbsem", str(fit), "--lang", "zh", "--quiet"]) == 0
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(doc["warnings"]) == 3 and doc["pls"]["cbsem_comparison"]
    _assert_chinese(doc)
    assert "设定中的残差协方差在 PLS 路径模型中没有对应项" in render_pls_markdown(doc, "zh")
    assert "the spec's covariances" in render_pls_markdown(doc, "en")      # results.json keeps the English
