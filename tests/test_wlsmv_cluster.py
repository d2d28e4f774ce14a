"""WLSMV with a cluster column (lavaan ``cluster=`` + ``estimator = "WLSMV"``, se "robust.cluster.sem").

lavaan (``muthen1984`` → ``WLS.W.cluster``; ``lav_samplestats``: NACOV = N · WLS.W.cluster · G/(G − 1)) sums the
casewise scores of the thresholds and polychorics within clusters before the outer product and keeps the
DWLS weights of the i.i.d. Γ.  No lavaan output exists for this here (no R), so the checks are identities:
clusters of one case reproduce the unclustered fit with Γ times N/(N − 1); the estimates never change; a
clustered sample (ICC ≈ .2) gives larger SEs; the scaled-shifted test uses the cluster-robust Γ.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.cli import main
from cluster_sem.model.ordinal.fit import fit_model_wlsmv
from cluster_sem.model.ordinal.acov import casewise
from cluster_sem.model.ordinal.samplestats import ordinal_stats, two_step
from cluster_sem.results.design import icc1

ROOT = Path(__file__).resolve().parents[1]
SYNTAX = "F =~ y1 + y2 + y3 + y4"
ITEMS = ["y1", "y2", "y3", "y4"]


def clustered_ordinal(n_clusters: int = 60, size: int = 5, icc: float = 0.2, seed: int = 3) -> pd.DataFrame:
    """One factor, four 4-category items (loading .75); the latent responses have a between-cluster share
    ``icc`` of their variance (it sits on the factor: factor ICC = icc / .75²)."""
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(n_clusters), size)
    between = icc / 0.75 ** 2
    eta = np.sqrt(between) * rng.standard_normal(n_clusters)[cl] + np.sqrt(1 - between) * rng.standard_normal(len(cl))
    ystar = 0.75 * eta[:, None] + np.sqrt(1 - 0.75 ** 2) * rng.standard_normal((len(cl), 4))
    codes = np.digitize(ystar, [-0.8, 0.1, 0.9]) + 1
    frame = pd.DataFrame(codes, columns=ITEMS)
    frame["site"] = [f"s{c:02d}" for c in cl]
    return frame


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return clustered_ordinal()


@pytest.fixture(scope="module")
def naive(data):
    return fit_model_wlsmv(SYNTAX, data, ITEMS)


@pytest.fixture(scope="module")
def robust(data):
    return fit_model_wlsmv(SYNTAX, data, ITEMS, cluster="site")


def test_singleton_clusters_scale_gamma_by_n_over_n_minus_1(data, naive):
    """G = N: Γ_cl = N/(N − 1) Γ, so every SE is √(N/(N − 1)) times the robust.sem SE, T and the shift are
    unchanged and the scaling factor a is divided by N/(N − 1) (a = √(df / tr((UΓ)²)))."""
    one = data.assign(site=np.arange(len(data)).astype(str))
    fit = fit_model_wlsmv(SYNTAX, one, ITEMS, cluster="site")
    n = len(data)
    c = n / (n - 1)
    free = naive.parameters.se.to_numpy() > 0
    np.testing.assert_allclose(fit.parameters.est, naive.parameters.est, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fit.parameters.se[free], naive.parameters.se[free] * np.sqrt(c), rtol=1e-10)
    assert fit.fit["chi2"] == pytest.approx(naive.fit["chi2"], rel=1e-12)
    assert fit.fit["chi2_shift_parameter"] == pytest.approx(naive.fit["chi2_shift_parameter"], rel=1e-9)
    assert fit.fit["chi2_scaling_factor"] == pytest.approx(naive.fit["chi2_scaling_factor"] / c, rel=1e-10)


def test_estimates_do_not_depend_on_the_cluster(naive, robust):
    np.testing.assert_allclose(robust.parameters.est, naive.parameters.est, rtol=0, atol=1e-12)
    assert robust.fit["chi2"] == pytest.approx(naive.fit["chi2"], rel=1e-12)
    assert robust.design.se_name == "robust.cluster.sem" and robust.design.n_clusters == 60


def test_clustered_sample_has_larger_ses(data, naive, robust):
    """Items' ICC(1) ≈ .15 in clusters of 5 (Kish design effect ≈ 1.6): the thresholds (marginal proportions)
    get SEs ≈ 18% larger; the loadings barely change (the cluster effect sits on the common factor)."""
    codes = pd.factorize(data["site"])[0]
    iccs = [icc1(data[i].to_numpy(dtype=float), codes) for i in ITEMS]
    assert 0.1 < np.mean(iccs) < 0.3
    P, Q = naive.parameters, robust.parameters
    free = P.se.to_numpy() > 0
    ratio = Q.se.to_numpy()[free] / P.se.to_numpy()[free]
    thresholds = (P.op == "|").to_numpy()[free]
    assert ratio[thresholds].mean() > 1.15 and ratio[thresholds].min() > 1.0
    assert np.median(ratio) > 1.1


def test_scaled_shifted_test_and_ses_use_the_robust_gamma_only(data, naive):
    """Γ_robust = 2Γ with the weights left alone: SEs × √2, a / 2, the shift b and T unchanged — so the
    sandwich and the scaled-shifted statistic read the robust Γ, and the DWLS weights the i.i.d. one."""
    st = ordinal_stats(data[ITEMS], ITEMS)
    doubled = fit_model_wlsmv(SYNTAX, data, ITEMS, stats=dataclasses.replace(st, gamma_cluster=2 * st.gamma))
    free = naive.parameters.se.to_numpy() > 0
    np.testing.assert_allclose(doubled.parameters.est, naive.parameters.est, rtol=0, atol=1e-12)
    np.testing.assert_allclose(doubled.parameters.se[free], naive.parameters.se[free] * np.sqrt(2), rtol=1e-10)
    assert doubled.fit["chi2_scaling_factor"] == pytest.approx(naive.fit["chi2_scaling_factor"] / 2, rel=1e-10)
    assert doubled.fit["chi2_shift_parameter"] == pytest.approx(naive.fit["chi2_shift_parameter"], rel=1e-9)


def test_cluster_fit_reads_the_cluster_summed_gamma(data, robust):
    """The fit with ``cluster=`` equals the fit on statistics whose Γ_robust is G/(G − 1) · N Σ_c ψ_c ψ_c',
    ψ_c summed over the cluster's cases by a plain loop; its scaled statistic differs from the i.i.d. one."""
    codes = pd.factorize(data["site"])[0]
    st = ordinal_stats(data[ITEMS], ITEMS)
    ia, ib = st.pair_a, st.pair_b
    _, _, _, _, inf = two_step(st.coding)
    psi = casewise(inf, st.coding.codes, st.coding.n_categories, ia, ib)
    g, n = codes.max() + 1, len(codes)
    loop = sum(np.outer(psi[codes == c].sum(0), psi[codes == c].sum(0)) for c in range(g)) * n * g / (g - 1)
    st_cl = ordinal_stats(data[ITEMS], ITEMS, cluster=codes)
    np.testing.assert_allclose(st_cl.gamma_robust, loop, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(st_cl.gamma, st.gamma)
    by_hand = fit_model_wlsmv(SYNTAX, data, ITEMS, stats=dataclasses.replace(st, gamma_cluster=loop))
    np.testing.assert_allclose(robust.parameters.se, by_hand.parameters.se, rtol=1e-10)
    assert robust.fit["chi2_scaled"] == pytest.approx(by_hand.fit["chi2_scaled"], rel=1e-10)


def test_cluster_gamma_with_covariates_sums_the_conditional_scores(data):
    """With a control (conditional.x) the same cluster sums apply: singleton clusters give N/(N − 1) Γ."""
    frame = data.assign(x=np.random.default_rng(5).standard_normal(len(data)))
    one = np.arange(len(frame))
    st = ordinal_stats(frame[ITEMS + ["x"]], ITEMS, ["x"], cluster=one)
    n = len(frame)
    np.testing.assert_allclose(st.gamma_robust, st.gamma * n / (n - 1), rtol=1e-10)


def test_cli_fit_cluster_with_wlsmv(tmp_path):
    """`fit --cluster room` on the ordinal Holzinger–Swineford spec (classrooms of 10 consecutive ids): exit 0,
    the design block names robust.cluster.sem / scaled.shifted, the estimates equal the unclustered run's."""
    data = pd.read_csv(ROOT / "tests" / "reference" / "HolzingerSwineford1939_ordinal.csv")
    data["room"] = (data["id"] - 1) // 10
    path = tmp_path / "hs.csv"
    data.to_csv(path, index=False)
    spec = ROOT / "tests" / "specs" / "hs_ordinal.yaml"
    docs = []
    for extra in ([], ["--cluster", "room"]):
        out = tmp_path / f"out{len(extra)}"
        assert main(["fit", str(spec), str(path), "--out", str(out), "--quiet"] + extra) == 0
        docs.append(json.loads((out / "results.json").read_text(encoding="utf-8")))
    plain, clustered = docs
    d = clustered["design"]
    assert (d["cluster"], d["se"], d["test"]) == ("room", "robust.cluster.sem", "scaled.shifted")
    assert "se = robust.cluster.sem" in clustered["meta"]["conventions"]
    assert "design" not in plain
    a = pd.DataFrame(plain["measurement_model"]["parameters"])
    b = pd.DataFrame(clustered["measurement_model"]["parameters"])
    np.testing.assert_allclose(b.est, a.est, rtol=0, atol=1e-12)
    free = a.se > 0
    assert not np.allclose(b.se[free], a.se[free], rtol=1e-3)
