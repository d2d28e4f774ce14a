"""End to end: `fit --modindices --compare` and `cluster-sem cmb` (results.json, en/zh reports, terminal lines,
one-line refusals with exit code 2 and nothing written)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cluster_sem.cli import main

ROOT = Path(__file__).resolve().parents[1]
HS = ROOT / "tests" / "reference" / "HolzingerSwineford1939.csv"
HS_SEM = ROOT / "tests" / "specs" / "hs_sem.yaml"
HS_MARKER = ROOT / "tests" / "specs" / "hs_marker.yaml"
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
REF = json.loads((ROOT / "tests" / "reference" / "publication" / "publication_reference.json").read_text("utf-8"))
EQUAL_PATHS = "textual~visual = speed~visual"


def read(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hs_fit(tmp_path_factory):
    out = tmp_path_factory.mktemp("pub") / "fit"
    assert main(["fit", str(HS_SEM), str(HS), "--out", str(out), "--quiet", "--modindices",
                 "--compare", EQUAL_PATHS, "--compare", "ind_vts = speed~visual"]) == 0
    return out


@pytest.fixture(scope="module")
def shipped_cmb(tmp_path_factory):
    out = tmp_path_factory.mktemp("pub") / "cmb"
    assert main(["cmb", str(SPEC), str(DATA), "--out", str(out)]) == 0
    return out


def test_fit_writes_lavaan_modification_indices_of_both_models(hs_fit):
    rows = read(hs_fit)["modification_indices"]
    for model, key in (("measurement", "mi_cfa"), ("structural", "mi_sem")):
        ours = [r for r in rows if r["model"] == model]
        assert [(r["lhs"], r["op"], r["rhs"]) for r in ours] == [(r["lhs"], r["op"], r["rhs"]) for r in REF[key]]
        for r, lav in zip(ours, REF[key]):
            assert r["mi"] == pytest.approx(lav["mi"], rel=1e-4)
            assert r["sepc_all"] == pytest.approx(lav["sepc.all"], abs=1e-4)


def test_fit_writes_comparisons_with_wald_and_lrt(hs_fit):
    paths, indirect = read(hs_fit)["comparisons"]
    ref = REF["wald"]["textual_visual_eq_speed_visual"]
    assert paths["hypothesis"] == EQUAL_PATHS
    assert paths["wald"]["chi2"] == pytest.approx(ref["stat"], rel=1e-5)
    assert paths["lrt"]["df"] == 1 and paths["lrt"]["chi2"] > 0
    assert indirect["lrt"] is None and indirect["lrt_note"] and indirect["wald"]["chi2"] > 0


def test_reports_show_both_tables_with_the_caution(hs_fit):
    md = (hs_fit / "report.md").read_text(encoding="utf-8")
    assert "Modification indices (mi ≥ 3.84" in md and "capitalises on chance" in md
    assert "| measurement | visual =~ x9 | 36.41 | 0.577 | 0.515 |" in md
    assert f"| {EQUAL_PATHS} |" in md and "4.18 (1), p = .041" in md
    html = (hs_fit / "report.html").read_text(encoding="utf-8")
    assert 'id="tbl-modindices"' in html and 'id="tbl-comparisons"' in html
    assert main(["report", str(hs_fit), "--lang", "zh"]) == 0
    zh = (hs_fit / "report.zh.md").read_text(encoding="utf-8")
    assert "修正指数" in zh and "效应相等性检验" in zh and "理论依据" in zh


def test_terminal_shows_top_modification_indices_and_the_tests(tmp_path, capsys):
    assert main(["fit", str(HS_SEM), str(HS), "--out", str(tmp_path / "o"), "--modindices",
                 "--compare", EQUAL_PATHS]) == 0
    text = capsys.readouterr().out
    assert "Modification indices, measurement model (top 5 of 18 with mi >= 3.84): visual=~x9 36.41" in text
    assert f"Equality test {EQUAL_PATHS}: Wald chi2(1) = 4.18, p = .041; LRT chi2(1) = 4.17" in text


@pytest.mark.parametrize("args, words", [
    (["--compare", "textual~visual"], ["--compare", "exactly one '='", "Fix"]),
    (["--compare", "textual~visual = speed~nothing"], ["--compare", "speed~nothing", "Fix: use one of"]),
    (["--compare", "textual~visual = textual~visual"], ["--compare", "same effect"]),
    (["--modindices", "--estimator", "MLR"], ["--modindices", "--estimator ML", "Fix"]),
    (["--modindices", "--missing", "fiml"], ["--modindices", "--missing listwise"]),
    (["--modindices", "--cluster", "school"], ["--modindices", "--cluster", "Fix"]),
])
def test_bad_requests_exit_2_in_one_line_and_write_nothing(tmp_path, capsys, args, words):
    out = tmp_path / "o"
    assert main(["fit", str(HS_SEM), str(HS), "--out", str(out), "--quiet"] + args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert all(w in err for w in words), err
    assert not out.exists()


def test_cmb_on_the_shipped_example_flags_the_improper_method_models(shipped_cmb):
    doc = read(shipped_cmb)
    cm = doc["common_method"]
    assert doc["meta"]["analysis"] == "cmb"
    assert {"harman_first_factor_share", "n_factors_eigen_gt_1", "flag"} <= set(cm)   # the fit block's keys
    assert cm["harman"]["first_factor_share"] == cm["harman_first_factor_share"] < 0.5
    one = cm["one_factor_cfa"]
    assert one["delta"]["df"] == one["fit"]["df"] - cm["cfa"]["fit"]["df"] and one["delta"]["pvalue"] < 0.05
    assert cm["clf"]["fit"]["df"] == cm["cfa"]["fit"]["df"] - 1
    assert not cm["clf"]["proper"] and not cm["ulmc"]["proper"]   # 44 items, n = 128: Heywood cases
    assert cm["marker"] is None
    assert cm["verdict"]["level"] == "inconclusive" and len(cm["verdict"]["sources"]) == 4
    md = (shipped_cmb / "report.md").read_text(encoding="utf-8")
    assert "Common-method variance battery" in md and "has no proper solution" in md
    assert "method_marker" in md                                   # how to add marker items
    assert main(["report", str(shipped_cmb), "--lang", "zh"]) == 0
    zh = (shipped_cmb / "report.zh.html").read_text(encoding="utf-8")
    assert "共同方法偏差检验" in zh and "周浩" in zh and "没有恰当解" in zh


@pytest.fixture(scope="module")
def marker_cmb(tmp_path_factory):
    out = tmp_path_factory.mktemp("pub") / "marker"
    import contextlib
    import io
    terminal = io.StringIO()
    with contextlib.redirect_stdout(terminal):
        assert main(["cmb", str(HS_MARKER), str(HS), "--out", str(out)]) == 0
    return out, terminal.getvalue()


def test_cmb_with_marker_items_runs_the_williams_sequence(marker_cmb):
    out, text = marker_cmb
    marker = read(out)["common_method"]["marker"]
    assert marker["items"] == ["x7", "x8", "x9"]
    assert list(marker["models"]) == ["baseline", "method_c", "method_u", "method_r"]
    tests = {c["test"]: c for c in marker["comparisons"]}
    assert tests["baseline_vs_method_c"]["df"] == 1 and tests["baseline_vs_method_c"]["pvalue"] < 0.05
    assert tests["method_c_vs_method_u"]["df"] == 5
    chosen = marker["chosen"]
    assert tests[f"{chosen}_vs_method_r"]["df"] == 1                 # one construct correlation fixed
    assert 0 < marker["method_variance_share"] < 1
    clf = read(out)["common_method"]["clf"]
    assert clf["absorbs_traits"] and len(clf["loadings_changed"]) >= 3
    assert "absorbed the constructs" in text and "do not report it as method variance" in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="tbl-cmb-marker"' in html and "Williams et al., 2010" in html


def test_marker_items_must_be_extra_columns(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(HS_MARKER.read_text(encoding="utf-8").replace("[x7, x8, x9]", "[x1, x8, x9]"), encoding="utf-8")
    assert main(["cmb", str(spec), str(HS), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "method_marker[0]" in err and "'x1' is already used by the model" in err
    assert not (tmp_path / "o").exists()
    spec.write_text(HS_MARKER.read_text(encoding="utf-8").replace("[x7, x8, x9]", "[x7, x8, xx9]"), encoding="utf-8")
    assert main(["cmb", str(spec), str(HS), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "column 'xx9'" in err and "method_marker" in err and "Fix" in err
    assert not (tmp_path / "o").exists()


def test_lrt_follows_the_estimator(tmp_path):
    """MLR: the Satorra–Bentler (2001) scaled difference, not the plain ML Δχ² (4.17); WLSMV: no single-group
    scaled-shifted difference, so lrt is null with the reason (the Wald test stands)."""
    import pandas as pd

    from cluster_sem.model.compare import compare, parse_hypothesis
    from cluster_sem.model.fitted_casewise import fit_model_casewise
    from cluster_sem.model.ordinal.fit import fit_model_wlsmv
    from cluster_sem.model.robust import satorra_bentler_2001
    sem = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
           "textual ~ a*visual\nspeed ~ b*textual + c*visual\n")
    left, right = parse_hypothesis(EQUAL_PATHS, {("textual", "visual"), ("speed", "visual")}, set())
    data = pd.read_csv(HS)

    def mlr(syntax):
        return fit_model_casewise(syntax, data, missing="listwise", estimator="MLR")
    free = mlr(sem)
    record = compare(free, EQUAL_PATHS, left, right, mlr)
    restricted = mlr(sem.replace("c*visual", "a*visual")).fit
    expected = satorra_bentler_2001(restricted["chi2"], restricted["df"], restricted["chi2_scaling_factor"],
                                    free.fit["chi2"], free.fit["df"], free.fit["chi2_scaling_factor"])
    assert record["lrt"]["chi2"] == pytest.approx(expected["chi2"], rel=1e-9)
    assert record["lrt"]["chi2"] != pytest.approx(4.1695, rel=1e-3)
    ordinal = pd.read_csv(ROOT / "tests" / "reference" / "HolzingerSwineford1939_ordinal.csv")
    items = [f"x{i}" for i in range(1, 10)]

    def wlsmv(syntax):
        return fit_model_wlsmv(syntax, ordinal, items)
    record = compare(wlsmv(sem), EQUAL_PATHS, left, right, wlsmv)
    assert record["lrt"] is None and "Satorra 2000" in record["lrt_note"] and record["wald"]["chi2"] > 0


def test_cmb_results_are_byte_identical_for_the_same_input(marker_cmb):
    import cluster_sem as cs
    stored = (marker_cmb[0] / "results.json").read_text(encoding="utf-8")
    meta = json.loads(stored)["meta"]
    assert cs.cmb(str(HS_MARKER), str(HS), command=meta["command"], timestamp=meta["timestamp"]).to_json() == stored


def test_a_method_model_with_negative_df_is_reported_not_identified():
    """A ULMC on one construct of four items has 12 parameters for 10 moments: no fit is attempted (the fit
    indices of such a model are undefined — it crashed the RMSEA interval), the record says why."""
    import pandas as pd

    from cluster_sem.model.fitted import fit_model
    from cluster_sem.quality.method_battery import BatteryModel, cfa_syntax, ulmc_block, verdict
    data = pd.read_csv(HS)
    model = BatteryModel({"visual": ["x1", "x2", "x3", "x4"]})
    cfa = fit_model(cfa_syntax(model), data)
    ulmc = ulmc_block(model, cfa, lambda syntax: fit_model(syntax, data, fallback=False))
    assert ulmc["fit"] is None and ulmc["delta"] is None and not ulmc["proper"]
    assert ulmc["warnings"] == ["not identified: 12 free parameters for 10 variances and covariances (df = -2)"]
    one = {"delta": {"chi2": 0.0, "df": 0, "pvalue": None}}
    assert "one_factor_is_cfa" in verdict(0.3, one, {"proper": False}, ulmc, None)["reasons"]
