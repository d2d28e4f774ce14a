"""Latent interactions as power effects (dblcent product indicators, batched) and the direction rule for
unhypothesised paths.  Fixed seeds, Monte Carlo tolerances."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cluster_sem.model.interaction.dblcent import product_data
from cluster_sem.model.interaction.fit import interaction_syntax
from cluster_sem.power import PowerOptions, run_power
from cluster_sem.power.draw import draw_replication
from cluster_sem.power.effects import path_direction
from cluster_sem.power.engine import build_core
from cluster_sem.power.interaction import POPULATION_N
from cluster_sem.spec import load_spec
from cluster_sem.spec.schema import Path as PathSpec

ROOT = Path(__file__).resolve().parents[1]
XZ = ROOT / "tests" / "specs" / "interaction_power.yaml"
ZJ = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
# marker scale: λ_y1·ω / (λ_x1·λ_z1), the spec's standardized interaction .3 with λ_y1 = .8, λ_x1 = .8, λ_z1 = .7
XZ_TRUE = 0.8 * 0.3 / (0.8 * 0.7)


@pytest.fixture(scope="module")
def zj_core():
    return build_core(load_spec(ZJ), PowerOptions(sizes=(128,)))[0]


@pytest.fixture(scope="module")
def xz_doc():
    return run_power(XZ, PowerOptions(sizes=(100, 300, 1000), reps=400, seed=13))


def test_product_columns_are_product_data_columns(zj_core):
    """The batched numpy product indicators (parcels of IOL's dimensions × DF items, matched, double-centred)
    equal what ``fit --interaction-method dblcent`` builds, column for column."""
    pm = zj_core.products
    ov = list(zj_core.matrix_model.ov)
    X = draw_replication(zj_core.sampler, zj_core.columns, 128, 3, 7)
    syntax, frame, _ = product_data(interaction_syntax(load_spec(ZJ)), pd.DataFrame(X, columns=ov), "matched")
    assert syntax == pm.syntax
    np.testing.assert_allclose(pm.data(X), frame[list(pm.matrix_model.ov)].to_numpy(dtype=float), atol=1e-12)
    assert len(pm.matrix_model.ov) == len(ov) + 3


def test_directions_of_the_questionnaire_effects(zj_core):
    """Hypothesised paths one-sided in their direction, unhypothesised ones (AF, DF → CE) two-sided, H5's
    interaction negative, H4's indirect effects positive."""
    d = {e.name: e.direction for e in zj_core.effects}
    assert d["CE~IOL"] == 1 and d["IOL~NC"] == 1 and d["CI~TS"] == 1
    assert d["CE~DF"] == 0 and d["CE~AF"] == 0
    assert d["IOLxDF"] == -1 and d["ind_NC_CE"] == 1
    kinds = {e.name: e.kind for e in zj_core.effects}
    assert kinds["IOLxDF"] == "interaction"
    pop = {e.name: e.population_std for e in zj_core.effects}
    assert pop["IOLxDF"] == pytest.approx(-0.25, abs=0.03)   # spec: -.25 (Likert items: pseudo-true, near)


def test_explicit_expect_keeps_an_unhypothesised_path_directional():
    assert path_direction(PathSpec.model_validate({"to": "Y", "from": ["X"], "expect": "negative"}), "X") == -1
    assert path_direction(PathSpec.model_validate({"to": "Y", "from": ["X"]}), "X") == 0
    assert path_direction(PathSpec.model_validate({"to": "Y", "from": ["X"], "hypothesis": "H1"}), "X") == 1


def test_interaction_population_value_is_the_generating_value(xz_doc):
    """Continuous indicators: the pseudo-true product coefficient (large simulated population) equals the
    generating value on the marker scale within its Monte Carlo error."""
    eff = {e["name"]: e for e in xz_doc["effects"]}
    mc_error = xz_doc["sizes"][1]["effects"][2]["sd_est"] * math.sqrt(300 / POPULATION_N)
    assert abs(eff["XxZ"]["population"] - XZ_TRUE) < 3.5 * mc_error
    assert eff["Y~X"]["population"] == pytest.approx(0.3, abs=1e-8)
    assert xz_doc["interaction_method"] == "dblcent"


def test_interaction_recovery_and_power_curve(xz_doc):
    rows = [{e["name"]: e for e in s["effects"]}["XxZ"] for s in xz_doc["sizes"]]
    assert all(r["kind"] == "interaction" for r in rows)
    power = [r["power"] for r in rows]
    assert power[0] < power[1] < power[2] and power[0] < 0.7 and power[2] > 0.99
    big = rows[2]
    assert abs(big["relative_bias"]) < 0.04                       # consistent: bias vanishes with n
    assert 0.92 <= big["coverage"] <= 0.975
    assert 100 < xz_doc["min_n"]["XxZ"] < 300
    assert all(s["interaction_model"]["converged"] >= 0.95 * s["reps"] for s in xz_doc["sizes"])


def test_unhypothesised_negative_path_is_tested_two_sided(xz_doc):
    """Y ~ Z (population −.2, no hypothesis): power is the two-sided Wald power, not ≈ 0."""
    for s in xz_doc["sizes"]:
        eff = {e["name"]: e for e in s["effects"]}["Y~Z"]
        delta = abs(eff["population"]) / eff["sd_est"]
        z = stats.norm.ppf(0.975)
        expected = stats.norm.cdf(delta - z) + stats.norm.cdf(-delta - z)
        assert abs(eff["power"] - expected) < 4 * eff["power_mc_se"] + 0.03
    assert {e["name"]: e for e in xz_doc["effects"]}["Y~Z"]["test"] == "two-sided"
    assert xz_doc["sizes"][1]["effects"][1]["power"] > 0.6


def test_robust_se_is_the_full_gamma_sandwich():
    """The one-parameter shortcut equals A⁻¹ Δ'WΓWΔ A⁻¹ / N built from the ADF Γ (vech of x x', divisor N),
    W = ½ D'(Σ⁻¹⊗Σ⁻¹)D (D the duplication matrix), A = Δ'WΔ — lavaan's robust.sem (expected information)."""
    from cluster_sem.power.fitbatch import fit_batched
    from cluster_sem.power.interaction import robust_se
    core = build_core(load_spec(XZ), PowerOptions(sizes=(150,)))[0]
    pm = core.products
    X = pm.data(draw_replication(core.sampler, core.columns, 150, 2, 0))
    fit = fit_batched(pm.partable, pm.matrix_model, [X], pm.theta_pop, pm.metric_inv)
    theta, mm = fit.theta[0], pm.matrix_model
    p, n = X.shape[1], len(X)
    S = np.cov(X.T, bias=True)
    iu = np.triu_indices(p)
    sinv = np.linalg.inv(mm.implied(theta[None], S[None])[0])
    J = mm.jacobian(theta, S)[iu]                                           # (p*, q)
    Xc = X - X.mean(axis=0)
    d = np.einsum("ni,nj->nij", Xc, Xc)[:, iu[0], iu[1]]
    gamma = np.cov(d.T, bias=True)
    D = np.zeros((p * p, len(iu[0])))                                      # duplication: vec = D vech
    for c, (i, j) in enumerate(zip(*iu)):
        D[i * p + j, c] = D[j * p + i, c] = 1.0
    W = 0.5 * D.T @ np.kron(sinv, sinv) @ D
    A = J.T @ W @ J
    B = J.T @ W @ gamma @ W @ J
    V = np.linalg.inv(A) @ B @ np.linalg.inv(A) / n
    k = pm.terms[0].index
    assert robust_se(mm, theta, X, fit.vcov[0], k) == pytest.approx(np.sqrt(V[k, k]), rel=1e-6)
    assert np.linalg.inv(A)[k, k] / n == pytest.approx(fit.vcov[0][k, k], rel=1e-6)   # A = unit ML information


def test_reports_show_the_interaction_method_and_directions(xz_doc):
    import copy

    from cluster_sem.render.power import render_power_html, render_power_markdown, render_power_summary
    md = render_power_markdown(xz_doc)
    assert "dblcent" in md and "| XxZ | H2 | + |" in md and "| Y~Z |  | either (two-sided) |" in md
    html = render_power_html(xz_doc, "zh")
    assert html.count("<svg") == 2 and "双侧" in html            # path and interaction curves
    doc = copy.deepcopy(xz_doc)
    doc["labels"]["__title__"] = {"en": "bad\x1b[31mred\u202e"}
    assert render_power_summary(doc).splitlines()[0].startswith("badred —")


def test_linear_population_values_with_a_latent_product_and_likert_items(zj_core):
    """Items downstream of the latent product (CE's) are not bivariate normal before coding, so Mehler's
    series does not give their Σ_pop entries; product_moments computes them by quadrature over the
    product's partners.  Every such entry agrees with an independent simulated population within 4 Monte
    Carlo SEs (the all-Mehler entries do not), and the pseudo-true CE paths agree with that population's
    fit, where the all-Mehler values miss CE~DF by ~9 %."""
    from cluster_sem.model.estimator import fisher_scoring, simple_start
    from cluster_sem.power.draw import covariance
    from cluster_sem.power.population import analysis_moments, non_normal_variables, population_values
    from cluster_sem.power.product_moments import product_covariance
    ov = list(zj_core.matrix_model.ov)
    flags = non_normal_variables(zj_core.sampler, ov)
    assert {v for v, f in zip(ov, flags) if f} == {"CE1", "CE2", "CE3", "CE4"}
    mehler_sigma = analysis_moments(zj_core.sampler, ov)[1]
    exact = product_covariance(zj_core.sampler, ov, mehler_sigma, flags)
    X = draw_replication(zj_core.sampler, zj_core.columns, POPULATION_N, 777, 0)
    S = covariance(X)
    Xc = X - X.mean(axis=0)
    down = np.flatnonzero(flags)
    se = np.stack([(Xc[:, [i]] * Xc).std(axis=0) for i in down]) / math.sqrt(len(X))   # (4, p)
    z_exact = np.abs(exact[down] - S[down]) / se
    z_mehler = np.abs(mehler_sigma[down] - S[down]) / se
    assert z_exact.max() < 4.0, z_exact.max()
    assert z_mehler.max() > 6.0
    np.testing.assert_allclose(np.delete(exact, down, 0)[:, ~flags], np.delete(mehler_sigma, down, 0)[:, ~flags])
    mm = zj_core.matrix_model
    independent = fisher_scoring(mm, S, simple_start(mm, S), max_iter=2000).theta
    mehler = population_values(zj_core.partable, mm, mehler_sigma).theta
    for e in zj_core.effects:
        if e.name in ("CE~DF", "CE~IOL"):
            assert abs(e.population - independent[e.index]) < 0.006
    k = next(e.index for e in zj_core.effects if e.name == "CE~DF")
    assert abs(mehler[k] - independent[k]) > 0.006


def test_product_quadrature_out_of_scope_falls_back(zj_core, monkeypatch):
    """Outside its scope (here: fewer partners allowed than IOL × DF has) the quadrature declines (None), so
    build_core keeps the simulated entries (mixed_covariance)."""
    from cluster_sem.power import product_moments
    from cluster_sem.power.population import analysis_moments, non_normal_variables
    ov = list(zj_core.matrix_model.ov)
    flags = non_normal_variables(zj_core.sampler, ov)
    sigma = analysis_moments(zj_core.sampler, ov)[1]
    monkeypatch.setattr(product_moments, "MAX_PARTNERS", 1)
    assert product_moments.product_covariance(zj_core.sampler, ov, sigma, flags) is None
