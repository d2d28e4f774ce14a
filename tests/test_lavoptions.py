"""Resolved options (lavaan's lavoptions), the support table and ``--engine semopy``.

* Each estimator resolves to lavaan 0.6's defaults (lav_options_set / lav_options_est_ml / _est_dwls, written
  out below by hand from lavaan's source, not copied from cluster_sem.lavoptions), and the fitters record the
  same ``test``/``information``/``missing`` the resolved options say.
* Unsupported combinations are refused through the CLI with exit 2, one line naming the option and a fix,
  and nothing written; ``fit`` and ``invariance`` give the same WLSMV + FIML line (one table row).
* ``--engine semopy`` with MLR reaches the default engine's optimum (estimates and SEs within 1e-6) and
  lavaan's numbers; with FIML and WLSMV it is refused.  results.json ``meta.engine`` says which ran.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.cli import main
from cluster_sem.errors import ClusterSemError
from cluster_sem.lavoptions import SUPPORT, lav_options, skip_message
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.fitted_casewise import fit_model_casewise

ROOT = Path(__file__).resolve().parents[1]
REF_DIR = ROOT / "tests" / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())
HS_MODEL = REF["hs_cfa"]["model"]
HS_SPEC = ROOT / "tests" / "specs" / "hs_cfa.yaml"
HS_DATA = REF_DIR / "HolzingerSwineford1939.csv"
HS_MISSING = REF_DIR / "HolzingerSwineford1939_missing.csv"
REGIONS_SPEC = ROOT / "tests" / "specs" / "regions_small.yaml"

# lavaan 0.6 defaults: (estimator, missing) → se, test, information, meanstructure, fixed.x, conditional.x
LAVAAN = {
    ("ML", "listwise"): ("standard", "standard", "expected", False, True, False),
    ("MLR", "listwise"): ("robust.huber.white", "yuan.bentler.mplus", "observed", False, True, False),
    ("ML", "fiml"): ("standard", "standard", "observed", True, True, False),
    ("MLR", "fiml"): ("robust.huber.white", "yuan.bentler.mplus", "observed", True, True, False),
    ("WLSMV", "listwise"): ("robust.sem", "scaled.shifted", "expected", True, True, True),
}


@pytest.mark.parametrize("key", list(LAVAAN))
def test_resolved_options_are_lavaans_defaults(key):
    lav = lav_options(*key)
    assert (lav.se, lav.test, lav.information, lav.meanstructure, lav.fixed_x, lav.conditional_x) == LAVAAN[key]
    assert lav.lavaan_missing == {"listwise": "listwise", "fiml": "ml"}[key[1]]
    assert lav.robust == (key[0] != "ML") and lav.ordinal == (key[0] == "WLSMV")


def test_estimator_is_folded_once_and_the_spec_decides_when_absent():
    assert lav_options("mlr").estimator == "MLR"
    assert lav_options(None).estimator == "ML"
    assert lav_options(None, ordinal_spec=True).estimator == "WLSMV"
    assert lav_options("ML", groups=True).meanstructure            # lavaan: groups add a mean structure
    with pytest.raises(ClusterSemError, match=r"--estimator GLS: not known\. Fix: use ML, MLR, WLSMV"):
        lav_options("GLS")


@pytest.mark.parametrize("estimator,missing,data", [("ML", "listwise", HS_DATA), ("MLR", "listwise", HS_DATA),
                                                    ("ML", "fiml", HS_MISSING), ("MLR", "fiml", HS_MISSING)])
def test_fitters_record_what_the_resolved_options_say(estimator, missing, data):
    """The table is not only documentation: the fit the pipeline picks records the same test/information."""
    from cluster_sem.pipeline import FitOptions, _fitter
    options = FitOptions(estimator=estimator, missing=missing)
    lav = options.resolved
    fit = _fitter(options)(HS_MODEL, pd.read_csv(data))
    assert (fit.test_name, fit.information, fit.missing) == (lav.test, lav.information, lav.lavaan_missing)


def test_wlsmv_fit_records_what_the_resolved_options_say():
    from cluster_sem.model.ordinal.fit import fit_model_wlsmv
    data = pd.read_csv(REF_DIR / "HolzingerSwineford1939_ordinal.csv")
    fit = fit_model_wlsmv(HS_MODEL, data, [f"x{i}" for i in range(1, 10)])
    lav = lav_options("WLSMV")
    assert (fit.test_name, fit.information, fit.estimator) == (lav.test, lav.information, lav.estimator)


def test_every_refusal_row_is_one_line_with_a_fix():
    for row in SUPPORT:
        assert row.verdict in ("refuse", "skip")
        assert "\n" not in row.message and "Fix:" in row.message and row.message.startswith(("--", "latent", "{design}"))


def test_interaction_skip_message_comes_from_the_table():
    assert skip_message(lav_options("ML"), names="IOLxDF") is None
    text = skip_message(lav_options("MLR"), names="IOLxDF")
    assert text.startswith("latent interactions (IOLxDF) not estimated") and "--estimator MLR" in text


# -- refusals through the command line ------------------------------------------------------------------

def _refused(capsys, args: list[str], out: Path, *needles: str) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not out.exists()
    return err.split("error: ", 1)[1]


@pytest.mark.parametrize("extra,needles", [
    (["--estimator", "WLSMV", "--missing", "fiml"], ("--estimator WLSMV with --missing fiml", "Fix: ")),
    (["--estimator", "WLSMV", "--engine", "semopy"], ("--engine semopy with --estimator WLSMV", "Fix: drop")),
    (["--missing", "fiml", "--engine", "semopy"], ("--engine semopy with --missing fiml", "Fix: drop")),
    (["--estimator", "MLR", "--missing", "fiml", "--engine", "semopy"], ("--engine semopy with --missing fiml",)),
], ids=["wlsmv-fiml", "semopy-wlsmv", "semopy-fiml", "semopy-mlr-fiml"])
def test_unsupported_fit_combinations_exit_2_in_one_line(capsys, tmp_path, extra, needles):
    out = tmp_path / "out"
    _refused(capsys, ["fit", str(HS_SPEC), str(HS_MISSING), "--out", str(out)] + extra, out, *needles)


def test_ordinal_spec_with_fiml_is_refused_without_naming_an_estimator(capsys, tmp_path):
    """``ordinal: true`` makes WLSMV the estimator; --missing fiml is then the same refused combination."""
    out = tmp_path / "out"
    _refused(capsys, ["fit", str(ROOT / "tests" / "specs" / "hs_ordinal.yaml"),
                      str(REF_DIR / "HolzingerSwineford1939_ordinal.csv"), "--out", str(out), "--missing", "fiml"],
             out, "--estimator WLSMV with --missing fiml")


def test_fit_and_invariance_refuse_wlsmv_fiml_with_the_same_line(capsys, tmp_path):
    out = tmp_path / "out"
    fit_line = _refused(capsys, ["fit", str(HS_SPEC), str(HS_MISSING), "--out", str(out), "--estimator", "WLSMV",
                                 "--missing", "fiml"], out)
    inv_line = _refused(capsys, ["invariance", str(REGIONS_SPEC), str(HS_MISSING), "--out", str(out),
                                 "--estimator", "WLSMV", "--missing", "fiml"], out)
    assert fit_line == inv_line


def test_fit_help_lists_real_estimators_and_helps_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = capsys.readouterr().out
    assert "--estimator {ML,MLR,WLSMV}" in text and "None" not in text
    parser_actions = _fit_actions()
    assert [a.dest for a in parser_actions if not a.help] == []


def _fit_actions():
    from cluster_sem.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices["fit"]._actions


def test_power_refuses_wlsmv_from_the_table():
    from cluster_sem.power import PowerOptions, check_options
    with pytest.raises(ClusterSemError, match="power supports ML and MLR"):
        check_options(PowerOptions(sizes=(100,), estimator="wlsmv"))


# -- --engine semopy --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlr_default():
    return fit_model_casewise(HS_MODEL, pd.read_csv(HS_DATA), missing="listwise", estimator="MLR")


@pytest.fixture(scope="module")
def mlr_semopy():
    return fit_model_casewise(HS_MODEL, pd.read_csv(HS_DATA), missing="listwise", estimator="MLR", engine="semopy")


def test_semopy_engine_mlr_reaches_the_default_optimum(mlr_default, mlr_semopy):
    """Same optimum from semopy's start: estimates, robust SEs and std.all within 1e-6, χ² within 1e-9."""
    assert "semopy (MLW) start" in mlr_semopy.start_note and "EM start" in mlr_default.start_note
    cols = ["est", "se", "std_all"]
    diff = np.abs(mlr_default.parameters[cols].to_numpy(float) - mlr_semopy.parameters[cols].to_numpy(float))
    assert np.nanmax(diff) < 1e-6
    for key in ("chi2", "chi2_scaled", "cfi_robust", "rmsea_robust"):
        assert mlr_semopy.fit[key] == pytest.approx(mlr_default.fit[key], rel=1e-9), key


def test_semopy_engine_mlr_matches_lavaan(mlr_semopy):
    """lavaan 0.6-14 ``cfa(HS.model, estimator = "MLR")``: estimates and robust SEs within 1e-3."""
    P = mlr_semopy.parameters
    for r in REF["hs_mlr"]["params"]:
        m = P[(P.lhs == r["lhs"]) & (P.op == r["op"]) & (P.rhs == r["rhs"])].iloc[0]
        assert m["est"] == pytest.approx(r["est"], abs=1e-3) and m["se"] == pytest.approx(r["se"], abs=1e-3), r


def test_semopys_fiml_does_not_reproduce_lavaan():
    """Why --engine semopy --missing fiml is refused: semopy 2.3's FIML loading of x2 on the missing-data
    Holzinger–Swineford data is far from lavaan's missing = "ml" value (0.572).  If semopy fixes this,
    this test fails: the refusal row in cluster_sem.lavoptions.SUPPORT can then go."""
    semopy = pytest.importorskip("semopy")
    data = pd.read_csv(HS_MISSING)[[f"x{i}" for i in range(1, 10)]]
    model = semopy.Model(HS_MODEL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data, obj="FIML")
    est = model.inspect(std_est=False)
    semopy_x2 = float(est[(est.lval == "x2") & (est.op == "~") & (est.rval == "visual")]["Estimate"].iloc[0])
    lavaan_x2 = next(r["est"] for r in REF["hs_fiml"]["params"] if r["op"] == "=~" and r["rhs"] == "x2")
    assert abs(semopy_x2 - lavaan_x2) > 0.1


def _meta(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))["meta"]


def test_meta_engine_is_written(tmp_path):
    base = ["fit", str(HS_SPEC), str(HS_DATA), "--quiet", "--estimator", "MLR"]
    assert main(base + ["--out", str(tmp_path / "a")]) == 0
    assert main(base + ["--out", str(tmp_path / "b"), "--engine", "semopy"]) == 0
    a, b = _meta(tmp_path / "a"), _meta(tmp_path / "b")
    assert (a["engine"], b["engine"]) == ("cluster-sem", "semopy")
    assert (a["estimator"], a["test"], a["information"]) == ("MLR", "yuan.bentler.mplus", "observed")


def test_invariance_meta_engine_is_written(tmp_path):
    from cluster_sem.invariance import run_invariance
    from cluster_sem.simulate import simulate
    from cluster_sem.spec import load_spec
    data = simulate(load_spec(REGIONS_SPEC), n=400, seed=7)
    doc = run_invariance(REGIONS_SPEC, data, timestamp="T").to_dict()
    assert doc["meta"]["engine"] == "cluster-sem"


@pytest.mark.parametrize("kwargs, words", [
    ({"estimator": "WLSMV", "design": "--weights"}, "--weights with --estimator WLSMV"),
    ({"estimator": "WLSMV", "design": "--cluster", "bootstrap": True, "cluster_bootstrap": True},
     "--cluster with --estimator WLSMV and --bootstrap"),
    ({"estimator": "WLSMV", "design": "--cluster", "bootstrap": True},
     "--cluster with --estimator WLSMV and --bootstrap"),
    ({"estimator": "MLR", "design": "--weights", "bootstrap": True}, "--weights with --bootstrap"),
    ({"estimator": "MLR", "engine": "semopy", "design": "--cluster"}, "--engine semopy with --cluster"),
])
def test_complex_sample_refusals_come_from_the_table(kwargs, words):
    with pytest.raises(ClusterSemError, match=words):
        lav_options(**kwargs)


def test_complex_sample_skips_interactions_and_leaves_the_covariance_core():
    lav = lav_options("ML", design="--cluster", interaction=True)
    assert not lav.complete_ml and lav.casewise
    assert "ignore clusters" in skip_message(lav, names="IOLxDF")


@pytest.mark.parametrize("estimator, missing, words", [
    ("ML", "listwise", "expected information SEs"),
    ("ML", "fiml", "observed information SEs"),
    ("MLR", "listwise", "Yuan-Bentler"),
    ("MLR", "fiml", "FIML-corrected"),
    ("WLSMV", "listwise", "scaled-shifted"),
])
def test_meta_conventions_name_the_estimator_and_missing_method(estimator, missing, words):
    from cluster_sem.pipeline import conventions
    text = conventions(lav_options(estimator, missing))
    assert words in text and text.startswith(f"lavaan 0.6 ({estimator}")
    if missing == "fiml":
        assert 'missing = "ml"' in text


def test_every_invariance_estimator_has_its_own_conventions_text():
    from cluster_sem.invariance.document import CONVENTIONS
    from cluster_sem.lavoptions import ESTIMATORS
    assert set(CONVENTIONS) == set(ESTIMATORS)
    assert all(f"({est}" in CONVENTIONS[est] for est in ESTIMATORS)
