"""Option values are checked once, as data, at the API boundary (cluster_sem.options), for CLI and API alike;
the public API names stay functions; fit problems are raised as warnings and kept in Results."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import cluster_sem as cs
from cluster_sem.cli import main
from cluster_sem.errors import AdmissibilityWarning, ClusterSemError, ConvergenceWarning
from cluster_sem.options import FIT_OPTIONS, MIN_BOOTSTRAP, check_options

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"


@pytest.mark.parametrize("kw, fragment", [
    ({"ci_level": 1.5}, "'ci_level' option (--ci-level) of fit must be a number in (0, 1). Got 1.5 instead"),
    ({"ci_level": float("nan")}, "'ci_level'"),
    ({"ci": "bogus"}, "'ci' option (--ci) of fit must be one of 'auto', 'percentile'"),
    ({"jobs": 0}, "'jobs'"),
    ({"jobs": 2.5}, "'jobs'"),
    ({"seed": -1}, "'seed' option (--seed) of fit must be an integer in [0, "),
    ({"bootstrap": 2}, f"at least {MIN_BOOTSTRAP} resamples"),
    ({"bootstrap": 1_000_000_000}, "Got 1000000000 instead"),
    ({"missing": "pairwise"}, "'missing'"),
    ({"estimator": "GLS"}, "'estimator'"),
    ({"scheduler": ""}, "'scheduler'"),
])
def test_api_refuses_bad_option_values_before_reading_anything(kw, fragment):
    with pytest.raises(ClusterSemError) as info:
        cs.fit("does-not-exist.yaml", "nor-this.csv", **kw)   # options first: no file is opened
    assert fragment in str(info.value) and "Fix:" in str(info.value) and "\n" not in str(info.value)


def test_estimator_names_are_case_insensitive_and_valid_values_pass():
    check_options("fit", {"estimator": "ml", "ci": "monte-carlo", "bootstrap": 0, "seed": 0, "jobs": 2,
                          "ci_level": 0.9, "missing": "listwise", "scheduler": None})


def test_allowed_values_are_data_other_options_can_extend():
    assert "ML" in FIT_OPTIONS["estimator"].constraint.values
    assert "listwise" in FIT_OPTIONS["missing"].constraint.values


@pytest.mark.parametrize("args, fragment", [
    (["fit", str(SPEC), str(DATA), "--out", "{out}", "--seed", "-1"], "--seed"),
    (["fit", str(SPEC), str(DATA), "--out", "{out}", "--bootstrap", "2"], "--bootstrap"),
    (["fit", str(SPEC), str(DATA), "--out", "{out}", "--bootstrap", "1000000000"], "--bootstrap"),
    (["simulate", str(SPEC), "--n", "100", "--seed", "-1", "--out", "{out}"], "--seed"),
    (["simulate", str(SPEC), "--n", "100000000", "--seed", "1", "--out", "{out}"], "--n"),
])
def test_cli_bad_options_exit_2_one_line(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    assert main([a.replace("{out}", str(out)) for a in args]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_cs_simulate_stays_a_function_after_the_subpackage_is_imported():
    spec = cs.load_spec(SPEC)
    first = cs.simulate(spec, n=20, seed=1)
    import cluster_sem.simulate.population  # noqa: F401  (the subpackage is importable as before)
    second = cs.simulate(spec, n=20, seed=1)
    assert callable(cs.simulate) and first.equals(second)


def test_fit_problems_are_raised_as_warnings_and_kept_in_results(tmp_path):
    import pandas as pd
    df = pd.read_csv(DATA).head(60)         # fewer cases than free parameters: an admissibility problem
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cs.fit(SPEC, df, timestamp="T")
    raised = [str(w.message) for w in caught if issubclass(w.category, (AdmissibilityWarning, ConvergenceWarning))]
    assert raised and all(any(r == k for k in res.warnings) for r in raised)
    assert any("fewer cases" in r for r in raised)


def test_tiny_estimates_keep_significant_digits():
    from cluster_sem.render.numbers import fmt, fmt_ci
    assert fmt(0.00012) == "0.00012" and fmt(-3.4e-7) == "-3.4e-07"
    assert fmt_ci(-0.00004, 0.00031) == "[-4e-05, 0.00031]"
    assert fmt(0.0) == "0.000" and fmt(0.1234) == "0.123"
