"""Two-level SEM (lavaan ``level: 1`` / ``level: 2``, ML) against lavaan 0.6-14
(tests/reference/design/design_reference.json ``twolevel``, made by make_reference_design.R):
Demo.twolevel, 2,500 rows in 200 clusters, a within factor regressed on three within-only covariates and a
between factor regressed on two between-only covariates (both fixed.x).

Tolerances: SEs 1e-4 relative, fit keys 1e-6 relative, ICCs 1e-9 absolute, except as follows, each for a
measured reason.  lavaan's nlminb stops with logl 1.4e-6 below the maximum we reach (our logl is the higher
one), and the likelihood is flat enough that its estimates sit up to 1.1e-4 from the optimum (the between
intercepts; 1.4e-3 of their SE).  So estimates and std.all are compared to 2e-4 absolute, SRMR (first-order
in the between loadings) to 3e-4 relative, and separately *at lavaan's own estimates* every fit key and
every SE are compared tighter still (1e-9 and 1e-6 relative): there the log-likelihood agrees to 1e-15.
RMSEA's CI bound is 1e-5 relative everywhere: lavaan finds it with uniroot's default tolerance (1.2e-4 in
the non-centrality).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.errors import DataError, FitError
from cluster_sem.model.twolevel import fit_measures_at, fit_twolevel, observed_information, split_levels

DESIGN = Path(__file__).parent / "reference" / "design"
REF = json.loads((DESIGN / "design_reference.json").read_text())["twolevel"]
DATA = pd.read_csv(DESIGN / "demo_twolevel.csv")
EST_ABS, SE_REL, FIT_REL = 2e-4, 1e-4, 1e-6
LOOSER = {"rmsea.ci.upper": 1e-5}


@pytest.fixture(scope="module")
def fit():
    return fit_twolevel(REF["model"], DATA, cluster=REF["cluster"])


def _key(row) -> tuple:
    return row["lhs"], row["op"], row["rhs"], int(row["level"])


def _lavaan_theta(fit) -> np.ndarray:
    """lavaan's printed estimates as our free-parameter vector."""
    ref = {_key(r): r["est"] for r in REF["ml"]["params"]}
    theta = np.full(fit.model.n_free, np.nan)
    for level in fit.model.levels:
        for p in level.rows():
            if p.free >= 0:
                theta[p.free] = ref[(p.lhs, p.op, p.rhs, level.number)]
    assert not np.isnan(theta).any()
    return theta


def _ours(fit_dict: dict, key: str) -> float:
    if key.startswith("rmsea.ci."):
        return fit_dict["rmsea_ci90"][0 if key.endswith("lower") else 1]
    return fit_dict[{"chisq": "chi2", "ntotal": "n", "logl": "loglik"}.get(key, key)]


def _check_fit(fit_dict: dict, looser: dict, rel: float = FIT_REL) -> dict:
    bad = {}
    for key, value in REF["ml"]["fit"].items():
        mine = _ours(fit_dict, key)
        if key in ("npar", "df", "ntotal"):
            ok = mine == value
        elif value == 0:
            ok = abs(mine) < 1e-12
        else:
            ok = mine == pytest.approx(value, rel=looser.get(key, rel))
        if not ok:
            bad[key] = (mine, value)
    return bad


def test_every_parameter_row(fit):
    assert fit.converged
    table = {(r.lhs, r.op, r.rhs, r.level): r for r in fit.parameters.itertuples()}
    assert len(table) == len(REF["ml"]["params"]) == len(fit.parameters)
    for ref in REF["ml"]["params"]:
        mine = table[_key(ref)]
        assert mine.est == pytest.approx(ref["est"], abs=EST_ABS), ref
        assert mine.std_all == pytest.approx(ref["std.all"], abs=EST_ABS), ref
        if ref["se"]:
            assert mine.se == pytest.approx(ref["se"], rel=SE_REL), ref
            # z moves with the estimate: 1.1e-4 / SE 0.075 = 1.4e-3 for the between intercepts
            assert mine.z == pytest.approx(ref["z"], rel=1e-3, abs=2e-3), ref
        else:
            assert mine.se == 0 and pd.isna(mine.z)


def test_fixed_x_rows_are_lavaans_sample_moments_exactly(fit):
    """Within covariates take the total covariance (/N) and grand means, between covariates the covariance
    (/J) and mean of the cluster means: lavaan's fixed.x values, to rounding."""
    table = {(r.lhs, r.op, r.rhs, r.level): r.est for r in fit.parameters.itertuples()}
    for ref in REF["ml"]["params"]:
        if ref["lhs"][0] in "xw" and ref["op"] in ("~~", "~1"):
            assert table[_key(ref)] == pytest.approx(ref["est"], abs=1e-10), ref


def test_our_optimum_is_at_least_lavaans(fit):
    """The estimate gap is lavaan's convergence, not a different likelihood: ours is higher (by ~1e-6)."""
    assert fit.fit["loglik"] >= REF["ml"]["fit"]["logl"]
    assert fit.fit["loglik"] - REF["ml"]["fit"]["logl"] < 1e-5


def test_every_fit_key(fit):
    assert not _check_fit(fit.fit, {**LOOSER, "srmr": 3e-4})
    assert fit.fit["srmr"] == pytest.approx(fit.fit["srmr_within"] + fit.fit["srmr_between"], rel=1e-12)


def test_fit_keys_at_lavaans_estimates_are_strict(fit):
    at = fit_measures_at(fit, _lavaan_theta(fit))
    assert at["loglik"] == pytest.approx(REF["ml"]["fit"]["logl"], rel=1e-12)
    assert not _check_fit(at, LOOSER, rel=1e-9)     # measured ≤ 5e-12


def test_standard_errors_at_lavaans_estimates(fit):
    theta = _lavaan_theta(fit)
    se = np.sqrt(np.diag(np.linalg.inv(observed_information(fit, theta))))
    ref = {_key(r): r["se"] for r in REF["ml"]["params"]}
    for level in fit.model.levels:
        for p in level.rows():
            if p.free >= 0:
                # measured 4.6e-8: lavaan prints SEs from the same numerical derivative of its gradient
                assert se[p.free] == pytest.approx(ref[(p.lhs, p.op, p.rhs, level.number)], rel=1e-6), p


def test_icc_is_lavinspect(fit):
    assert fit.icc.keys() == REF["icc"].keys()
    for name, value in REF["icc"].items():
        assert fit.icc[name] == pytest.approx(value, abs=1e-9), name


def test_cluster_order_and_row_order_do_not_matter(fit):
    """Clusters are grouped by size, not by label or position: shuffling rows and relabelling clusters
    gives the same solution."""
    shuffled = DATA.sample(frac=1.0, random_state=3).assign(cluster=lambda d: "c" + (d["cluster"] * 7).astype(str))
    other = fit_twolevel(REF["model"], shuffled, cluster="cluster")
    assert other.fit["loglik"] == pytest.approx(fit.fit["loglik"], rel=1e-12)
    np.testing.assert_allclose(other.theta, fit.theta, atol=1e-7)


@pytest.mark.parametrize("syntax, message", [
    ("f =~ y1 + y2 + y3", "before the first 'level:'"),
    ("level: 1\nf =~ y1 + y2 + y3", "no statements for level 2"),
    ("level: 1\nf =~ y1 + y2\nlevel: 1\ng =~ y3", "given twice"),
    ("level: 3\nf =~ y1 + y2", "unknown level"),
])
def test_bad_level_syntax_is_refused_in_one_line(syntax, message):
    with pytest.raises(FitError, match=message):
        split_levels(syntax)


def test_defined_parameters_and_missing_columns_are_refused():
    with pytest.raises(FitError, match=":="):
        fit_twolevel("level: 1\nf =~ y1 + a*y2 + y3\nlevel: 2\ng =~ y1 + y2 + y3\nd := 2*a", DATA, cluster="cluster")
    with pytest.raises(DataError, match="'nope'"):
        fit_twolevel(REF["model"], DATA, cluster="nope")


def test_analytic_gradient_is_the_likelihoods_slope(fit):
    """The chained analytic gradient (what BFGS, Newton and the observed information use) against central
    differences of the log-likelihood itself, away from the optimum."""
    model = fit.model
    theta = fit.theta + np.linspace(-0.05, 0.05, len(fit.theta))
    numeric = np.empty(len(theta))
    for k in range(len(theta)):
        step = np.zeros(len(theta))
        step[k] = 1e-5
        numeric[k] = (model.loglik(theta + step) - model.loglik(theta - step)) / 2e-5
    np.testing.assert_allclose(model.gradient(theta), numeric, rtol=1e-6, atol=1e-4)


def test_a_saturated_two_level_model_reaches_the_em_saturated_loglik():
    """Saturated at both levels (free regressions on the fixed.x covariates, free residual covariances): the
    ML fit is the h1 model, so df = 0 and its logl is the EM's (which stops within its 1e-4 rule)."""
    syntax = """level: 1
    y1 ~ x1 + x2 + x3
    y2 ~ x1 + x2 + x3
    y3 ~ x1 + x2 + x3
    level: 2
    y1 ~ w1 + w2
    y2 ~ w1 + w2
    y3 ~ w1 + w2
    y1 ~~ y2 + y3
    y2 ~~ y3"""
    sat = fit_twolevel(syntax, DATA, cluster="cluster")
    assert sat.converged and sat.fit["df"] == 0 and sat.fit["npar"] == 30
    assert sat.fit["loglik"] >= sat.saturated.logl
    assert sat.fit["loglik"] - sat.saturated.logl < 1e-3
    assert sat.fit["chi2"] == 0.0
