"""`cluster-sem pls --second-order two-stage`: the disjoint two-stage approach to higher-order constructs
(Becker, Klein & Wetzels 2012), checked against the PyPI seminr 0.2.1 port of seminr's
``higher_composite(..., method = two_stage)`` (tests/reference/pls/seminr_two_stage.json, made by
make_seminr_two_stage.py) for a mode-A and a formative (mode-B) higher-order construct; the stage-2
indicators against scores computed from the data; bootstrap determinism; one-line refusals."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cluster_sem.cli import main
from cluster_sem.pls.algorithm import correlations
from cluster_sem.pls.estimate import estimate
from cluster_sem.pls.model import two_stage_models
from cluster_sem.spec.loader import load_spec

HERE = Path(__file__).resolve().parent
SPEC = HERE / "specs" / "pls_mobi_hoc.yaml"
MOBI = HERE / "reference" / "pls" / "mobi.csv"
REF = json.loads((HERE / "reference" / "pls" / "seminr_two_stage.json").read_text())
TOL = 1e-9


def _formative(tmp_path: Path) -> Path:
    text = SPEC.read_text(encoding="utf-8").replace("{dimensions: [Quality, Value]}",
                                                    "{dimensions: [Quality, Value], formative: true}")
    assert text != SPEC.read_text(encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "b.yaml"


def _run(out: Path, spec: Path, *extra: str) -> dict:
    assert main(["pls", str(spec), str(MOBI), "--out", str(out), "--quiet", "--second-order", "two-stage",
                 *extra]) == 0
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("label", ["mode_A", "mode_B", "plsc_mode_A"])
def test_matches_seminr_two_stage(tmp_path, label):
    """PLS with a mode-A and a formative (mode-B) HOC; PLSc with reflective dimensions and a mode-A HOC."""
    spec = _formative(tmp_path) if label == "mode_B" else SPEC
    pls = _run(tmp_path / "o", spec, *(["--consistent"] if label.startswith("plsc") else []))["pls"]
    ref = REF[label]
    assert pls["second_order"] == "two-stage"
    hoc = next(c for c in pls["constructs"] if c["name"] == "Perception")
    assert hoc["items"] == ["Quality", "Value"] and hoc["mode"] == label[-1]
    got = {f"{p['from']}|{p['to']}": p["est"] for p in pls["paths"]}
    assert got.keys() == ref["paths"].keys()
    for key in ("loadings", "weights"):
        rows = {f"{x['item']}|{x['construct']}": x["est"] for x in pls[key]}
        assert rows.keys() == ref[key].keys()
        np.testing.assert_allclose([rows[k] for k in ref[key]], list(ref[key].values()), atol=TOL)
    np.testing.assert_allclose([got[k] for k in ref["paths"]], list(ref["paths"].values()), atol=TOL)
    np.testing.assert_allclose([pls["r2"][c] for c in ref["r2"]], list(ref["r2"].values()), atol=TOL)
    assert {"Quality", "Value", "Perception"} <= pls["reliability"].keys()
    assert "two-stage approach" in (tmp_path / "o" / "report.md").read_text(encoding="utf-8")


def test_stage_two_indicators_are_the_stage_one_scores():
    """The correlations stage 2 is fitted on equal those of the data with the stage-1 scores appended."""
    import pandas as pd
    from cluster_sem.pls.statistics import Layout
    spec = load_spec(SPEC, pls=True)
    stage1, stage2 = two_stage_models(spec)
    X = pd.read_csv(MOBI)[list(stage1.items)].to_numpy(float)
    layout = Layout.of(stage2, consistent=False, scheme="path", htmt_constructs=(), indirect=(), total=(),
                       stage1=stage1)
    S2, first = layout.stages(correlations(X)[None])
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    scores = Z @ estimate(correlations(X)[None], stage1).weights[0]
    frame = dict(zip(stage1.items, X.T)) | {c: scores[:, stage1.index(c)] for c in layout.dimensions}
    direct = correlations(np.column_stack([frame[i] for i in stage2.items]))
    np.testing.assert_allclose(S2[0], direct, atol=1e-12)
    assert layout.dimensions == ("Quality", "Value")


def test_stage_one_model_is_seminrs():
    """Stage 1: the higher-order construct's place taken by its dimensions (Expectation → Quality, Value;
    Quality, Value → Satisfaction), with seminr's first-stage path coefficients."""
    spec = load_spec(SPEC, pls=True)
    stage1, _ = two_stage_models(spec)
    import pandas as pd
    X = pd.read_csv(MOBI)[list(stage1.items)].to_numpy(float)
    B = estimate(correlations(X)[None], stage1).paths[0]
    got = {f"{s}|{d}": B[stage1.index(s), stage1.index(d)] for s, d, _ in stage1.paths}
    ref = REF["mode_A"]["stage1_paths"]
    assert got.keys() == ref.keys() and "Expectation|Value" in got and "Quality|Satisfaction" in got
    np.testing.assert_allclose([got[k] for k in ref], list(ref.values()), atol=TOL)


def test_bootstrap_same_for_any_jobs_and_differs_from_repeated(tmp_path):
    a = (_run(tmp_path / "a", SPEC, "--bootstrap", "60", "--seed", "3", "--jobs", "1"), tmp_path / "a")
    b = (_run(tmp_path / "b", SPEC, "--bootstrap", "60", "--seed", "3", "--jobs", "2"), tmp_path / "b")
    strip = [{k: v for k, v in d["pls"].items()} for d, _ in (a, b)]
    assert strip[0] == strip[1]
    se = [p["se"] for p in a[0]["pls"]["paths"]]
    assert all(s is not None and s > 0 for s in se)
    assert main(["pls", str(SPEC), str(MOBI), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    rep = json.loads((tmp_path / "r" / "results.json").read_text())["pls"]
    assert rep["second_order"] == "repeated"
    assert "two-stage approach" not in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert any(p["kind"] == "second_order" for p in rep["paths"])
    assert not any(p["kind"] == "second_order" for p in a[0]["pls"]["paths"])


def test_refusals_one_line(tmp_path, capsys):
    assert main(["pls", str(_formative(tmp_path)), str(MOBI), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "constructs.Perception" in err and "--second-order two-stage" in err and "\n" not in err
    assert not (tmp_path / "o").exists()
    text = SPEC.read_text(encoding="utf-8").replace("{to: Complaints, from: [Satisfaction]}",
                                                    "{to: Complaints, from: [Satisfaction, Value]}")
    (tmp_path / "d.yaml").write_text(text, encoding="utf-8")
    assert main(["pls", str(tmp_path / "d.yaml"), str(MOBI), "--out", str(tmp_path / "o"),
                 "--second-order", "two-stage"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Value is a dimension of Perception" in err and "\n" not in err and not (tmp_path / "o").exists()
