"""Issue 14: inputs that used to end in a traceback or a vague "singular" line now exit 2 with one line
naming the file, column and fix (or, for realistic raw-unit controls, simply work, with lavaan's warning)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cluster_sem as cs
from cluster_sem.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
FIX = Path(__file__).parent / "data_fixtures"


def zj(tmp_path, edit=None, rows=None, name="zj.csv") -> Path:
    df = pd.read_csv(DATA)
    if rows is not None:
        df = df.head(rows)
    if edit:
        edit(df)
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def exit_2(tmp_path, capsys, data: Path, *fragments: str, command: str = "fit") -> str:
    out = tmp_path / "out"
    args = ["fit", str(SPEC), str(data), "--out", str(out), "--quiet"] if command == "fit" else \
        ["validate", str(SPEC), str(data)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "Fix:" in err, err
    for f in fragments:
        assert f in err, err
    assert not out.exists()
    return err


@pytest.mark.parametrize("value", [np.inf, 1e300])
def test_infinite_or_huge_control_value(tmp_path, capsys, value):
    def edit(df):
        df["firm_age"] = df["firm_age"].astype(float)
        df.loc[4, "firm_age"] = value
    exit_2(tmp_path, capsys, zj(tmp_path, edit), "zj.csv", "firm_age", "row 6")


@pytest.mark.parametrize("command", ["fit", "validate"])
def test_constant_item_is_named(tmp_path, capsys, command):
    def edit(df):
        df["TS3"] = 4
    exit_2(tmp_path, capsys, zj(tmp_path, edit), "zj.csv", "'TS3'", "zero variance", command=command)


@pytest.mark.parametrize("command", ["fit", "validate"])
def test_identical_items_are_named(tmp_path, capsys, command):
    def edit(df):
        df["KA2"] = df["KA1"]
    exit_2(tmp_path, capsys, zj(tmp_path, edit), "'KA1' and 'KA2'", "identical", command=command)


@pytest.mark.parametrize("rows", [1, 3, 30])
@pytest.mark.parametrize("command", ["fit", "validate"])
def test_fewer_rows_than_items(tmp_path, capsys, rows, command):
    err = exit_2(tmp_path, capsys, zj(tmp_path, rows=rows), "zj.csv", f"n = {rows}", "44", command=command)  # 42 items + 2 controls
    assert "rows" in err


def test_semicolon_csv_names_the_separator(tmp_path, capsys):
    df = pd.read_csv(DATA)
    path = tmp_path / "semi.csv"
    df.to_csv(path, index=False, sep=";", decimal=",")
    exit_2(tmp_path, capsys, path, "semi.csv", "';'")


def test_utf16_csv_is_read(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes(DATA.read_text(encoding="utf-8").encode("utf-16"))
    data = cs.prepare_data(cs.load_spec(SPEC), path)
    ref = cs.prepare_data(cs.load_spec(SPEC), DATA)
    pd.testing.assert_frame_equal(data.frame, ref.frame)
    assert any("UTF-16" in line for line in data.log)


def test_data_on_the_second_sheet_is_pointed_at(tmp_path, capsys):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"Notes": ["exported 2026-01-05"]}).to_excel(xl, sheet_name="README", index=False)
        pd.read_csv(DATA).to_excel(xl, sheet_name="Data", index=False)
    exit_2(tmp_path, capsys, path, "book.xlsx", "sheet 'Data'", "shown on opening")


def test_raw_unit_control_is_fitted_like_lavaan_with_a_variance_warning(tmp_path):
    spec = cs.load_spec(SPEC)
    df = pd.read_csv(DATA)
    scaled = df.copy()
    scaled["log_employees"] = df["log_employees"] * 1e8          # e.g. revenue in yuan
    with pytest.warns(cs.DataWarning, match="variances"):
        big = cs.fit(spec, scaled, timestamp="T")
    small = cs.fit(spec, df, timestamp="T")
    fb, fs = big.to_dict()["structural_model"], small.to_dict()["structural_model"]
    assert fb["fit"]["chi2"] == pytest.approx(fs["fit"]["chi2"], rel=1e-6)   # ML is scale invariant
    for rb, rs in zip(fb["parameters"], fs["parameters"]):
        if rb["op"] == "~" and rb["rhs"] == "log_employees":
            assert rb["est"] * 1e8 == pytest.approx(rs["est"], rel=1e-5, abs=1e-7)
            assert rb["std_all"] == pytest.approx(rs["std_all"], abs=1e-6)
        elif rb["op"] in ("=~", "~") and rb["rhs"] != "log_employees" and rb["lhs"] != "log_employees":
            assert rb["est"] == pytest.approx(rs["est"], abs=1e-5)
    assert any("variances" in w for w in big.warnings)
    assert not any("converge" in w for w in big.warnings)        # scale-free convergence test


def test_dollar_labels_are_drawn_as_plain_text(tmp_path):
    from cluster_sem.render.diagram import path_diagram_svg
    doc = cs.fit(SPEC, DATA, timestamp="T").to_dict()
    d = copy.deepcopy(doc)
    d["spec"]["constructs"]["TS"]["label"]["en"] = r"Ties $\frac{a}{$ cost $x^2$"
    svg = path_diagram_svg(d, "en")
    assert "$x^2$" in svg and "cost" in svg


@pytest.mark.parametrize("content", [
    "[1, 2, 3]", '{"meta": 5, "data": "x"}', "[" * 100000 + "]" * 100000,
    '{"meta": {"title": {"en": 1}}, "measurement_model": []}',
])
def test_report_on_a_tampered_results_json(tmp_path, capsys, content):
    d = tmp_path / "res"
    d.mkdir()
    (d / "results.json").write_text(content)
    assert main(["report", str(d)]) == 2
    err = capsys.readouterr().err
    assert "results.json" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in d.iterdir()) == ["results.json"]


def test_report_on_a_results_json_with_wrong_value_types(tmp_path, capsys):
    good = tmp_path / "good"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(good), "--quiet"]) == 0
    doc = json.loads((good / "results.json").read_text())
    doc["structural_model"]["parameters"][0]["est"] = "oops"
    doc["indirect_effects"] = {"a": 1}
    (good / "results.json").write_text(json.dumps(doc))
    before = (good / "report.html").read_text()
    capsys.readouterr()
    assert main(["report", str(good)]) == 2
    err = capsys.readouterr().err
    assert "results.json" in err and len(err.strip().splitlines()) == 1
    assert (good / "report.html").read_text() == before


def test_spec_without_constructs_reports_the_root_problem_only(tmp_path, capsys):
    lines = SPEC.read_text(encoding="utf-8").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("constructs:"))
    end = next(i for i, ln in enumerate(lines) if i > start and ln and not ln[0].isspace() and not ln.startswith("#"))
    spec = tmp_path / "empty.yaml"
    spec.write_text("\n".join(lines[:start] + ["constructs: {}"] + lines[end:]), encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no constructs are defined" in err[0]
    assert "unknown construct" not in " ".join(err)
