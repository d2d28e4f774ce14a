"""The two reference models written as spec files fit through the whole pipeline and agree with lavaan."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cluster_sem as cs

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "lavaan_reference.json").read_text())


def _compare(params: pd.DataFrame, ref_rows: list[dict], rename: dict[str, str] | None = None) -> int:
    rename = rename or {}
    checked = 0
    for row in ref_rows:
        lhs = rename.get(row["lhs"], row["lhs"])
        m = params[(params.lhs == lhs) & (params.op == row["op"])]
        if row["op"] != ":=":
            m = m[m.rhs == row["rhs"]]
            if m.empty and row["op"] == "~~":
                m = params[(params.lhs == row["rhs"]) & (params.op == "~~") & (params.rhs == row["lhs"])]
        assert len(m) == 1, row
        m = m.iloc[0]
        assert m["est"] == pytest.approx(row["est"], abs=1e-3), row
        assert m["se"] == pytest.approx(row["se"], abs=1e-3), row
        assert m["std_all"] == pytest.approx(row["std.all"], abs=1e-3), row
        checked += 1
    return checked


def test_hs_spec_measurement_model_equals_lavaan_cfa():
    res = cs.fit(HERE / "specs" / "hs_cfa.yaml", HERE / "reference" / "HolzingerSwineford1939.csv")
    P = res.parameters.query("model == 'measurement'")
    assert _compare(P, REF["hs_cfa"]["params"]) == 24
    fit = res.to_dict()["measurement_model"]["fit"]
    assert fit["chi2"] == pytest.approx(REF["hs_cfa"]["fit"]["chisq"], rel=1e-3)
    assert fit["cfi"] == pytest.approx(REF["hs_cfa"]["fit"]["cfi"], abs=0.002)
    rel = res.to_dict()["reliability"]
    for c in ("visual", "textual", "speed"):
        assert rel[c]["omega"] == pytest.approx(REF["hs_cfa"]["omega"][c], abs=0.005)
        assert rel[c]["ave"] == pytest.approx(REF["hs_cfa"]["ave"][c], abs=0.005)
    htmt = res.to_dict()["htmt"]
    names = ["visual", "textual", "speed"]
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            assert htmt[a][b] == pytest.approx(REF["hs_cfa"]["htmt"][i][j], abs=0.005)


def test_poldem_spec_structural_model_equals_lavaan_sem():
    res = cs.fit(HERE / "specs" / "poldem.yaml", HERE / "reference" / "PoliticalDemocracy.csv")
    P = res.parameters.query("model == 'structural'")
    assert _compare(P, REF["poldem_sem"]["params"], rename={"total": "total_ind60_dem65"}) == 36
    doc = res.to_dict()
    fit, ref = doc["structural_model"]["fit"], REF["poldem_sem"]["fit"]
    assert fit["chi2"] == pytest.approx(ref["chisq"], rel=1e-3)
    for k in ("cfi", "tli", "rmsea", "srmr"):
        assert fit[k] == pytest.approx(ref[k], abs=0.002)
    assert fit["aic"] == pytest.approx(ref["aic"], abs=0.5) and fit["bic"] == pytest.approx(ref["bic"], abs=0.5)
    ind = doc["indirect_effects"][0]
    assert ind["name"] == "indirect" and ind["ci_method"] == "delta"
    assert ind["est"] == pytest.approx(next(r["est"] for r in REF["poldem_sem"]["params"] if r["lhs"] == "indirect"), abs=1e-4)
