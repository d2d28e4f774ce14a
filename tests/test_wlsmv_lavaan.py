"""WLSMV on ordinal HolzingerSwineford1939 (4 categories) against lavaan 0.6-14 (``hs_wlsmv``), and the
polychoric machinery against independent computations (scipy's bivariate normal, brute-force likelihood)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.stats import multivariate_normal, norm

from cluster_sem.model.ordinal.bvn import Phi2
from cluster_sem.model.ordinal.fit import fit_model_wlsmv
from cluster_sem.model.ordinal.samplestats import ordinal_stats

REF = Path(__file__).parent / "reference"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs_fit():
    data = pd.read_csv(REF / "HolzingerSwineford1939_ordinal.csv")
    return fit_model_wlsmv(HS, data)


@pytest.fixture(scope="module")
def lavaan():
    return json.loads((REF / "lavaan_reference.json").read_text())["hs_wlsmv"]


def test_parameters_match_lavaan(hs_fit, lavaan):
    P = hs_fit.parameters
    checked = 0
    for ref in lavaan["params"]:
        if ref["op"] in ("~*~", "~1"):
            continue  # scale factors (fixed 1) and zero intercepts/means are not reported rows
        row = P[(P.lhs == ref["lhs"]) & (P.op == ref["op"]) & (P.rhs == ref["rhs"])]
        assert len(row) == 1, (ref["lhs"], ref["op"], ref["rhs"])
        row = row.iloc[0]
        assert row.est == pytest.approx(ref["est"], abs=1e-3)
        assert row.se == pytest.approx(ref["se"], abs=1e-3)
        assert row.std_all == pytest.approx(ref["std.all"], abs=1e-3)
        checked += 1
    assert checked == 9 + 27 + 9 + 6
    assert (P.op == "|").sum() == 27


def test_scaled_fit_matches_lavaan(hs_fit, lavaan):
    ref, fit = lavaan["fit"], hs_fit.fit
    assert fit["chi2_scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-3)
    assert fit["df_scaled"] == ref["df.scaled"]
    assert fit["pvalue_scaled"] == pytest.approx(ref["pvalue.scaled"], rel=1e-3)
    for ours, theirs in (("cfi_scaled", "cfi.scaled"), ("tli_scaled", "tli.scaled"),
                         ("rmsea_scaled", "rmsea.scaled"), ("srmr", "srmr")):
        assert fit[ours] == pytest.approx(ref[theirs], abs=0.002)
    assert hs_fit.converged


def test_bivariate_normal_cdf_against_scipy():
    rng = np.random.default_rng(7)
    for r in (-0.97, -0.6, 0.0, 0.3, 0.93, 0.99):
        h, k = rng.normal(size=12) * 1.5, rng.normal(size=12) * 1.5
        ref = [multivariate_normal([0, 0], [[1, r], [r, 1]], abseps=1e-12, releps=1e-12).cdf([a, b])
               for a, b in zip(h, k)]
        np.testing.assert_allclose(Phi2(h, k, np.full(12, r)), ref, atol=1e-10)
    # infinite bounds (first/last category): closed forms
    inf = np.inf
    got = Phi2(np.array([inf, -inf, 0.3, inf]), np.array([0.4, 0.2, inf, -inf]), np.full(4, 0.6))
    np.testing.assert_allclose(got, [norm.cdf(0.4), 0.0, norm.cdf(0.3), 0.0], atol=1e-15)


def _brute_force_polychoric(table: np.ndarray) -> float:
    """Two-step ML by scipy: thresholds from the margins, cell probabilities by scipy's bivariate normal."""
    n = table.sum()
    t1 = norm.ppf(np.cumsum(table.sum(1))[:-1] / n)
    t2 = norm.ppf(np.cumsum(table.sum(0))[:-1] / n)
    b1 = np.r_[-10, t1, 10]
    b2 = np.r_[-10, t2, 10]

    def negll(rho):
        mvn = multivariate_normal([0, 0], [[1, rho], [rho, 1]], abseps=1e-12, releps=1e-12)
        F = np.array([[mvn.cdf([a, b]) for b in b2] for a in b1])
        pi = F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]
        return -(table * np.log(np.maximum(pi, 1e-300))).sum()

    return optimize.minimize_scalar(negll, bounds=(-0.99, 0.99), method="bounded",
                                    options={"xatol": 1e-9}).x


def test_polychoric_against_brute_force_likelihood():
    # a small 3×4 table with one empty cell, typed by hand
    table = np.array([[12, 6, 3, 0], [5, 14, 9, 4], [1, 4, 11, 16]])
    rows = [(i, j) for i in range(3) for j in range(4) for _ in range(table[i, j])]
    frame = pd.DataFrame(rows, columns=["a", "b"]) + 1
    st = ordinal_stats(frame, ["a", "b"])
    assert st.correlation[0, 1] == pytest.approx(_brute_force_polychoric(table), abs=1e-6)
    # thresholds: probit of the cumulative margins
    np.testing.assert_allclose(st.thresholds[:2], norm.ppf(np.cumsum(table.sum(1))[:-1] / table.sum()))
