"""WLSMV through the spec → data → model → results pipeline: `ordinal: true`, `--estimator WLSMV`,
categories nobody chose, and categories collapsed with the spec's `recode:` key."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import cluster_sem as cs
from cluster_sem.model.ordinal.fit import fit_model_wlsmv

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "lavaan_reference.json").read_text())["hs_wlsmv"]
DATA = HERE / "reference" / "HolzingerSwineford1939_ordinal.csv"
SPEC = HERE / "specs" / "hs_ordinal.yaml"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def results():
    return cs.fit(SPEC, DATA, timestamp="2026-01-01T00:00:00+00:00")


def test_ordinal_spec_defaults_to_wlsmv_and_matches_lavaan(results):
    doc = results.to_dict() if hasattr(results, "to_dict") else json.loads(results.to_json())
    assert doc["meta"]["estimator"] == "WLSMV"
    rows = {(r["lhs"], r["op"], r["rhs"]): r for r in doc["measurement_model"]["parameters"]}
    n = 0
    for ref in REF["params"]:
        if ref["op"] in ("=~", "|") or (ref["op"] == "~~" and ref["lhs"] != ref["rhs"]):
            row = rows[(ref["lhs"], ref["op"], ref["rhs"])]
            assert row["est"] == pytest.approx(ref["est"], abs=1e-3)
            assert row["se"] == pytest.approx(ref["se"], abs=1e-3)
            assert row["std_all"] == pytest.approx(ref["std.all"], abs=1e-3)
            n += 1
    assert n == 9 + 27 + 3
    fit = doc["measurement_model"]["fit"]
    assert fit["chi2_scaled"] == pytest.approx(REF["fit"]["chisq.scaled"], rel=1e-3)
    assert fit["cfi_scaled"] == pytest.approx(REF["fit"]["cfi.scaled"], abs=0.002)
    assert fit["rmsea_scaled"] == pytest.approx(REF["fit"]["rmsea.scaled"], abs=0.002)


def test_estimator_ml_overrides_the_spec_default():
    res = cs.fit(SPEC, DATA, estimator="ML", timestamp="2026-01-01T00:00:00+00:00")
    doc = json.loads(res.to_json())
    assert doc["meta"]["estimator"] == "ML"
    assert not any(r["op"] == "|" for r in doc["measurement_model"]["parameters"])


def test_unobserved_category_gives_thresholds_only_between_observed_categories():
    data = pd.read_csv(DATA)
    data.loc[data.x1 == 3, "x1"] = 4          # nobody answers 3 on x1 any more: categories 1, 2, 4
    fit = fit_model_wlsmv(HS, data)
    P = fit.parameters
    th = P[(P.op == "|") & (P.lhs == "x1")]
    assert list(th.rhs) == ["t1", "t2"]
    cum = np.cumsum(data.x1.value_counts().sort_index().to_numpy())[:-1] / len(data)
    np.testing.assert_allclose(th.est.to_numpy(), norm.ppf(cum), atol=1e-10)
    # one sample threshold fewer and one threshold parameter fewer: df stays 24
    assert fit.converged and fit.fit["df"] == 24 and fit.fit["npar"] == 38


def test_recode_collapses_categories_like_recoding_the_data(tmp_path):
    spec = tmp_path / "hs_recode.yaml"
    spec.write_text(SPEC.read_text() + "recode: {x1: {1: 2}, all: {4: 3}}\n", encoding="utf-8")
    res = json.loads(cs.fit(spec, DATA, timestamp="2026-01-01T00:00:00+00:00").to_json())
    assert any("recoded x1" in line for line in res["data"]["log"])
    data = pd.read_csv(DATA)
    data.loc[data.x1 == 1, "x1"] = 2
    for v in [f"x{i}" for i in range(1, 10)]:
        data.loc[data[v] == 4, v] = 3
    direct = fit_model_wlsmv(HS, data).parameters
    rows = {(r["lhs"], r["op"], r["rhs"]): r for r in res["measurement_model"]["parameters"]}
    assert sum(1 for k in rows if k[0] == "x1" and k[1] == "|") == 1
    for r in direct.itertuples():
        if r.op in ("=~", "|"):
            assert rows[(r.lhs, r.op, r.rhs)]["est"] == pytest.approx(r.est, abs=1e-10)


def test_recode_of_unknown_item_is_a_spec_error(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(SPEC.read_text() + "recode: {x10: {1: 2}}\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "cluster_sem.cli", "fit", str(spec), str(DATA), "--out",
                          str(tmp_path / "o")], capture_output=True, text=True, cwd=HERE.parent)
    assert out.returncode == 2
    assert "recode.x10" in out.stderr and "Fix:" in out.stderr
    assert not (tmp_path / "o").exists()


def test_results_carry_ordinal_reliability_and_the_estimator_choice_note(results):
    doc = json.loads(results.to_json())
    for construct in ("visual", "textual", "speed"):
        rel = doc["reliability"][construct]
        assert 0 < rel["omega_categorical"] < 1 and 0 < rel["alpha_ordinal"] < 1
        assert {"alpha", "omega", "ave"} <= set(rel)          # the continuous ones stay beside them
    choice = doc["estimator_choice"]
    assert choice["recommended"] == "WLSMV" and choice["min_categories"] == 4   # four categories: few
    assert choice["used"] == "WLSMV"
    md_en, md_zh = results.to_markdown(lang="en"), results.to_markdown(lang="zh")
    assert "Estimator choice" in md_en and "Reliability of ordinal items" in md_en
    assert "WLSMV (items as ordered categories" in md_en and "88.88" in md_en   # scaled-shifted χ² reported
    assert "估计方法的选择" in md_zh and "有序类别题目的信度" in md_zh
    html = results.to_html(lang="en")
    assert 'id="tbl-ordinal-reliability"' in html and 'id="estimator-choice"' in html


def test_estimator_choice_says_ml_is_fine_for_symmetric_five_point_items():
    from cluster_sem.results.estimator_choice import estimator_choice
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.integers(1, 6, 400), "b": rng.integers(1, 6, 400)})
    assert estimator_choice(frame, ["a", "b"], "ML")["recommended"] == "ML"
    frame["b"] = np.where(rng.random(400) < 0.85, 5, 4)       # answers piled up at "agree"
    out = estimator_choice(frame, ["a", "b"], "ML")
    assert out["recommended"] == "WLSMV" and out["asymmetric"] == ["b"]


def test_category_empty_in_one_group_names_item_group_category_and_fix():
    from cluster_sem.errors import DataError
    from cluster_sem.model.ordinal.categories import check_group_categories
    data = pd.read_csv(DATA)
    data["school"] = np.where(np.arange(len(data)) < 150, "Pasteur", "Grant-White")
    check_group_categories(data, [f"x{i}" for i in range(1, 10)], "school")      # all categories everywhere
    data.loc[(data.school == "Grant-White") & (data.x3 == 1), "x3"] = 2
    with pytest.raises(DataError) as err:
        check_group_categories(data, ["x3"], "school", "hs.csv")
    msg = str(err.value)
    assert "x3" in msg and "'Grant-White'" in msg and "category 1" in msg and "recode: {x3: {1: 2}}" in msg
    assert "\n" not in msg
