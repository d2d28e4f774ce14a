"""The closed-form population model: hand-computed correlations and a large-n Monte Carlo check."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cluster_sem.errors import SpecError
from cluster_sem.simulate import build_population, implied_correlation, latent_correlation, simulate_continuous
from cluster_sem.simulate.specfile import load_spec_file
from cluster_sem.spec.schema import Spec

ROOT = Path(__file__).resolve().parents[1]
ZHEJIANG = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"


def make_spec(constructs: dict, population: dict, **extra) -> Spec:
    body = {"spec_version": 1, "scale": {"min": 1, "max": 5}, "constructs": constructs, "population": population}
    body.update(extra)
    return Spec.model_validate(body)


def three(prefix: str) -> dict:
    return {"items": [f"{prefix}1", f"{prefix}2", f"{prefix}3"]}


def loads(value: float, *prefixes: str) -> dict:
    return {f"{p}{i}": value for p in prefixes for i in (1, 2, 3)}


def test_one_path_hand_computed():
    spec = make_spec({"X": three("x"), "Y": three("y")},
                     {"loadings": loads(0.8, "x", "y"), "paths": {"Y": {"X": 0.5}}})
    R = implied_correlation(spec)
    assert R.loc["x1", "y1"] == pytest.approx(0.8 * 0.5 * 0.8)
    assert R.loc["x1", "x2"] == pytest.approx(0.64)
    assert R.loc["y2", "y3"] == pytest.approx(0.64)
    assert np.allclose(np.diag(R), 1.0)
    model = build_population(spec)
    assert model.Psi[1, 1] == pytest.approx(1 - 0.25)          # residual variance of Y
    assert model.Theta[0, 0] == pytest.approx(1 - 0.64)


def test_correlated_predictors_residual_is_one_minus_bRb():
    spec = make_spec({"A": three("a"), "B": three("b"), "Y": three("y")},
                     {"loadings": loads(0.7, "a", "b", "y"), "paths": {"Y": {"A": 0.3, "B": 0.4}},
                      "correlations": [{"between": ["A", "B"], "r": 0.4}]})
    model = build_population(spec)
    b = np.array([0.3, 0.4])
    Rab = np.array([[1, 0.4], [0.4, 1]])
    assert model.Psi[2, 2] == pytest.approx(1 - b @ Rab @ b)     # 1 - .346
    L = latent_correlation(spec)
    assert L.loc["Y", "Y"] == pytest.approx(1.0)
    assert L.loc["A", "Y"] == pytest.approx(0.3 + 0.4 * 0.4)
    assert implied_correlation(spec).loc["a1", "y1"] == pytest.approx(0.7 * 0.46 * 0.7)


def test_second_order_and_item_residual_correlation():
    spec = make_spec({"A": three("a"), "B": three("b"), "H": {"dimensions": ["A", "B"]}},
                     {"loadings": loads(0.9, "a", "b"), "dimension_loadings": {"A": 0.8, "B": 0.7},
                      "residual_correlations": [{"between": ["a1", "a2"], "r": 0.25}]})
    R = implied_correlation(spec)
    assert R.loc["a1", "b1"] == pytest.approx(0.9 * 0.8 * 0.7 * 0.9)
    assert R.loc["a2", "a3"] == pytest.approx(0.9 * 0.9)                       # same dimension
    assert R.loc["a1", "a2"] == pytest.approx(0.81 + 0.25 * (1 - 0.81))         # plus residual correlation
    assert build_population(spec).Psi[0, 0] == pytest.approx(1 - 0.64)         # dimension residual 1 - l^2


def test_residual_correlation_between_outcomes():
    spec = make_spec({"X": three("x"), "Y1": three("y"), "Y2": three("z")},
                     {"loadings": loads(0.8, "x", "y", "z"), "paths": {"Y1": {"X": 0.5}, "Y2": {"X": 0.4}},
                      "residual_correlations": [{"between": ["Y1", "Y2"], "r": 0.3}]})
    L = latent_correlation(spec)
    assert L.loc["Y1", "Y2"] == pytest.approx(0.5 * 0.4 + 0.3 * math.sqrt(0.75 * 0.84))


def test_residual_correlation_with_an_ancestor_keeps_unit_variance():
    # X -> M -> Y with Corr(zeta_M, zeta_Y) = .2: Var(Y) = b^2 + psi_Y + 2 b .2 sqrt(psi_M psi_Y) must be 1.
    spec = make_spec({"X": three("x"), "M": three("m"), "Y": three("y")},
                     {"loadings": loads(0.8, "x", "m", "y"), "paths": {"M": {"X": 0.5}, "Y": {"M": 0.6}},
                      "residual_correlations": [{"between": ["M", "Y"], "r": 0.2}]})
    model = build_population(spec)
    psi_m, psi_y = model.Psi[1, 1], model.Psi[2, 2]
    assert 0.36 + psi_y + 2 * 0.6 * 0.2 * math.sqrt(psi_m * psi_y) == pytest.approx(1.0)
    assert np.allclose(np.diag(model.sigma_latent), 1.0)


def test_control_effects():
    spec = make_spec({"X": three("x"), "Y": three("y")},
                     {"loadings": loads(0.8, "x", "y"), "paths": {"Y": {"X": 0.5}},
                      "controls": {"size": {"effects": {"Y": 0.2}}}}, controls=["size"])
    R = implied_correlation(spec)
    assert list(R.columns)[-1] == "size"
    assert R.loc["size", "y1"] == pytest.approx(0.2 * 0.8)
    assert R.loc["size", "x1"] == pytest.approx(0.0)
    assert build_population(spec).Psi[1, 1] == pytest.approx(1 - 0.25 - 0.04)


@pytest.mark.parametrize("population, message", [
    ({"loadings": loads(0.8, "x", "y"), "paths": {"Y": {"X": 1.2}}}, "explain all"),
    ({"loadings": {"x1": 0.8}, "paths": {"Y": {"X": 0.5}}}, "no loading for item 'x2'"),
    ({"loadings": loads(0.8, "x", "y"), "paths": {"Y": {"X": 0.5}, "X": {"Y": 0.2}}}, "cycle"),
    ({"loadings": loads(0.8, "x", "y"), "paths": {"Y": {"Q": 0.5}}}, "'Q' is not a construct"),
    ({"loadings": loads(1.2, "x", "y")}, "strictly between 0 and 1"),
])
def test_inconsistent_population_is_a_spec_error(population, message):
    spec = make_spec({"X": three("x"), "Y": three("y")}, population)
    with pytest.raises(SpecError, match=message):
        build_population(spec)


def test_no_population_section():
    spec = Spec.model_validate({"spec_version": 1, "scale": {"min": 1, "max": 5}, "constructs": {"X": three("x")}})
    with pytest.raises(SpecError, match="population"):
        implied_correlation(spec)


def test_zhejiang_population_matches_study_design():
    spec = load_spec_file(ZHEJIANG)
    L = latent_correlation(spec)
    assert np.allclose(np.diag(L), 1.0)
    assert L.loc["NC", "TS"] == pytest.approx(0.35)
    assert L.loc["NC", "RD"] == pytest.approx(0.40)
    assert L.loc["TS", "RD"] == pytest.approx(0.30)
    model = build_population(spec)
    i = list(model.latent).index
    assert model.B[i("IOL"), i("TS")] == 0.30 and model.B[i("CE"), i("IOL")] == 0.45
    psi = model.Psi
    assert psi[i("CE"), i("CI")] / math.sqrt(psi[i("CE"), i("CE")] * psi[i("CI"), i("CI")]) == pytest.approx(0.30)


def test_large_sample_correlations_match_closed_form():
    """Sample correlations of the continuous draws agree with implied_correlation within 5 SEs
    (SE of r is about (1 - rho^2) / sqrt(n))."""
    spec = load_spec_file(ZHEJIANG)
    n = 200_000
    R = implied_correlation(spec)
    X = simulate_continuous(spec, n, seed=7)
    assert list(X.columns) == list(R.columns)
    S = np.corrcoef(X.to_numpy(), rowvar=False)
    rho = R.to_numpy()
    z = np.abs(S - rho) / ((1 - rho ** 2 + 1e-12) / math.sqrt(n))
    np.fill_diagonal(z, 0.0)
    assert z.max() < 5.0, f"largest standardized deviation {z.max():.2f}"
    assert np.allclose(X.std(ddof=0), 1.0, atol=5 * math.sqrt(2 / n) * 1.5)
