"""End to end: a spec with ``levels: {within, between}`` (and ``cluster:``) — `cluster-sem fit` adds the
``twolevel`` block (rows with a ``level`` column) equal to the API's two-level fit, lavaan's ML ICCs in
``design.icc_twolevel``, the report sentence in en and zh, and one-line refusals of what it does not support.
The two-level fit itself is compared with lavaan in test_twolevel_lavaan.py."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cluster_sem.cli import main
from cluster_sem.model.twolevel import fit_twolevel
from cluster_sem.analyses.twolevel import twolevel_syntax
from cluster_sem.spec import load_spec
from cluster_sem.spec.schema import Levels

HERE = Path(__file__).parent
SPEC = HERE / "specs" / "demo_twolevel.yaml"
DATA = HERE / "reference" / "design" / "demo_twolevel.csv"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("twolevel") / "results"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--quiet"]) == 0
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_twolevel_block_is_the_apis_fit(run):
    _, doc = run
    block = doc["twolevel"]
    spec = load_spec(SPEC)
    api = fit_twolevel(twolevel_syntax(spec), pd.read_csv(DATA), cluster="cluster")
    assert block["syntax"] == api.syntax and block["converged"] and block["n_clusters"] == 200
    assert block["syntax"].startswith("level: 1\nF =~ y1 + y2 + y3\nG =~ y4 + y5 + y6\nG ~ F\nlevel: 2\n")
    rows = block["parameters"]
    assert len(rows) == len(api.parameters) and {r["level"] for r in rows} == {1, 2}
    for row, (_, ref) in zip(rows, api.parameters.iterrows()):
        assert (row["lhs"], row["op"], row["rhs"], row["level"]) == (ref.lhs, ref.op, ref.rhs, ref.level)
        assert row["est"] == pytest.approx(ref.est, rel=1e-9, abs=1e-12)
        assert row["se"] == pytest.approx(ref.se, rel=1e-6, abs=1e-12)
    for key, value in api.fit.items():
        assert block["fit"][key] == pytest.approx(value, rel=1e-9), key
    assert doc["design"]["icc_twolevel"] == block["icc"]
    assert block["icc"] == pytest.approx(api.icc, rel=1e-9)
    assert "two-level model (lavaan level: 1 / level: 2)" in doc["meta"]["conventions"]
    assert block["warnings"] == [] and not [w for w in doc["warnings"] if "two-level" in w]


def test_report_sentence_in_english_and_chinese(run, tmp_path):
    out, doc = run
    fit = doc["twolevel"]["fit"]
    text = (out / "report.md").read_text(encoding="utf-8")
    assert f"A two-level model was also fitted" in text and f"χ²({fit['df']}) = {fit['chi2']:.2f}" in text
    assert main(["report", str(out), "--lang", "zh"]) == 0
    assert "另拟合了两层模型" in (out / "report.zh.md").read_text(encoding="utf-8")


def test_saturated_between_part_for_items_no_between_construct_measures():
    spec = load_spec(SPEC).model_copy(update={"levels": Levels(within=("F", "G"), between=("G",))})
    syntax = twolevel_syntax(spec)
    between = syntax.split("level: 2\n")[1]
    assert "G =~ y4 + y5 + y6" in between and "F =~" not in between
    assert "y1 ~~ y1" in between and "y1 ~~ y2" in between and "y2 ~~ y3" in between
    fit = fit_twolevel(syntax, pd.read_csv(DATA), cluster="cluster")
    P = fit.parameters.set_index(["lhs", "op", "rhs", "level"])
    assert fit.converged and P.loc[("y1", "~~", "y2", 2), "se"] > 0
    # F's items have free between covariances, so they stay close to the saturated (EM) model's
    sat_b = fit.saturated.moments.sigma_b
    implied_b = fit.model.moments(fit.theta).sigma_b
    assert implied_b[0, 1] == pytest.approx(sat_b[0, 1], abs=0.02)


def _spec_with(tmp_path: Path, **change) -> Path:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    for key, value in change.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, extra, fragment", [
    ({}, ["--estimator", "MLR"], "'levels' (two-level SEM) with --estimator MLR"),
    ({}, ["--missing", "fiml"], "'levels' (two-level SEM) with --missing fiml"),
    ({"cluster": None}, [], "spec 'levels' (two-level SEM) needs the cluster column"),
    # --cluster stands in for the spec key: the run gets past the cluster check to the estimator's refusal
    ({"cluster": None}, ["--cluster", "cluster", "--estimator", "MLR"], "'levels' (two-level SEM) with --estimator MLR"),
    ({"levels": {"within": ["F", "GG"], "between": ["F"]}}, [], "unknown construct 'GG' (did you mean 'G'?)"),
    ({"levels": {"within": ["F"], "between": []}}, [], "levels.between: no construct at this level"),
])
def test_unsupported_twolevel_input_exits_2_with_one_line(tmp_path, capsys, change, extra, fragment):
    spec = _spec_with(tmp_path, **change)
    out = tmp_path / "out"
    assert main(["fit", str(spec), str(DATA), "--out", str(out)] + extra) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


SHIPPED = HERE.parent / "questionnaires" / "zhejiang_cluster_growth.yaml"
SHIPPED_DATA = HERE.parent / "data" / "zhejiang_128_synthetic.csv"


def test_controls_are_firm_level_covariates_of_the_within_outcomes():
    spec = load_spec(SHIPPED).model_copy(update={"levels": Levels(within=("NC", "TS", "RD", "IOL"),
                                                                  between=("IOL",)),
                                                 "cluster": "region"})
    within, between = twolevel_syntax(spec).split("level: 2\n")
    controls = " + ".join(spec.controls)
    assert controls and f"IOL ~ NC + TS + RD + {controls}\n" in within
    assert not any(c in between for c in spec.controls)


def test_few_clusters_and_heywood_cases_are_warned_in_english_and_chinese(tmp_path, capsys):
    """The shipped example nested in its 5 regions: the two-level fit runs, and says why not to trust it."""
    spec = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    spec.update(cluster="region", levels={"within": ["NC", "TS"], "between": ["NC"]})
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["fit", str(path), str(SHIPPED_DATA), "--out", str(out), "--quiet", "--lang", "zh"]) == 0
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    warned = doc["twolevel"]["warnings"]
    assert warned[0].startswith("two-level model: only 5 clusters: the between level is estimated from 5")
    assert any("negative variance estimates (Heywood cases)" in w for w in warned)
    assert set(warned) <= set(doc["warnings"])
    assert "two-level model: only 5 clusters" in capsys.readouterr().err
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "两层模型：仅有 5 个群：群间层次只由 5 个群均值估计" in report and "Heywood 情形" in report
