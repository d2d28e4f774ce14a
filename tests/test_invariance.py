"""Measurement invariance (issue 9): the engine against lavaan 0.6-14 (lavaan_reference_groups.json: Δ-tests,
decisions' inputs, latent means, score tests, per-path equality LRTs) and the `cluster-sem invariance`
command end to end on simulated multi-region data (results.json block, reports, refusals)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cluster_sem.api import simulate
from cluster_sem.cli import main
from cluster_sem.invariance import InvarianceOptions, run_invariance
from cluster_sem.invariance import engine
from cluster_sem.model.score_test import univariate_score_tests

ROOT = Path(__file__).resolve().parents[1]
REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference_groups.json").read_text())
HS = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")
MEAS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
STRUCT = MEAS + "textual ~ visual\nspeed ~ visual + textual\n"
GROUPED = engine.GroupedData(HS, "school", ("Pasteur", "Grant-White"))
SPEC = ROOT / "tests" / "specs" / "regions_small.yaml"


@pytest.fixture(scope="module")
def hs_levels():
    return engine.fit_levels(MEAS, GROUPED)


def test_delta_tests_and_decisions_match_lavaan(hs_levels):
    ref = REF["invariance_ML"]
    assert [lv.name for lv in hs_levels] == ["configural", "metric", "scalar", "strict"]
    for lv in hs_levels[1:]:
        d = ref[lv.name]["delta"]
        assert lv.delta["chi2"] == pytest.approx(d["chisq"], rel=1e-3)
        assert lv.delta["df"] == d["df"]
        assert lv.delta["pvalue"] == pytest.approx(d["pvalue"], abs=1e-4)
        prev = ref[{"metric": "configural", "scalar": "metric", "strict": "scalar"}[lv.name]]["fit"]
        assert lv.delta["cfi"] == pytest.approx(ref[lv.name]["fit"]["cfi"] - prev["cfi"], abs=1e-4)
        assert lv.delta["rmsea"] == pytest.approx(ref[lv.name]["fit"]["rmsea"] - prev["rmsea"], abs=1e-4)
    # Chen (2007): metric ΔCFI = −.002 holds, scalar ΔCFI = −.038 fails, strict ΔCFI = −.009 holds;
    # configural RMSEA = .097 is above .08, so the configural fit is not acceptable
    assert [lv.holds for lv in hs_levels] == [False, True, False, True]
    assert engine.first_failing(hs_levels).name == "scalar"


def test_latent_means_match_lavaan(hs_levels):
    scalar = next(lv for lv in hs_levels if lv.name == "scalar")
    ours = {m["construct"]: m for m in engine.latent_means(scalar.fit, "Pasteur")}
    refs = [r for r in REF["invariance_ML"]["scalar"]["latent_means"] if r["group"] == 2]
    assert len(ours) == len(refs) == 3
    for r in refs:
        m = ours[r["lhs"]]
        assert m["group"] == "Grant-White"
        assert m["est"] == pytest.approx(r["est"], abs=1e-3)
        assert m["se"] == pytest.approx(r["se"], abs=1e-3)
        assert m["pvalue"] == pytest.approx(r["pvalue"], abs=1e-3)


def test_score_tests_match_lavaan(hs_levels):
    scalar = next(lv for lv in hs_levels if lv.name == "scalar")
    ours = univariate_score_tests(scalar.fit)
    refs = REF["invariance_ML"]["scalar"]["score_tests"]
    assert len(ours) == len(refs)
    for o, r in zip(ours, refs):
        assert r["constraint"] == f"{o['constraint']} equal across groups"
        assert o["groups"] == ["Pasteur", "Grant-White"]
        assert o["chi2"] == pytest.approx(r["X2"], rel=1e-3, abs=1e-4)
        assert o["pvalue"] == pytest.approx(r["pvalue"], abs=1e-4)
    ranked = engine.score_tests(engine.first_failing(hs_levels))
    assert [s["constraint"] for s in ranked[:3]] == ["x3~1", "x7~1", "x2~1"]


def test_release_frees_one_constraint_in_every_level():
    levels = engine.fit_levels(MEAS, GROUPED, release=["x3~1"])
    scalar = next(lv for lv in levels if lv.name == "scalar")
    assert scalar.fit.fit["df"] == 59
    # releasing x3's intercept lowers χ² by about its score statistic (19.19)
    drop = REF["invariance_ML"]["scalar"]["fit"]["chisq"] - scalar.fit.fit["chi2"]
    assert 15 < drop < 25
    rows = scalar.fit.parameters
    x3 = rows[(rows.lhs == "x3") & (rows.op == "~1")]
    assert x3.est.nunique() == 2


def test_path_differences_match_lavaan():
    free, paths = engine.path_differences(STRUCT, GROUPED, [("textual", "visual"), ("speed", "visual"),
                                                            ("speed", "textual")])
    assert free.fit["chi2"] == pytest.approx(REF["structural_free"]["fit"]["chisq"], rel=1e-3)
    for p in paths:
        ref = REF["structural_equality_lrt"][p["path"]]
        assert p["chi2"] == pytest.approx(ref["chisq"], rel=1e-3)
        assert p["df"] == ref["df"]
        assert p["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-4)
    for r in REF["structural_free"]["paths"]:
        p = next(x for x in paths if x["path"] == f"{r['lhs']}~{r['rhs']}")
        g = GROUPED.groups[r["group"] - 1]
        assert p["est"][g] == pytest.approx(r["est"], abs=1e-3)
        assert p["se"][g] == pytest.approx(r["se"], abs=1e-3)


def test_unlabelled_drops_labels_and_defined_lines():
    text = "IOL =~ KA + KS\nCE ~ b_IOL_CE*IOL + firm_age\nind := b_a*b_b\n"
    assert engine.unlabelled(text) == "IOL =~ KA + KS\nCE ~ IOL + firm_age\n"


# -- the command on simulated regions ---------------------------------------------------------------

@pytest.fixture(scope="module")
def regions_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "regions.csv"
    simulate(SPEC, 400, 7).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def invariance_dir(tmp_path_factory, regions_csv):
    out = tmp_path_factory.mktemp("inv") / "results"
    assert main(["invariance", str(SPEC), str(regions_csv), "--out", str(out), "--quiet"]) == 0
    return out


def test_results_json_has_the_contract_block(invariance_dir):
    doc = json.loads((invariance_dir / "results.json").read_text(encoding="utf-8"))
    inv = doc["invariance"]
    assert inv["group"] == "region" and inv["estimator"] == "ML"
    assert inv["groups"] == [{"name": "coastal", "n": 200, "values": ["Wenzhou", "Ningbo"]},
                             {"name": "inland", "n": 200, "values": ["Jinhua", "Quzhou"]}]
    assert [lv["level"] for lv in inv["levels"]] == ["configural", "metric", "scalar", "strict"]
    for i, lv in enumerate(inv["levels"]):
        assert {"chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci90", "srmr", "aic", "bic", "n"} <= set(lv["fit"])
        assert lv["decision"] in ("holds", "rejected")
        assert (lv["delta"] is None) == (i == 0)
        if lv["delta"]:
            assert set(lv["delta"]) == {"chi2", "df", "pvalue", "cfi", "rmsea"}
        assert all(row["group"] in ("coastal", "inland") for row in lv["parameters"])
    # one population model in every region: every level holds, no score tests needed
    assert all(lv["decision"] == "holds" for lv in inv["levels"])
    assert inv["first_failing"] is None and inv["score_tests"] == []
    assert {(m["construct"], m["group"]) for m in inv["latent_means"]} == {("TS", "inland"), ("RQ", "inland")}
    for m in inv["latent_means"]:
        assert set(m) >= {"construct", "group", "est", "se", "pvalue"}
    (path,) = inv["path_differences"]
    assert path["path"] == "RQ~TS" and path["df"] == 1 and set(path["est"]) == {"coastal", "inland"}
    assert path["pvalue"] > 0.05
    r2 = inv["path_model"]["r_squared"]                      # R² per group (lavaan's r2 of the path model)
    assert list(r2) == ["coastal", "inland"] and all(0 < r2[g]["RQ"] < 1 for g in r2)


def test_reports_have_the_invariance_section(invariance_dir, regions_csv, tmp_path):
    html = (invariance_dir / "report.html").read_text(encoding="utf-8")
    md = (invariance_dir / "report.md").read_text(encoding="utf-8")
    for text in (html, md):
        assert "Measurement invariance across groups" in text
        assert "Relationship quality" in text and "coastal" in text
    assert "Wenzhou, Ningbo" in md
    out = tmp_path / "zh"
    assert main(["invariance", str(SPEC), str(regions_csv), "--out", str(out), "--quiet", "--lang", "zh"]) == 0
    assert "跨组测量不变性" in (out / "report.md").read_text(encoding="utf-8")
    assert "关系质量" in (out / "report.html").read_text(encoding="utf-8")
    # `cluster-sem report` re-renders an invariance results.json
    assert main(["report", str(out), "--lang", "en"]) == 0
    assert "Measurement invariance across groups" in (out / "report.html").read_text(encoding="utf-8")


def test_numeric_codes_blank_groups_and_byte_identical_rerun(regions_csv, tmp_path):
    """Codes 1/2 are shown as "1"/"2"; a row without a group is dropped for the multigroup analysis and
    counted; the same spec + data give the same document (timestamp aside)."""
    df = pd.read_csv(regions_csv)
    df["region"] = df["region"].map({"Wenzhou": 1, "Ningbo": 1, "Jinhua": 2, "Quzhou": 2}).astype(float)
    df.loc[3, "region"] = float("nan")
    data = tmp_path / "codes.csv"
    df.to_csv(data, index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace(
        "group_levels: {coastal: [Wenzhou, Ningbo], inland: [Jinhua, Quzhou]}\n", ""), encoding="utf-8")
    first = run_invariance(spec, data, timestamp="T").to_dict()
    inv = first["invariance"]
    first_code = str(int(df.region.dropna().iloc[0]))         # lavaan's order: first appearance
    assert [g["name"] for g in inv["groups"]] == [first_code, {"1": "2", "2": "1"}[first_code]]
    assert all(g["values"] == [g["name"]] for g in inv["groups"])
    assert inv["n_no_group"] == 1 and first["data"]["n_used"] == 399
    assert any("1 rows without a value in 'region'" in w for w in first["warnings"])
    again = run_invariance(spec, data, timestamp="T").to_json()
    assert again == run_invariance(spec, data, timestamp="T").to_json()
    assert json.loads(again)["invariance"] == inv


def _one_line_refusal(capsys, args, out, *needles):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for n in needles:
        assert n in err
    assert not out.exists()


def test_tiny_group_is_refused(regions_csv, tmp_path, capsys):
    df = pd.read_csv(regions_csv)
    df.loc[:4, "region"] = "Lishui"          # 5 cases, fewer than the 8 observed variables
    data = tmp_path / "tiny.csv"
    df.to_csv(data, index=False)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace("inland: [Jinhua, Quzhou]}",
                                                             "inland: [Jinhua, Quzhou], north: [Lishui]}"),
                    encoding="utf-8")
    out = tmp_path / "out"
    _one_line_refusal(capsys, ["invariance", str(spec), str(data), "--out", str(out)], out,
                      "group 'north' has n = 5", "8 observed variables", "group_levels")


def test_unlisted_group_value_and_unavailable_options_are_refused(regions_csv, tmp_path, capsys):
    df = pd.read_csv(regions_csv)
    df.loc[0, "region"] = "Lishui"
    data = tmp_path / "unlisted.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "out"
    _one_line_refusal(capsys, ["invariance", str(SPEC), str(data), "--out", str(out)], out,
                      "'Lishui' are not in the spec's group_levels")
    _one_line_refusal(capsys, ["invariance", str(SPEC), str(regions_csv), "--out", str(out), "--release", "TS=~zz9"],
                      out, "--release TS=~zz9: not a parameter of the model")


def test_group_levels_spec_checks(tmp_path):
    from cluster_sem.errors import SpecError
    from cluster_sem.spec import load_spec
    text = SPEC.read_text(encoding="utf-8")
    bad = tmp_path / "dup.yaml"
    bad.write_text(text.replace("inland: [Jinhua, Quzhou]", "inland: [Jinhua, Ningbo]"), encoding="utf-8")
    with pytest.raises(SpecError, match="group_levels.inland: value 'Ningbo' is already in group 'coastal'"):
        load_spec(bad)
    bad.write_text(text.replace("group: region\n", ""), encoding="utf-8")
    with pytest.raises(SpecError, match="group_levels: given but the spec has no 'group' column"):
        load_spec(bad)


def test_options_are_checked_once_at_the_boundary():
    assert InvarianceOptions(release=("CE=~CE3, CE3~1",)).checked().release == ("CE=~CE3", "CE3~1")


def test_rows_without_a_group_are_kept_for_single_group_analyses(regions_csv, tmp_path):
    from cluster_sem.data import prepare_data
    from cluster_sem.spec import load_spec
    df = pd.read_csv(regions_csv)
    df.loc[[0, 1], "region"] = None
    data = tmp_path / "blank.csv"
    df.to_csv(data, index=False)
    spec = load_spec(SPEC)
    assert prepare_data(spec, data, by_group=False).n_used == 400
    with pytest.warns(Warning):
        assert prepare_data(spec, data, by_group=True).n_used == 398


def test_user_text_is_escaped_in_the_reports(invariance_dir):
    from cluster_sem import Results
    doc = json.loads((invariance_dir / "results.json").read_text(encoding="utf-8"))
    evil = "<script>x</script>|*a*"
    doc["invariance"]["groups"][0]["name"] = evil
    doc["invariance"]["latent_means"][0]["group"] = evil
    doc["spec"]["constructs"]["TS"]["label"]["en"] = evil
    doc["spec"]["constructs"]["RQ"]["label"]["en"] = "bad\x1b[31mred"
    res = Results.from_document(doc)
    html, md, term = res.to_html(), res.to_markdown(), res.summary()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in md and "\\|" in md and "\\*a\\*" in md
    assert "\x1b" not in term and "badred" in term
