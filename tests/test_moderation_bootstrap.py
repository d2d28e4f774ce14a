"""Bootstrap percentile CIs of conditional indirect effects and the IMM (warm-started LMS refits)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cluster_sem import api
from cluster_sem.errors import ClusterSemError
from cluster_sem.pipeline import FitOptions, stage_data
from cluster_sem.spec import load_spec
from cluster_sem.analyses.moderation import moderation_stage
from cluster_sem.render.moderation import moderation_context

SPEC = Path(__file__).parent / "specs" / "imm_small.yaml"


@pytest.fixture(scope="module")
def frame():
    spec = load_spec(SPEC)
    return spec, stage_data(spec, api.simulate(spec, n=300, seed=7), FitOptions()).frame


def _imm(out):
    return out["moderation"][0]["index_of_moderated_mediation"][0]


@pytest.fixture(scope="module")
def runs(frame):
    spec, data = frame
    mc = moderation_stage(spec, data, "lms", seed=3)
    boot = moderation_stage(spec, data, "lms", seed=3, bootstrap=200)
    return mc, boot


def test_bootstrap_ci_close_to_monte_carlo(runs):
    mc, boot = (_imm(r) for r in runs)
    assert mc["ci_method"] == "monte_carlo" and boot["ci_method"] == "percentile"
    assert boot["bootstrap"] == 200 and boot["draws"] >= 190     # failed resamples are dropped
    assert boot["est"] == mc["est"] and boot["se"] == mc["se"]  # same point estimate, delta SE
    # Monte Carlo tolerance: B = 200 percentile limits vs 20 000 normal draws; the CI width here is ~0.15
    for a, b in [(mc, boot)] + list(zip(mc["conditional_indirect"], boot["conditional_indirect"])):
        assert b["ci_lower"] < b["est"] < b["ci_upper"]
        assert abs(a["ci_lower"] - b["ci_lower"]) < 0.03 and abs(a["ci_upper"] - b["ci_upper"]) < 0.03
    assert boot["ci_lower"] != mc["ci_lower"]                 # really a different method


def test_same_seed_identical(frame):
    """Reproducibility needs no Monte Carlo precision: B = 12 refits per run (the CI test above uses 200)."""
    spec, data = frame
    first = moderation_stage(spec, data, "lms", seed=3, bootstrap=12)
    again = moderation_stage(spec, data, "lms", seed=3, bootstrap=12)
    assert _imm(again) == _imm(first)
    other = moderation_stage(spec, data, "lms", seed=4, bootstrap=12)
    assert _imm(other)["ci_lower"] != _imm(first)["ci_lower"]


def test_worker_pool_gives_the_in_process_replicates(frame, monkeypatch):
    """Two blocks on 2 worker processes: block 1 equals the same block refitted in this process.

    Blocks of 12 instead of 250 (the forked workers inherit the patched size): the property is per block,
    so 2 × 12 refits check it as well as 250 + 10 did."""
    from cluster_sem.bootstrap import resample
    from cluster_sem.bootstrap.moderation import fit_lms_block, lms_core, run_lms_bootstrap
    from cluster_sem.model.interaction.fit import fit_interaction_model, interaction_syntax
    monkeypatch.setattr(resample, "BLOCK", 12)
    B = 20
    assert resample.n_blocks(B) == 2
    spec, data = frame
    h1 = fit_interaction_model(spec, data, "lms")
    core = lms_core(interaction_syntax(spec), data, h1.theta)
    pooled = run_lms_bootstrap(core, B, 3, jobs=2)
    assert pooled.shape == (B, len(h1.theta))
    from cluster_sem.blas import one_blas_thread
    with one_blas_thread():  # as run_tasks runs in-process (OpenBLAS sums differ in the last bits by threads)
        block = fit_lms_block(core, B, 3, 1)
    assert np.isfinite(block).all()
    np.testing.assert_array_equal(pooled[12:], block)


def test_report_names_the_bootstrap(runs):
    ctx = moderation_context({"moderation": runs[1]["moderation"], "hypotheses": []}, "en", with_svg=False)
    assert "bootstrap percentile" in ctx["moderation"][0]["imm"][0]["note"]


@pytest.mark.parametrize("kw, words", [({"moderation_ci": "bootstrap"}, "--bootstrap 5000"),
                                       ({"moderation_ci": "bootstrap", "bootstrap": 200,
                                         "interaction_method": "dblcent"}, "--interaction-method lms"),
                                       ({"moderation_ci": "boot"}, "--moderation-ci")])
def test_option_checked_once_at_the_api(kw, words):
    with pytest.raises(ClusterSemError, match=words.replace("-", "\\-")):
        api.fit(SPEC, np.zeros((0, 0)), **kw)


def test_cli_exit_2_and_writes_nothing(tmp_path):
    from cluster_sem.cli import main
    out = tmp_path / "out"
    data = tmp_path / "d.csv"
    api.simulate(SPEC, n=50, seed=1).to_csv(data, index=False)
    assert main(["fit", str(SPEC), str(data), "--out", str(out), "--moderation-ci", "bootstrap",
                 "--interaction-method", "qml", "--bootstrap", "200", "--quiet"]) == 2
    assert not out.exists()
