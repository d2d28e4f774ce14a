"""The multigroup / mean-structure core against lavaan 0.6-14 (tests/reference/lavaan_reference_groups.json,
made by make_reference_groups.R): HolzingerSwineford1939 by school (Pasteur = reference group), every
invariance level (group.equal) with its full fit and every parameter row per group, and the structural
two-group model with loadings + intercepts equal.  Tolerances: est/SE/std.all 1e-3, fit indices 0.002,
χ² 0.1 %, AIC/BIC 0.5.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.model.fitted import fit_model
from cluster_sem.model.objective_ml import BatchStats

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference_groups.json").read_text())
OLD = json.loads((REF_DIR / "lavaan_reference.json").read_text())
DATA = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")
MEAS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
STRUCT = MEAS + "\ntextual ~ visual\nspeed ~ visual + textual"
GROUPS = ["Pasteur", "Grant-White"]
LEVELS = {"configural": [], "metric": ["loadings"], "scalar": ["loadings", "intercepts"],
          "strict": ["loadings", "intercepts", "residuals"]}


def check_fit(ours: dict, ref: dict) -> None:
    assert ours["chi2"] == pytest.approx(ref["chisq"], rel=1e-3)
    assert ours["df"] == ref["df"]
    for key in ("cfi", "tli", "rmsea", "srmr"):
        assert ours[key] == pytest.approx(ref[key], abs=0.002), key
    assert ours["rmsea_ci90"][0] == pytest.approx(ref["rmsea.ci.lower"], abs=0.002)
    assert ours["rmsea_ci90"][1] == pytest.approx(ref["rmsea.ci.upper"], abs=0.002)
    for key in ("aic", "bic"):
        assert ours[key] == pytest.approx(ref[key], abs=0.5), key
    assert ours["n"] == ref["ntotal"]


@pytest.fixture(scope="module")
def levels():
    return {name: fit_model(MEAS, DATA, group="school", groups=GROUPS, group_equal=eq)
            for name, eq in LEVELS.items()}


@pytest.mark.parametrize("level", list(LEVELS))
def test_invariance_level_fit_and_rows_match_lavaan(levels, level):
    fit = levels[level]
    ref = REF["invariance_ML"][level]
    assert fit.converged and not fit.problems
    check_fit(fit.fit, ref["fit"])
    P = fit.parameters
    assert len(P) == len(ref["params"])
    for row in ref["params"]:
        match = P[(P.lhs == row["lhs"]) & (P.op == row["op"]) & (P.rhs == row["rhs"])
                  & (P.group == GROUPS[row["group"] - 1])]
        assert len(match) == 1, row
        m = match.iloc[0]
        assert m.est == pytest.approx(row["est"], abs=1e-3), row
        assert m.se == pytest.approx(row["se"], abs=1e-3), row
        assert m.std_all == pytest.approx(row["std.all"], abs=1e-3), row


def test_old_reference_hs_invariance_school(levels):
    for ref, name in zip(OLD["hs_invariance_school"], ["configural", "metric", "scalar"]):
        fit = levels[name].fit
        assert fit["chi2"] == pytest.approx(ref["chisq"], rel=1e-3)
        assert fit["df"] == ref["df"]
        assert fit["cfi"] == pytest.approx(ref["cfi"], abs=0.002)
        assert fit["rmsea"] == pytest.approx(ref["rmsea"], abs=0.002)


def test_structural_two_group_model_matches_lavaan():
    fit = fit_model(STRUCT, DATA, group="school", groups=GROUPS, group_equal=["loadings", "intercepts"])
    check_fit(fit.fit, REF["structural_free"]["fit"])
    P = fit.parameters
    for row in REF["structural_free"]["paths"]:
        m = P[(P.lhs == row["lhs"]) & (P.op == "~") & (P.rhs == row["rhs"])
              & (P.group == GROUPS[row["group"] - 1])].iloc[0]
        assert m.est == pytest.approx(row["est"], abs=1e-3)
        assert m.se == pytest.approx(row["se"], abs=1e-3)
    # equal_rows constrains one path across groups: the LRT equals lavaan's c(g1, g1)* model
    for path, ref in REF["structural_equality_lrt"].items():
        con = fit_model(STRUCT, DATA, group="school", groups=GROUPS, group_equal=["loadings", "intercepts"],
                        equal_rows=[path])
        assert con.fit["df"] - fit.fit["df"] == ref["df"]
        assert con.fit["chi2"] - fit.fit["chi2"] == pytest.approx(ref["chisq"], rel=1e-3, abs=1e-3)


def test_mean_structure_gradient_is_the_derivative_of_F():
    """Analytic gradient of the multigroup ML objective (with regressions and free latent means)."""
    fit = fit_model(STRUCT, DATA, group="school", groups=GROUPS, group_equal=["loadings", "intercepts"])
    batch = BatchStats.single(fit.sample)
    theta = fit.theta + 0.01 * np.random.default_rng(1).standard_normal(len(fit.theta))
    _, grad = fit.objective(theta[None], batch)
    h = 1e-6
    numeric = np.array([(fit.objective((theta + e)[None], batch)[0][0]
                         - fit.objective((theta - e)[None], batch)[0][0]) / (2 * h)
                        for e in np.eye(len(theta)) * h])
    assert np.abs(numeric - grad[0]).max() < 1e-6


def test_single_group_mean_structure_leaves_the_covariance_fit_unchanged():
    plain = fit_model(MEAS, DATA)
    means = fit_model(MEAS, DATA, meanstructure=True)
    assert means.fit["chi2"] == pytest.approx(plain.fit["chi2"], rel=1e-9)
    assert means.fit["df"] == plain.fit["df"]
    P = means.parameters
    x1 = P[(P.lhs == "x1") & (P.op == "~1")].iloc[0]
    assert x1.est == pytest.approx(DATA.x1.mean(), abs=1e-6)
    merged = plain.parameters.merge(P, on=["lhs", "op", "rhs"])
    assert np.allclose(merged.est_x, merged.est_y, atol=1e-6)
