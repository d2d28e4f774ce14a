"""`cluster-sem pls --cbsem FIT_DIR`: the CB-SEM (std.all) and PLS(c) estimates of every structural path and
named indirect effect side by side (`pls.cbsem_comparison`, en/zh report), read from a `fit` of the same spec
and data; a fit of another spec or data file, a missing or foreign results.json: exit 2, one line, nothing
written."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cluster_sem.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"


@pytest.fixture(scope="module")
def fit_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cb") / "fit"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--bootstrap", "0", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def plsc(tmp_path_factory, fit_dir) -> Path:
    out = tmp_path_factory.mktemp("cb") / "plsc"
    assert main(["pls", str(SPEC), str(DATA), "--out", str(out), "--consistent", "--bootstrap", "100", "--seed", "3",
                 "--cbsem", str(fit_dir), "--quiet"]) == 0
    return out


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_comparison_rows_are_the_two_documents_estimates(fit_dir, plsc):
    fit, doc = _json(fit_dir / "results.json"), _json(plsc / "results.json")
    comp = doc["pls"]["cbsem_comparison"]
    assert comp["pls_variant"] == "plsc" and comp["cbsem_estimator"] == "ML"
    assert comp["source"] == str(fit_dir / "results.json")
    regressions = {(p["rhs"], p["lhs"]): p for p in fit["structural_model"]["parameters"] if p["op"] == "~"}
    pls_paths = {(p["from"], p["to"]): p for p in doc["pls"]["paths"]}
    expected = [k for k, p in pls_paths.items() if p["kind"] != "second_order" and k in regressions]
    assert [(r["from"], r["to"]) for r in comp["paths"]] == expected and len(expected) == 19
    assert {r["kind"] for r in comp["paths"]} == {"structural", "control"}
    for r in comp["paths"]:
        cb, pls = regressions[(r["from"], r["to"])], pls_paths[(r["from"], r["to"])]
        assert r["cbsem_std"] == cb["std_all"] and r["cbsem_pvalue"] == cb["pvalue"]
        assert r["cbsem_significant"] == (cb["pvalue"] < 0.05)
        assert (r["pls_est"], r["pls_ci_lower"], r["pls_ci_upper"]) == (pls["est"], pls["ci_lower"], pls["ci_upper"])
        assert r["pls_significant"] == (pls["ci_lower"] > 0 or pls["ci_upper"] < 0)
        assert r["same_conclusion"] == (r["cbsem_significant"] == r["pls_significant"])
    fit_ind = {x["name"]: x for x in fit["indirect_effects"]}
    assert [x["name"] for x in comp["indirect"]] == [x["name"] for x in doc["pls"]["indirect"]] != []
    for r in comp["indirect"]:
        assert r["cbsem_std"] == fit_ind[r["name"]]["std_all"]
        assert r["cbsem_significant"] == fit_ind[r["name"]]["significant"]


def test_report_table_en_and_zh(plsc):
    md = (plsc / "report.md").read_text(encoding="utf-8")
    assert "CB-SEM and PLS side by side" in md and "| Effect | β (CB-SEM) | p (CB-SEM) |" in md
    assert "composites" in md and "PLSc, which corrects the composites by rho_A" in md
    assert main(["report", str(plsc), "--lang", "zh"]) == 0
    zh = (plsc / "report.zh.md").read_text(encoding="utf-8")
    assert "CB-SEM 与 PLS 对照" in zh and "结论一致" in zh and "组合变量" in zh


def test_pls_without_consistent_points_to_plsc(tmp_path, fit_dir):
    out = tmp_path / "pls"
    assert main(["pls", str(SPEC), str(DATA), "--out", str(out), "--cbsem", str(fit_dir), "--quiet"]) == 0
    comp = _json(out / "results.json")["pls"]["cbsem_comparison"]
    assert comp["pls_variant"] == "pls" and all(r["pls_ci_lower"] is None and r["same_conclusion"] is None
                                                for r in comp["paths"])
    assert "PLSc (cluster-sem pls --consistent) corrects the composites" in (out / "report.md").read_text("utf-8")


def test_without_cbsem_there_is_no_comparison(tmp_path):
    out = tmp_path / "plain"
    assert main(["pls", str(SPEC), str(DATA), "--out", str(out), "--quiet"]) == 0
    assert "cbsem_comparison" not in _json(out / "results.json")["pls"]


def _refused(capsys, out: Path, cbsem: Path, spec: Path = SPEC, data: Path = DATA) -> str:
    assert main(["pls", str(spec), str(data), "--out", str(out), "--cbsem", str(cbsem), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err and not out.exists()
    return err


def test_other_data_or_spec_or_no_fit_exit_2(tmp_path, capsys, fit_dir, plsc):
    other_data = tmp_path / "other.csv"
    lines = DATA.read_text(encoding="utf-8").splitlines()
    other_data.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")       # one row fewer
    err = _refused(capsys, tmp_path / "a", fit_dir, data=other_data)
    assert "data_sha256" in err and str(fit_dir / "results.json") in err and str(other_data) in err
    assert "Fix: run 'cluster-sem fit SPEC DATA --out" in err
    other_spec = tmp_path / "spec.yaml"
    shutil.copy(SPEC, other_spec)
    with other_spec.open("a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    err = _refused(capsys, tmp_path / "b", fit_dir, spec=other_spec)
    assert "spec_sha256" in err and str(other_spec) in err and str(fit_dir / "results.json") in err
    assert "no results.json here" in _refused(capsys, tmp_path / "c", tmp_path / "nowhere")
    assert "not the results.json of 'cluster-sem fit'" in _refused(capsys, tmp_path / "d", plsc)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text("{not json", encoding="utf-8")
    assert "not readable JSON" in _refused(capsys, tmp_path / "e", broken)
