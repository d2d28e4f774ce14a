"""Clustered designs: ``population.icc``, ``simulate --clusters`` and ``power --clusters K,… --cluster-size M``.

The data-generating model keeps each firm's marginal covariance the unclustered model's and adds cluster
random effects Ψ_B = D Ψ D (``Population``'s docstring); power fits each replication with lavaan's
``cluster=`` (the casewise fitter checked against lavaan's robust.cluster in test_cluster_weights_lavaan).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cluster_sem import api
from cluster_sem.cli import main
from cluster_sem.errors import ClusterSemError
from cluster_sem.power import PowerOptions, check_options, run_power
from cluster_sem.power.draw import draw_rows
from cluster_sem.power.engine import build_core
from cluster_sem.results.design import icc1
from cluster_sem.simulate import build_population, simulate
from cluster_sem.simulate.population import cluster_levels
from cluster_sem.simulate.simulator import SurveySampler
from cluster_sem.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "specs" / "cluster_power.yaml"


def with_icc(icc):
    spec = load_spec(SPEC)
    return spec.model_copy(update={"population": spec.population.model_copy(update={"icc": icc})})


def test_simulated_item_iccs_are_the_model_s():
    """ICC(1) of each simulated item ≈ λ²·(construct ICC); the outcome's ICC is inherited through the path
    (b²·icc_F1 + (1 − b²)·icc_F2), and the firm-level covariance is the unclustered model's."""
    spec = load_spec(SPEC)
    frame = simulate(spec, 12_000, 4, clusters=1_500)
    assert list(frame.columns[:2]) == ["firm_id", "industrial_cluster"]
    assert frame["industrial_cluster"].nunique() == 1_500 and frame["industrial_cluster"].value_counts().eq(8).all()
    lam = spec.population.loadings
    b2 = 0.4 ** 2
    closed = {i: lam[i] ** 2 * (0.3 if i in ("y1", "y2", "y3") else b2 * 0.3 + (1 - b2) * 0.1) for i in lam}
    model = build_population(spec)
    implied = dict(zip(model.observed, cluster_levels(spec, model).observed_icc(model)))
    codes = frame["industrial_cluster"].to_numpy()
    for item, value in closed.items():
        assert implied[item] == pytest.approx(value, abs=1e-12)
        assert icc1(frame[item].to_numpy(float), codes) == pytest.approx(value, abs=0.03)
    items = list(spec.items)
    assert np.abs(np.cov(frame[items].to_numpy().T, bias=True) - model.sigma_observed).max() < 0.05


def test_icc_zero_draws_the_unclustered_data():
    """The cluster random effects come last in the random stream: with ICC 0 a clustered draw is the
    unclustered one, plus its cluster column."""
    spec = with_icc(0.0)
    sampler = SurveySampler(spec)
    plain = sampler.draw(60, np.random.default_rng(1))
    clustered = sampler.draw(60, np.random.default_rng(1), np.full(10, 6))
    assert np.array_equal(plain.items, clustered.items)
    assert np.array_equal(clustered.cluster, np.repeat(np.arange(10), 6))
    frame = simulate(spec, 60, 1, cluster_size=6)
    assert frame.drop(columns="industrial_cluster").equals(simulate(spec, 60, 1))
    assert api.simulate(spec, 60, 1, cluster_size=6).equals(frame)


def test_icc_zero_power_has_the_unclustered_estimates():
    """Same seed, n = K × M: the clustered run fits exactly the data of the unclustered MLR run, so the
    estimates agree; only the SEs differ (cluster-robust instead of Huber–White)."""
    spec = with_icc(0.0)
    clustered = run_power(spec, PowerOptions(sizes=(), clusters=(10,), cluster_size=6, reps=6, seed=2))
    plain = run_power(spec, PowerOptions(sizes=(60,), reps=6, seed=2, estimator="MLR"))
    a, b = clustered["sizes"][0]["effects"][0], plain["sizes"][0]["effects"][0]
    assert a["mean_est"] == pytest.approx(b["mean_est"], abs=1e-6)
    assert a["sd_est"] == pytest.approx(b["sd_est"], abs=1e-6)
    assert a["mean_se"] != pytest.approx(b["mean_se"], abs=1e-6)
    assert a["mean_se"] == pytest.approx(b["mean_se"], rel=0.3)


def test_cluster_robust_ses_exceed_naive_ones_at_icc_30():
    """On the same clustered replications (ICC .30 everywhere, 20 clusters of 8) the robust.cluster SE of the
    path is larger than the naive ML SE, as the design effect says it must be."""
    core, _ = build_core(with_icc(0.3), PowerOptions(sizes=(), clusters=(20,), cluster_size=8, seed=1))
    drawn = [draw_rows(core.sampler, core.columns, 160, 1, r, cluster_size=8) for r in range(12)]
    data = [x for x, _ in drawn]
    robust = core.casewise.fit(data, [c for _, c in drawn])
    naive = core.casewise.fit(data)
    k = core.effects[0].index
    assert robust.converged.all() and naive.converged.all()
    assert np.allclose(robust.theta[:, k], naive.theta[:, k], atol=1e-6)      # same ML estimates
    assert (robust.se[:, k] / naive.se[:, k]).mean() > 1.08


def test_power_rises_with_clusters_and_the_design_is_recorded(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["power", str(SPEC), "--clusters", "6,40", "--cluster-size", "5", "--reps", "15", "--seed", "3",
                 "--out", str(out)]) == 0
    terminal = capsys.readouterr().out
    doc = json.loads((out / "power.json").read_text())
    assert doc["design"]["clusters"] == [6, 40] and doc["design"]["cluster_size"] == 5
    assert doc["design"]["icc"] == {"F1": 0.3, "F2": 0.1} and doc["design"]["se"] == "robust.cluster"
    assert [(s["n"], s["clusters"], s["cluster_size"]) for s in doc["sizes"]] == [(30, 6, 5), (200, 40, 5)]
    small, large = (s["effects"][0]["power"] for s in doc["sizes"])
    assert large > small + 0.3
    assert set(doc["min_clusters"]) == {"F2~F1"}
    k = doc["min_clusters"]["F2~F1"]
    assert k is None or 6 <= k <= 40
    assert "× 5 firms per cluster" in terminal and "40×5" in terminal
    md = (out / "power.md").read_text()
    assert "clusters × 5 firms per cluster" in md and "robust.cluster" in md
    assert "clusters (× 5 firms per cluster)" in (out / "power.html").read_text()


def test_same_seed_same_clustered_power_json():
    opts = PowerOptions(sizes=(), clusters=(8,), cluster_size=4, reps=3, seed=11)
    assert json.dumps(run_power(SPEC, opts)) == json.dumps(run_power(SPEC, opts))


@pytest.mark.parametrize("options,words", [
    (dict(clusters=(20,)), "--cluster-size"),
    (dict(cluster_size=8), "--cluster-size without --clusters"),
    (dict(sizes=(100,), clusters=(20,), cluster_size=8), "--n with --clusters"),
    (dict(clusters=(20, 20), cluster_size=8), "listed twice"),
    (dict(clusters=(1,), cluster_size=8), "--clusters"),
    (dict(clusters=(20,), cluster_size=0), "--cluster-size"),
    (dict(clusters=(20,), cluster_size=8, ci="bootstrap"), "--ci bootstrap with --clusters"),
    (dict(clusters=(20,), cluster_size=8, estimator="WLSMV"), "WLSMV"),
    (dict(clusters=(2000,), cluster_size=100), "--n"),
])
def test_unsupported_clustered_options_are_refused(options, words):
    with pytest.raises(ClusterSemError, match="Fix:") as err:
        check_options(PowerOptions(**{"sizes": (), **options}))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_refusals_on_the_command_line_are_one_line_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "p"
    for argv in (["power", str(SPEC), "--clusters", "20,30", "--out", str(out)],
                 ["power", str(SPEC), "--n", "60", "--clusters", "20", "--cluster-size", "5", "--out", str(out)],
                 ["power", str(SPEC), "--clusters", "20", "--cluster-size", "5", "--ci", "bootstrap", "--out",
                  str(out)],
                 ["simulate", str(SPEC), "--n", "40", "--clusters", "41", "--seed", "1", "--out",
                  str(tmp_path / "x.csv")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Fix:" in err, err
    assert not out.exists() and not (tmp_path / "x.csv").exists()


def test_icc_values_are_checked_with_the_key_named(tmp_path, capsys):
    text = SPEC.read_text()
    for bad, key in (("{F1: 1.0, F2: 0.1}", "population.icc.F1"), ("-0.2", "population.icc:"),
                     ("{F3: 0.1}", "population.icc.F3")):
        path = tmp_path / "s.yaml"
        path.write_text(text.replace("{F1: 0.3, F2: 0.1}", bad))
        assert main(["validate", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and key in err and "Fix:" in err, err


def test_interactions_are_drawn_in_clusters_and_skipped_in_the_clustered_fit():
    """A population with a latent product is drawn in clusters (products of each firm's total scores, so the
    firm-level distribution is the unclustered one); the product-indicator model ignores clusters, so the
    interaction is not tested and the report says so, as with FIML."""
    from cluster_sem.render.power import render_power_markdown
    spec = ROOT / "tests" / "specs" / "interaction_power.yaml"
    doc = run_power(spec, PowerOptions(sizes=(), clusters=(20,), cluster_size=5, reps=3, seed=1))
    assert doc["interactions_skipped"] == ["XxZ"] and doc["interaction_method"] is None
    assert [e["kind"] for e in doc["effects"]] == ["path", "path"]
    assert "not estimated with ML / listwise / clusters (XxZ)" in render_power_markdown(doc)
