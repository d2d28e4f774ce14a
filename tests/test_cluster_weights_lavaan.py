"""Cluster-robust SEs and test (lavaan ``cluster=``) and sampling weights (``sampling.weights=``) against
lavaan 0.6-14 (tests/reference/design/design_reference.json ``cluster`` and ``weights``, made by
make_reference_design.R).

* ``cluster``: lavaan's Demo.twolevel (2,500 rows, 200 clusters), a single-level model with two controls
  (x1, x2: fixed.x) and ``ind := a``: naive ML, MLR + cluster, ML + cluster (lavaan then reports the
  standard and the scaled test, the latter with the "h1" observed information), FIML + MLR + cluster.
* ``weights``: HolzingerSwineford1939 with design weights ``w``: unweighted ML, weighted MLR, weighted ML
  (lavaan makes it robust), weighted MLR with the 2 schools as clusters.

Every fit key lavaan reports and every parameter row (est, SE, std.all; the ``:=`` effect's delta-method SE
comes from the cluster-robust vcov) is compared, through ``fit_model_casewise`` (the pipeline's fitter) and
``fit_model(cluster=, weights=)``.

Tolerances: estimates and std.all 1e-5 absolute, SEs 1e-4 relative, fit keys 1e-6 relative, except
``LOOSER``: the scaled χ² and its scaling factor (and a p-value in the far tail) move first-order with how
far lavaan's optimiser converged (its estimates sit up to 4e-6 from the optimum we reach); evaluated at
lavaan's own printed estimates they agree to 1e-8 (``test_robust_statistics_at_lavaans_own_solution``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.errors import FitError
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.fitted_casewise import fit_model_casewise
from test_controls_lavaan import _lavaan_phi, fit_mismatches, parameter_mismatches   # shared with the controls tests

DESIGN = Path(__file__).parent / "reference" / "design"
REFERENCE = json.loads((DESIGN / "design_reference.json").read_text())
DATA = {"demo_twolevel.csv": pd.read_csv(DESIGN / "demo_twolevel.csv"),
        "demo_twolevel_missing.csv": pd.read_csv(DESIGN / "demo_twolevel_missing.csv"),
        "hs_weights.csv": pd.read_csv(DESIGN / "hs_weights.csv")}

EST_ABS, SE_REL, FIT_REL = 1e-5, 1e-4, 1e-6
LOOSER = {"chisq.scaled": 5e-6, "chisq.scaling.factor": 5e-6, "pvalue.scaled": 1e-5}

# reference entry → (section, data file, estimator, missing, cluster column, weights column)
CASES = {
    "ml_naive": ("cluster", "demo_twolevel.csv", "ML", "listwise", None, None),
    "mlr_cluster": ("cluster", "demo_twolevel.csv", "MLR", "listwise", "cluster", None),
    "ml_cluster": ("cluster", "demo_twolevel.csv", "ML", "listwise", "cluster", None),
    "fiml_mlr_cluster": ("cluster", "demo_twolevel_missing.csv", "MLR", "fiml", "cluster", None),
    "ml_unweighted": ("weights", "hs_weights.csv", "ML", "listwise", None, None),
    "mlr_weighted": ("weights", "hs_weights.csv", "MLR", "listwise", None, "w"),
    "ml_weighted": ("weights", "hs_weights.csv", "ML", "listwise", None, "w"),
    "mlr_weighted_cluster": ("weights", "hs_weights.csv", "MLR", "listwise", "school", "w"),
}
ROUTES = ("casewise", "fit_model")


def _fit(name: str, route: str):
    section, file, estimator, missing, cluster, weights = CASES[name]
    model = REFERENCE[section]["model"]
    if route == "casewise" and (cluster or weights or estimator == "MLR"):
        return fit_model_casewise(model, DATA[file], missing=missing, estimator=estimator, cluster=cluster,
                                  weights=weights)
    return fit_model(model, DATA[file], missing=missing, estimator=estimator, cluster=cluster, weights=weights)


@pytest.fixture(scope="module", params=[(n, r) for n in CASES for r in ROUTES], ids=lambda c: f"{c[0]}-{c[1]}")
def case(request):
    name, route = request.param
    return name, _fit(name, route)


def _reference(name: str) -> dict:
    return REFERENCE[CASES[name][0]][name]


def test_every_fit_key(case):
    name, fit = case
    assert fit.converged
    bad = fit_mismatches(fit, _reference(name)["fit"], LOOSER)
    assert not bad, bad


def test_every_parameter_row(case):
    """est/std.all 1e-5 absolute and SE 1e-4 relative (the tolerances of the controls tests)."""
    name, fit = case
    bad = parameter_mismatches(fit, _reference(name)["params"])
    assert not bad, bad


def test_cluster_robust_ses_are_larger_than_naive():
    """The point of the exercise: on Demo.twolevel (ICC ≈ .2–.3) the structural path's cluster-robust SE is
    2.7 times the naive one (lavaan: .0612 vs .0231), and the estimates do not change."""
    naive, robust = _fit("ml_naive", "fit_model"), _fit("mlr_cluster", "casewise")
    a = ("g", "~", "f")
    pn, pr = naive.parameters.set_index(["lhs", "op", "rhs"]), robust.parameters.set_index(["lhs", "op", "rhs"])
    assert pr.loc[a, "est"] == pytest.approx(pn.loc[a, "est"], abs=1e-6)
    assert pr.loc[a, "se"] / pn.loc[a, "se"] == pytest.approx(0.061179163828 / 0.02305904122, rel=1e-4)
    assert robust.design.se_name == "robust.cluster" and robust.design.n_clusters == 200


@pytest.mark.parametrize("name", ["mlr_cluster", "ml_cluster", "mlr_weighted", "mlr_weighted_cluster"])
def test_robust_statistics_at_lavaans_own_solution(name):
    """Why ``LOOSER`` is convergence, not arithmetic: at lavaan's printed estimates the scaled χ², its scaling
    factor, robust CFI/TLI/RMSEA, SRMR and every SE are lavaan's to 1e-7 (measured ≤ 1.2e-10 for the test,
    ≤ 1e-8 for SEs)."""
    from cluster_sem.model.casewise import CasewiseModel
    from cluster_sem.model.design import SampleDesign
    from cluster_sem.model.fiml import h1_observed_information
    from cluster_sem.model.fitted_casewise import _fit_measures, _robust_measures
    from cluster_sem.model.missing import Patterns, em_moments
    from cluster_sem.model.robust import first_order, sandwich
    section, file, estimator, _, cluster, weights = CASES[name]
    data = DATA[file]
    fit = _fit(name, "casewise")
    mm, pt = fit.matrix_model, fit.partable
    design = SampleDesign.from_frame(data, cluster=cluster, weights=weights)
    pats = Patterns.from_array(data[list(mm.ov)].to_numpy(dtype=float), design.weights)
    h1 = em_moments(pats)
    x_index = [mm.ov.index(v) for v in pt.variables.ov_x]
    means = design.clustered
    free_mu = np.array([j for j in range(mm.p) if j not in x_index]) if means else np.zeros(0, dtype=int)
    model = CasewiseModel(mm, pats, h1.cov, h1.mean.copy(), free_mu)
    phi = _lavaan_phi(fit, model, _reference(name)["params"])
    ll, _ = model.value_gradient(phi)
    stats = _fit_measures(pt, mm, pats, h1, model, phi, ll, x_index, means)
    info = -model.hessian(phi) / pats.n
    e_test = info
    if estimator == "ML":
        d = model.delta(phi, means=True)
        e_test = d.T @ h1_observed_information(pats, *model.moments(phi), means=True) @ d
    scores = model.scores(phi)
    stats.update(_robust_measures(pt, mm, pats, h1, model, phi, e_test, first_order(scores, design.cluster), stats,
                                  x_index, means, design.cluster))
    ref = _reference(name)["fit"]
    for key in ("chisq.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust", "rmsea.robust", "srmr"):
        assert stats[key.replace("chisq", "chi2").replace(".", "_")] == pytest.approx(ref[key], rel=1e-7), key
    se = np.sqrt(np.diag(sandwich(info, scores, design.cluster)))
    rows = {(r["lhs"], r["op"], r["rhs"]): r["se"] for r in _reference(name)["params"]}
    for prm in pt.params:
        if prm.free >= 0:
            assert se[prm.free] == pytest.approx(rows[(prm.lhs, prm.op, prm.rhs)], rel=1e-7), prm


def test_weights_are_normalised_to_n():
    """lavaan's ``sampling.weights.normalization = "total"``: only relative weights matter — scaling every
    weight by 10 changes nothing, and the weighted log-likelihood has the size of an n-case sample."""
    data = DATA["hs_weights.csv"].assign(w10=lambda d: d.w * 10)
    model = REFERENCE["weights"]["model"]
    a = fit_model_casewise(model, data, missing="listwise", estimator="MLR", weights="w")
    b = fit_model_casewise(model, data, missing="listwise", estimator="MLR", weights="w10")
    assert a.design.weights.sum() == pytest.approx(len(data))
    assert b.fit["loglik"] == pytest.approx(a.fit["loglik"], rel=1e-12)
    assert np.allclose(a.parameters["se"], b.parameters["se"], rtol=1e-9)


@pytest.mark.parametrize("column,value,message", [
    ("w", 0.0, "weights column 'w' must hold positive finite numbers"),
    ("w", np.nan, "weights column 'w' must hold positive finite numbers"),
    ("school", None, "cluster column 'school' has 1 blank cell"),
])
def test_bad_design_columns_are_refused(column, value, message):
    data = DATA["hs_weights.csv"].copy()
    data[column] = data[column].astype(object)
    data.loc[3, column] = value
    with pytest.raises(FitError, match=message):
        fit_model_casewise(REFERENCE["weights"]["model"], data, missing="listwise", estimator="MLR",
                           cluster="school", weights="w")


def test_weighted_fiml_equals_fiml_on_repeated_rows():
    """FIML with sampling weights (no lavaan reference here): weights 2 and 1 give the estimates of the data
    with the weight-2 rows written twice, and the same χ² per case — the weighted EM moments, pattern sums
    and log-likelihood are the duplicated data's."""
    data = DATA["demo_twolevel_missing.csv"].iloc[:600].copy()
    w = np.where(np.arange(len(data)) % 3 == 0, 2.0, 1.0)
    data["w"] = w
    repeated = pd.concat([data, data[w == 2]]).reset_index(drop=True)
    model = REFERENCE["cluster"]["model"]
    weighted = fit_model_casewise(model, data, missing="fiml", estimator="MLR", weights="w")
    plain = fit_model_casewise(model, repeated, missing="fiml", estimator="MLR")
    assert np.allclose(weighted.parameters["est"], plain.parameters["est"], atol=1e-9, rtol=0)
    assert weighted.fit["chi2"] / len(data) == pytest.approx(plain.fit["chi2"] / len(repeated), rel=1e-9)


def test_groups_with_weights_are_refused_in_one_line():
    """Multigroup weighted fits are not implemented: refused, not silently fitted unweighted (multigroup
    clusters are, tests/test_groups_cluster.py)."""
    with pytest.raises(FitError, match="sampling weights with analysis groups are not supported"):
        fit_model(REFERENCE["weights"]["model"], DATA["hs_weights.csv"], group="school", weights="w")
