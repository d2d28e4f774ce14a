"""Cluster bootstrap (``bootstrap.clusters``): whole clusters resampled with their weights, seed-only streams.

Data: HolzingerSwineford1939 with its design weights ``w`` (tests/reference/design/hs_weights.csv) and 31
artificial clusters of ~10 consecutive pupils; a mediation model so that a defined effect is bootstrapped.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.bootstrap import run_bootstrap
from cluster_sem.bootstrap.clusters import make_cluster_core
from cluster_sem.bootstrap.resample import block_indices
from cluster_sem.cli import main
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.fitted_casewise import fit_model_casewise

ROOT = Path(__file__).resolve().parents[1]
HS = pd.read_csv(Path(__file__).parent / "reference" / "design" / "hs_weights.csv").assign(
    cl=lambda d: (d["id"].rank(method="first").astype(int) - 1) // 10)
MODEL = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
textual ~ a*visual
speed ~ b*textual
ind := a*b"""
B = 300   # two blocks (250 + 50)


@pytest.fixture(scope="module")
def weighted():
    """MLR with clusters and weights, as `fit --estimator MLR --cluster cl --weights w` fits it."""
    return fit_model_casewise(MODEL, HS, missing="listwise", estimator="MLR", cluster="cl", weights="w")


def _cluster_boot(fit, **kw):
    return run_bootstrap(fit, HS, B=B, cluster=fit.design.cluster, weights=fit.design.weights, **kw)


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.estimates, b.estimates)
    np.testing.assert_array_equal(a.defined_estimates, b.defined_estimates)
    np.testing.assert_array_equal(a.converged, b.converged)
    np.testing.assert_array_equal(a.param_se, b.param_se)
    assert a.defined == b.defined


def test_same_seed_same_numbers_any_jobs_other_seed_other_numbers(weighted):
    a = _cluster_boot(weighted, seed=5, jobs=1)
    _same(a, _cluster_boot(weighted, seed=5, jobs=1))
    _same(a, _cluster_boot(weighted, seed=5, jobs=2))
    other = _cluster_boot(weighted, seed=6, jobs=1)
    assert not np.array_equal(a.defined_estimates, other.defined_estimates)
    assert (a.resampling, a.n_clusters, a.n_converged) == ("cluster", 31, B)


def test_a_resample_holds_whole_clusters_with_their_weights(weighted):
    core = make_cluster_core(weighted, HS, weighted.design.cluster, weighted.design.weights)
    draws = block_indices(core.n_units, B, 5, 0)
    assert draws.shape == (250, 31)                       # G clusters drawn per resample, from the seed
    w = core.row_weights(draws)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    per_firm = w / weighted.design.weights[None, :]      # = times its cluster was drawn / total weight
    for r in range(len(draws)):
        counts = np.bincount(draws[r], minlength=31)
        for g in range(31):
            rows = core.cluster == g
            np.testing.assert_allclose(per_firm[r, rows], per_firm[r, rows][0], rtol=1e-12)  # all or none
            assert (per_firm[r, rows][0] > 0) == (counts[g] > 0)
        scale = per_firm[r] / counts[core.cluster].clip(min=1)
        np.testing.assert_allclose(scale[counts[core.cluster] > 0], scale[counts[core.cluster] > 0][0],
                                   rtol=1e-12)              # a cluster drawn twice counts twice
    rows = core.fit_resamples(draws[:3], 0)
    assert rows.theta.shape[1] > weighted.matrix_model.n_free   # cluster= gives a mean structure: μ appended


def test_every_cluster_once_reproduces_the_weighted_fit(weighted):
    """Drawing each cluster once is the sample itself: the renormalised weights give the weighted ML fit."""
    core = make_cluster_core(weighted, HS, weighted.design.cluster, weighted.design.weights)
    block = core.fit_resamples(np.arange(31)[None, :], 0)
    q = weighted.matrix_model.n_free
    np.testing.assert_allclose(block.theta[0, :q], weighted.theta, atol=1e-7)
    np.testing.assert_allclose(block.theta[0, q:], weighted.implied_mean, atol=1e-10)
    est = weighted.parameters.loc[weighted.parameters.op == ":=", "est"].to_numpy()
    np.testing.assert_allclose(block.defined[0], est, atol=1e-7)


def test_clusters_of_one_firm_are_exactly_the_case_bootstrap():
    """With every row its own cluster (in row order) the cluster numbers drawn are the case bootstrap's row
    numbers (the same seed stream), so every replicate, SE and CI is identical, bit for bit."""
    fit = fit_model(MODEL, HS)
    case = run_bootstrap(fit, HS, B=B, seed=3)
    clusters = run_bootstrap(fit, HS, B=B, seed=3, cluster=np.arange(len(HS)))
    _same(case, clusters)
    assert clusters.resampling == "cluster" and case.resampling == "case"


def test_cluster_bootstrap_is_wider_than_the_case_bootstrap_when_clusters_matter():
    """Clusters that share a shock: the case bootstrap SE of the indirect effect is too small, the cluster
    bootstrap's is not (ratio near the cluster-robust/naive delta SE ratio)."""
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(40), 10)
    u = rng.normal(size=(40, 3))[g]                    # cluster shocks in x, m, y
    x = u[:, 0] + rng.normal(size=400)
    m = 0.5 * x + u[:, 1] + rng.normal(size=400)
    y = 0.5 * m + u[:, 2] + rng.normal(size=400)
    df = pd.DataFrame({"x": x, "m": m, "y": y, "g": g})
    model = "m ~ a*x\ny ~ b*m\nind := a*b"
    naive = fit_model(model, df)
    robust = fit_model_casewise(model, df, missing="listwise", estimator="ML", cluster="g")
    se = lambda f: float(f.parameters.loc[f.parameters.op == ":=", "se"].iloc[0])  # noqa: E731
    case = run_bootstrap(naive, df, B=500, seed=1).defined[0]["se"]
    clus = run_bootstrap(robust, df, B=500, seed=1, cluster=robust.design.cluster).defined[0]["se"]
    assert clus / case > 1.2
    assert abs(clus / se(robust) - 1) < 0.25 and abs(case / se(naive) - 1) < 0.25


def test_a_design_fit_refuses_the_case_bootstrap(weighted):
    with pytest.raises(ValueError, match="cluster bootstrap"):
        run_bootstrap(weighted, HS, B=10, seed=1)


SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"


@pytest.mark.parametrize("extra, words", [
    (["--cluster", "region", "--bootstrap", "200"], "Fix: add --cluster-bootstrap"),
    (["--cluster-bootstrap", "--bootstrap", "200"], "--cluster-bootstrap without --cluster"),
    (["--cluster", "region", "--cluster-bootstrap"], "--cluster-bootstrap without --bootstrap"),
    (["--cluster", "region", "--cluster-bootstrap", "--bootstrap", "200", "--missing", "fiml"],
     "--cluster-bootstrap with --missing fiml"),
])
def test_refusals_name_the_fix(tmp_path, capsys, extra, words):
    out = tmp_path / "out"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--quiet"] + extra) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_fit_with_cluster_bootstrap_records_it(tmp_path):
    import json
    out = tmp_path / "out"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--quiet", "--cluster", "region",
                 "--cluster-bootstrap", "--bootstrap", "200", "--seed", "1"]) == 0
    doc = json.loads((out / "results.json").read_text())
    boot = doc["bootstrap"]
    assert (boot["resampling"], boot["n_clusters"], boot["B"]) == ("cluster", 5, 200)
    assert boot["rule"].startswith("cluster bootstrap")
    assert doc["meta"]["command"].endswith("--seed 1 --cluster region --cluster-bootstrap")   # rerunnable
    rows = {(r["lhs"], r["op"]): r for r in doc["structural_model"]["parameters"]}
    for eff in doc["indirect_effects"]:   # se_boot stays aligned with its row past the ~1 rows
        assert rows[(eff["name"], ":=")]["se_boot"] == eff["se"]
        assert eff["ci_method"] == "percentile" and eff["cis"]["bc"][0] <= eff["cis"]["bc"][1]
        assert rows[(eff["name"], ":=")]["ci_percentile"] == eff["cis"]["percentile"]
        assert rows[(eff["name"], ":=")]["ci_bc"] == eff["cis"]["bc"]
    paths = [r for r in doc["structural_model"]["parameters"] if r["op"] == "~"]
    for r in paths + [r for r in doc["structural_model"]["parameters"] if r["op"] == "~1" and r["se"] > 0]:
        lo, hi = r["ci_percentile"]            # every path and free intercept gets bootstrap CIs
        assert lo < hi and r["ci_bc"][0] < r["ci_bc"][1]
    assert "Cluster bootstrap: each resample draws the 5 clusters" in (out / "report.md").read_text()
    # 5 clusters give only C(9, 5) = 126 distinct resamples: the run says its CIs are coarse, in en and zh
    few = [w for w in doc["warnings"] if "cluster bootstrap with only 5 clusters" in w]
    assert len(few) == 1 and "126 distinct sets of clusters" in few[0]
    assert "126 distinct sets" in (out / "report.md").read_text()
    from cluster_sem.render.report import Results
    assert "126 种不同的群组合" in Results.from_document(doc).to_markdown(lang="zh")


def test_the_spec_cluster_key_serves_the_cluster_bootstrap_and_jobs_do_not_matter():
    """`cluster:` in the spec (no --cluster) with cluster_bootstrap=True: the shipped example's 16 industrial
    clusters; two worker processes write the same numbers as one."""
    from cluster_sem import api
    from cluster_sem.spec import load_spec
    spec = load_spec(SPEC).model_copy(update={"cluster": "cluster"})
    runs = [api.fit(spec, DATA, bootstrap=250, seed=4, jobs=jobs, cluster_bootstrap=True, timestamp="T").to_dict()
            for jobs in (1, 2)]
    assert runs[0]["indirect_effects"] == runs[1]["indirect_effects"]
    assert (runs[0]["bootstrap"]["resampling"], runs[0]["bootstrap"]["n_clusters"]) == ("cluster", 16)
    assert runs[0]["design"]["n_clusters"] == 16


def test_row_cis_come_from_the_replicates_of_that_row(weighted):
    """The percentile/BC CI of a path, an intercept and the defined effect are those of its own replicates."""
    from cluster_sem.bootstrap.ci import bc_ci, percentile_ci
    from cluster_sem.bootstrap.fiml import intercept_replicates
    boot = _cluster_boot(weighted, seed=5)
    P = weighted.parameters.reset_index(drop=True)
    conv = boot.converged
    path = int(P.index[(P.op == "~") & (P.label == "b")][0])
    k = weighted.partable.params[path].free
    assert boot.param_ci[path]["percentile"] == percentile_ci(boot.estimates[conv, k], 0.95)
    assert boot.param_ci[path]["bc"] == bc_ci(boot.estimates[conv, k], P.est[path], 0.95)
    x1 = int(P.index[(P.op == "~1") & (P.lhs == "x1")][0])
    tau = intercept_replicates(weighted, boot.estimates[conv])["x1"]
    assert boot.param_ci[x1]["percentile"] == percentile_ci(tau, 0.95)
    assert boot.param_ci[-1]["percentile"] == boot.defined[0]["perc"]
    assert len(boot.param_ci) == len(P) == len(boot.param_se)
    fixed = int(P.index[(P.op == "=~") & (P.rhs == "x1")][0])     # the marker loading
    assert boot.param_ci[fixed] is None
