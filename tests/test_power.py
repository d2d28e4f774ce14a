"""Monte Carlo power engine: published and analytic targets, exact building blocks, determinism for any
jobs / dask / chunking / resume, the power.json contract and the CLI.  Fixed seeds, Monte Carlo tolerances."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cluster_sem.cli import main
from cluster_sem.data import prepare_data
from cluster_sem.model.estimator import fisher_scoring, simple_start
from cluster_sem.model.information import BatchedInformation
from cluster_sem.model.matrices import build_matrix_model
from cluster_sem.model.partable import build_partable
from cluster_sem.power import PowerOptions, run_power
from cluster_sem.power import engine as engine_mod
from cluster_sem.power.draw import analysis_columns, draw_replication, replication_seed
from cluster_sem.power.engine import build_core
from cluster_sem.power.planning import lrt_power, min_n, rmsea_power
from cluster_sem.power.population import _likert, analysis_moments
from cluster_sem.simulate import SurveySampler, simulate
from cluster_sem.spec import load_spec
from cluster_sem.spec.syntax import structural_syntax

ROOT = Path(__file__).resolve().parents[1]
MM = ROOT / "tests" / "specs" / "mm2002_cfa.yaml"
ZJ = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
POWER_KEYS = {"spec_sha256", "seed", "alpha", "target", "ci_method", "sizes", "min_n", "rmsea_power"}
SIZE_KEYS = {"n", "reps", "converged", "inadmissible", "effects"}
EFFECT_KEYS = {"name", "kind", "population", "power", "power_mc_se", "mean_est", "bias", "relative_bias",
               "sd_est", "mean_se", "coverage"}


@pytest.fixture(scope="module")
def mm_doc():
    return run_power(MM, PowerOptions(sizes=(150,), reps=2000, seed=2002))


def test_muthen_muthen_2002_cfa_power_at_150(mm_doc):
    """M&M (2002): N = 150 gives power ≈ .80 for a factor correlation of .25 (loadings .80, normal data)."""
    size = mm_doc["sizes"][0]
    eff = size["effects"][0]
    assert size["converged"] == 2000
    assert abs(eff["power"] - 0.80) <= 0.04
    assert eff["population"] == pytest.approx(0.25, abs=1e-8)     # continuous data: the generating value
    assert abs(eff["relative_bias"]) < 0.03                           # M&M's criterion: < 10%
    assert 0.93 <= eff["coverage"] <= 0.96
    assert eff["power_mc_se"] == pytest.approx(np.sqrt(eff["power"] * (1 - eff["power"]) / 2000))


def test_power_json_contract(mm_doc):
    assert POWER_KEYS <= set(mm_doc)
    assert mm_doc["ci_method"] == "monte_carlo"
    for size in mm_doc["sizes"]:
        assert SIZE_KEYS <= set(size)
        for eff in size["effects"]:
            assert EFFECT_KEYS <= set(eff) and eff["kind"] in ("path", "indirect", "interaction")
    assert set(mm_doc["min_n"]) == {"F2~F1"}
    json.dumps(mm_doc, allow_nan=False)


def test_single_path_agrees_with_satorra_saris_lrt_power():
    """Wald-test Monte Carlo power vs the noncentral-χ² power of the LRT of the restriction b = 0 (Satorra &
    Saris 1985), ncp = N·F_ML(restricted model, Σ_pop): within Monte Carlo error."""
    spec = load_spec(MM)
    core, pop = build_core(spec, PowerOptions(sizes=(100,)))
    restricted = "F1 =~ y1 + y2 + y3 + y4 + y5\nF2 =~ y6 + y7 + y8 + y9 + y10\nF2 ~ 0*F1\n"
    mm = build_matrix_model(build_partable(restricted))
    assert mm.ov == core.matrix_model.ov
    sol = fisher_scoring(mm, pop.sigma, simple_start(mm, pop.sigma))
    analytic = lrt_power(100, sol.fmin)
    doc = run_power(spec, PowerOptions(sizes=(100,), reps=2000, seed=7))
    eff = doc["sizes"][0]["effects"][0]
    assert 0.5 < analytic < 0.75
    assert abs(eff["power"] - analytic) < 3 * eff["power_mc_se"] + 0.005


def test_rmsea_close_fit_power_matches_maccallum_browne_sugawara_table():
    """MacCallum et al. (1996) Table 4: minimum N for power .80 of the test of close fit, df = 10 → 782."""
    n = next(n for n in range(100, 2000) if rmsea_power(n, 10) >= 0.80)
    assert n == 782
    assert rmsea_power(200, 0) is None


def test_min_n_interpolates_and_says_beyond():
    assert min_n([(100, 0.5), (200, 0.9)], 0.8) == 175
    assert min_n([(100, 0.85), (200, 0.95)], 0.8) == 100
    assert min_n([(100, 0.3), (200, 0.6)], 0.8) is None


def test_batched_information_equals_expected_hessian():
    spec = load_spec(ZJ)
    pt = build_partable(structural_syntax(spec))
    mm = build_matrix_model(pt)
    X = draw_replication(SurveySampler(spec), analysis_columns(SurveySampler(spec), list(mm.ov)), 300, 1, 0)
    S = np.cov(X.T, bias=True)
    theta = simple_start(mm, S)            # the identity holds at any θ with Σ(θ) positive definite
    rng = np.random.default_rng(0)
    thetas = theta + 0.01 * rng.standard_normal((3, len(theta)))
    H = BatchedInformation(mm)(thetas, np.repeat(S[None], 3, axis=0))
    for r in range(3):
        np.testing.assert_allclose(H[r], mm.expected_hessian(thetas[r], S), rtol=1e-7, atol=1e-9)


def test_likert_population_covariance_is_exact():
    """Mehler-series covariance of two 5-point items = the bivariate-normal orthant sum, to 1e-10."""
    tau, rho = np.array([-1.6, -0.7, 0.2, 1.1]), 0.6
    a = _likert(tau, 1, 200)
    series = np.sum(a.coef ** 2 * rho ** np.arange(1, 201))
    mvn = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]])
    exact = sum(mvn.cdf([-t, -s]) - stats.norm.cdf(-t) * stats.norm.cdf(-s) for t in tau for s in tau)
    assert series == pytest.approx(exact, abs=1e-7)


def test_population_moments_match_a_large_simulated_sample():
    """Σ_pop of Likert items and transformed controls (uniform_int, rounded normal) vs 200 000 simulated cases."""
    spec = load_spec(ZJ)
    sampler = SurveySampler(spec)
    names = ["NC1", "NC4", "CE1", "KA2", "firm_age", "log_employees"]
    mean, sigma = analysis_moments(sampler, names)
    X = draw_replication(sampler, analysis_columns(sampler, names), 200_000, 3, 0)
    C = np.cov(X.T, bias=True)
    sd = np.sqrt(np.diag(sigma))
    assert np.abs((C - sigma) / np.outer(sd, sd)).max() < 4.5 / np.sqrt(200_000)
    assert np.abs((X.mean(axis=0) - mean) / sd).max() < 4.5 / np.sqrt(200_000)


def test_replication_data_are_the_simulators_data_after_cleaning():
    """No twin simulator: replication r of size n is simulate(spec, n, SeedSequence(seed, (n, r))) recoded."""
    spec = load_spec(ZJ)
    sampler = SurveySampler(spec)
    names = list(spec.items) + list(spec.controls)
    X = draw_replication(sampler, analysis_columns(sampler, names), 128, 5, 3)
    frame = prepare_data(spec, simulate(spec, 128, replication_seed(5, 128, 3)), source="sim").frame
    np.testing.assert_array_equal(X, frame[names].to_numpy(dtype=float))


def _strip(doc):
    return json.dumps(doc, sort_keys=True)


@pytest.fixture(scope="module")
def small_serial():
    return run_power(MM, PowerOptions(sizes=(60, 90), reps=300, seed=11))


def test_identical_for_jobs_and_dask_local_cluster(small_serial):
    pytest.importorskip("dask.distributed")
    procs = run_power(MM, PowerOptions(sizes=(60, 90), reps=300, seed=11, jobs=2))
    dask = run_power(MM, PowerOptions(sizes=(60, 90), reps=300, seed=11, jobs=2, scheduler="local"))
    assert _strip(procs) == _strip(small_serial)
    assert _strip(dask) == _strip(small_serial)


def _close(a, b, path="doc") -> None:
    """Equal documents up to rounding in the last bits of real numbers (counts and text exactly)."""
    assert type(a) is type(b), path
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12), path
    else:
        assert a == b, path


def test_chunking_does_not_change_results(small_serial, monkeypatch):
    """Chunks of 70 instead of 250 replications: each replication is drawn from its own seed, so the same
    data are fitted, but in batches of another shape, where OpenBLAS may order a sum differently (~1e-14):
    equal to rounding.  Byte-identity is promised for the same chunks (jobs, scheduler, resume: above)."""
    monkeypatch.setattr(engine_mod, "CHUNK", 70)
    _close(run_power(MM, PowerOptions(sizes=(60, 90), reps=300, seed=11)), small_serial)


def test_resume_after_interruption_gives_identical_results(small_serial, tmp_path, monkeypatch):
    from cluster_sem.power import fitbatch
    calls = {"n": 0}
    real = fitbatch.fit_chunk

    def flaky(core, n, start, stop):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(core, n, start, stop)

    monkeypatch.setattr(engine_mod, "fit_chunk", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_power(MM, PowerOptions(sizes=(60, 90), reps=300, seed=11), out_dir=tmp_path)
    saved = list((tmp_path / ".power-checkpoints").rglob("*.npz"))
    assert len(saved) == 2
    monkeypatch.setattr(engine_mod, "fit_chunk", real)
    resumed = run_power(MM, PowerOptions(sizes=(60, 90), reps=300, seed=11, resume=True), out_dir=tmp_path)
    assert _strip(resumed) == _strip(small_serial)


def test_cli_writes_reports_and_rejects_bad_options(tmp_path, capsys):
    out = tmp_path / "power"
    assert main(["power", str(MM), "--n", "60,90", "--reps", "60", "--seed", "3", "--out", str(out), "--quiet"]) == 0
    doc = json.loads((out / "power.json").read_text(encoding="utf-8"))
    assert POWER_KEYS <= set(doc) and [s["n"] for s in doc["sizes"]] == [60, 90]
    html = (out / "power.html").read_text(encoding="utf-8")
    assert "<svg" in html and "<text" in html and "F2~F1" in html and "http" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    assert "| F2~F1 |" in (out / "power.md").read_text(encoding="utf-8")
    assert not (out / ".power-checkpoints").exists()
    assert main(["power", str(MM), "--n", "60", "--reps", "60", "--out", str(out), "--quiet", "--lang", "zh"]) == 0
    assert "功效" in (out / "power.md").read_text(encoding="utf-8")
    capsys.readouterr()
    for bad in (["--n", "1"], ["--n", "60", "--alpha", "2"], ["--n", "60", "--reps", "1"],
                ["--n", "60", "--estimator", "WLSMV"], ["--n", "60,60"]):
        target = tmp_path / "bad"
        assert main(["power", str(MM), "--out", str(target), "--reps", "10"] + bad) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Fix:" in err and "Traceback" not in err
        assert not target.exists()


def test_bootstrap_and_monte_carlo_tests_of_indirect_effects_agree_per_replication():
    """--ci bootstrap (percentile bootstrap inside each replication, by the bootstrap engine) and the default
    Monte Carlo CI decide the same way for nearly every replication."""
    spec = ROOT / "benchmarks" / "specs" / "mediation20.yaml"
    from cluster_sem.power.fitbatch import fit_chunk
    core_mc, _ = build_core(load_spec(spec), PowerOptions(sizes=(80,), seed=4))
    core_bs, _ = build_core(load_spec(spec), PowerOptions(sizes=(80,), seed=4, ci="bootstrap"))
    core_bs = dataclasses.replace(core_bs, boot_draws=200)            # the shipped 500 is slower, same logic
    mc, bs = fit_chunk(core_mc, 80, 0, 16), fit_chunk(core_bs, 80, 0, 16)
    ind = [k for k, e in enumerate(core_mc.effects) if e.kind == "indirect"]
    np.testing.assert_array_equal(mc.est, bs.est)
    agree = (mc.significant[:, ind] == bs.significant[:, ind]).mean()
    assert agree >= 0.85
    assert 0 < bs.significant[:, ind].mean() < 1
