"""End to end: `cluster-sem fit ... --missing fiml --estimator MLR --bootstrap B` on survey data with blanks,
missing codes and a row with every item blank."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
ROBUST = {"chi2_scaled", "df_scaled", "pvalue_scaled", "chi2_scaling_factor", "cfi_robust", "tli_robust",
          "rmsea_robust"}


def blanked(tmp_path: Path) -> Path:
    d = pd.read_csv(DATA)
    items = [c for c in d.columns if c not in ("firm_id", "region", "firm_age", "log_employees",
                                                  "cluster")]
    rng = np.random.default_rng(10)
    x = d[items].astype(float)
    hole = rng.random(x.shape) < 0.06
    code = rng.random(x.shape) < 0.5
    x = x.mask(hole & ~code).where(~(hole & code), 99)        # half the blanks written as missing code 99
    d[items] = x
    d.loc[3, items] = np.nan                                 # every item blank: dropped and reported
    path = tmp_path / "blanks.csv"
    d.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    """One CLI run shared by the tests below.

    3 of the 200 resamples (seed 3) end the batched BFGS unconverged and the single-resample Newton refit
    (``bootstrap.fiml.refit_one``) fails on all three too, after ~25 s CPU each (100 Newton steps + BFGS
    towards a boundary).  Here that refit is replaced by an immediate failure: the document is the same
    (the three are excluded either way; the assertion on ``refits`` below fails if that changes), and the
    refit itself is checked against the batch in tests/test_bootstrap_fiml.py.
    """
    from cluster_sem.bootstrap import fiml
    tmp = tmp_path_factory.mktemp("fiml")
    out = tmp / "results"
    refits = []

    def refit_fails(core, rows):
        refits.append(rows)
        return core.phi_hat, False

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fiml, "refit_one", refit_fails)
        code = main(["fit", str(SPEC), str(blanked(tmp)), "--out", str(out), "--missing", "fiml",
                     "--estimator", "MLR", "--bootstrap", "200", "--seed", "3", "--quiet"])
    assert code == 0
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(refits) == doc["bootstrap"]["n_nonconverged"] == 3 and doc["bootstrap"]["n_fallback"] == 0
    return out


def test_meta_names_the_method_in_lavaans_words(out_dir):
    doc = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    meta = doc["meta"]
    assert (meta["estimator"], meta["missing"], meta["information"], meta["test"]) == \
        ("MLR", "ml", "observed", "yuan.bentler.mplus")
    assert meta["n_used"] == 127 and meta["n_dropped"] == 1
    assert doc["data"]["dropped"][0][0] == 5                  # file row of the all-blank case (header = row 1)


def test_fit_has_robust_keys_and_intercept_rows(out_dir):
    doc = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    for model in ("measurement_model", "structural_model"):
        fit = doc[model]["fit"]
        assert ROBUST <= set(fit)
        assert fit["n"] == 127
        assert fit["chi2_scaled"] == pytest.approx(fit["chi2"] / fit["chi2_scaling_factor"])
        rows = [r for r in doc[model]["parameters"] if r["op"] == "~1"]
        assert rows and all(r["rhs"] == "" for r in rows)
    assert doc["bootstrap"]["n_converged"] >= 190   # 42 items at n = 127: a few resamples may not converge (counted)
    sm = doc["structural_model"]["parameters"]
    assert all("se_boot" in r for r in sm)


def test_missing_data_and_normality_blocks(out_dir):
    doc = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    md = doc["missing_data"]
    assert md["patterns"][0]["n"] >= md["patterns"][-1]["n"]
    assert set(md["little_mcar"]) == {"chi2", "df", "pvalue"} and md["little_mcar"]["df"] > 0
    assert 3 < np.mean(list(md["percent_missing"].values())) < 9
    assert set(doc["normality"]) >= {"mardia_skewness", "mardia_kurtosis"}


def test_reports_have_the_section(out_dir):
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "Estimation, missing data and normality" in md and "Little's (1988)" in md
    assert "yuan.bentler.mplus" in md
    assert main(["report", str(out_dir), "--lang", "zh"]) == 0
    zh = (out_dir / "report.zh.html").read_text(encoding="utf-8")
    assert "估计方法、缺失数据与正态性" in zh
    assert "估计方法、缺失数据与正态性" not in (out_dir / "report.html").read_text(encoding="utf-8")


def test_wlsmv_with_fiml_exits_2(tmp_path, capsys):
    code = main(["fit", str(SPEC), str(DATA), "--out", str(tmp_path / "o"), "--estimator", "WLSMV",
                 "--missing", "fiml", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "WLSMV" in err and "Fix:" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_mardia_recommends_mlr_sentence():
    from cluster_sem.render.diagnostics import diagnostics_context
    doc = {"meta": {"estimator": "ML", "missing": "listwise"}, "missing_data": None,
           "normality": {"mardia_skewness": {"b1d": 1.0, "chi2": 9.0, "df": 4.0, "pvalue": 0.06},
                         "mardia_kurtosis": {"b2d": 30.0, "z": 3.1, "pvalue": 0.002}, "n": 100, "p": 3}}
    en = " ".join(diagnostics_context(doc, "en")["sentences"])
    assert "MLR" in en and "recommended" in en
    doc["normality"]["mardia_kurtosis"]["pvalue"] = 0.4
    assert "not significant" in " ".join(diagnostics_context(doc, "en")["sentences"])
    assert "MLR" in " ".join(diagnostics_context({**doc, "normality": {**doc["normality"], "mardia_kurtosis":
                                                 {"b2d": 30.0, "z": 3.1, "pvalue": 0.002}}}, "zh")["sentences"])


def test_mlr_fit_verdicts_use_the_robust_indices(out_dir):
    """MLR has the scaled χ² and lavaan's .robust CFI/TLI/RMSEA (no *_scaled indices): verdicts judge those,
    never 'n/a' for lack of a key."""
    doc = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    for model, part in (("measurement_model", "measurement"), ("structural_model", "structural")):
        fit, verdicts = doc[model]["fit"], doc["fit_verdicts"][part]
        for index in ("cfi", "tli", "rmsea"):
            assert verdicts[index]["value"] == pytest.approx(fit[index + "_robust"])
            assert verdicts[index]["verdict"] in ("good", "acceptable", "poor")
        assert verdicts["chi2_df"]["value"] == pytest.approx(fit["chi2_scaled"] / fit["df"])


def test_mlr_terminal_summary_and_pattern_table(out_dir):
    """The terminal summary of an MLR/FIML document prints (it once crashed on a missing 'cfi_scaled'), and the
    missing-data pattern table names the blank items (it once printed a dict method)."""
    from cluster_sem.render.terminal import render_summary
    doc = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    text = render_summary(doc)
    fit = doc["structural_model"]["fit"]
    assert f"CFI = {fit['cfi_robust']:.3f}" in text
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "built-in method" not in md and "built-in method" not in html
    blank = next(p["missing"] for p in doc["missing_data"]["patterns"] if p["missing"])
    assert "| " + ", ".join(blank) + " |" in md
