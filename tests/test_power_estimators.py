"""--estimator MLR and --missing fiml in the power engine: each replication is the project's casewise fit
(checked against lavaan elsewhere) of exactly the data the data layer would hand it; options refused once."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cluster_sem.cli import main
from cluster_sem.data import prepare_data
from cluster_sem.errors import ClusterSemError
from cluster_sem.model.fitted_casewise import fit_model_casewise
from cluster_sem.power import PowerOptions, check_options, run_power
from cluster_sem.power.draw import replication_seed
from cluster_sem.power.engine import build_core
from cluster_sem.power.fitbatch import fit_chunk
from cluster_sem.simulate import simulate
from cluster_sem.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
MISS = ROOT / "tests" / "specs" / "mm2002_missing.yaml"
MM = ROOT / "tests" / "specs" / "mm2002_cfa.yaml"


@pytest.mark.filterwarnings("ignore:sim.*rows dropped")
@pytest.mark.parametrize("estimator,missing", [("ML", "fiml"), ("MLR", "listwise")])
def test_replication_is_the_casewise_fit_of_the_cleaned_data(estimator, missing):
    spec = load_spec(MISS)
    core, _ = build_core(spec, PowerOptions(sizes=(150,), estimator=estimator, missing=missing, seed=5))
    chunk = fit_chunk(core, 150, 0, 2)
    for r in range(2):
        frame = prepare_data(spec, simulate(spec, 150, replication_seed(5, 150, r)), source="sim",
                             missing=missing).frame
        assert int(chunk.n_used[r]) == len(frame)
        fit = fit_model_casewise(core.casewise.syntax, frame, missing=missing, estimator=estimator)
        k = core.effects[0].index
        assert chunk.est[r, 0] == pytest.approx(fit.theta[k], abs=1e-9)
        assert chunk.se[r, 0] == pytest.approx(np.sqrt(fit.vcov[k, k]), abs=1e-9)


def test_mlr_estimates_are_ml_estimates_with_robust_ses():
    ml = run_power(MM, PowerOptions(sizes=(120,), reps=12, seed=8))
    mlr = run_power(MM, PowerOptions(sizes=(120,), reps=12, seed=8, estimator="MLR"))
    a, b = ml["sizes"][0]["effects"][0], mlr["sizes"][0]["effects"][0]
    assert a["mean_est"] == pytest.approx(b["mean_est"], abs=1e-6)
    assert a["mean_se"] != pytest.approx(b["mean_se"], abs=1e-6)
    assert mlr["settings"]["estimator"] == "MLR" and mlr["settings"]["fitting"].startswith("one replication")


def test_fiml_recovers_the_power_listwise_deletion_loses():
    """10 % MCAR blanks over 10 items: listwise keeps ~35 % of the firms, FIML all of them."""
    listwise = run_power(MISS, PowerOptions(sizes=(150,), reps=40, seed=9))["sizes"][0]
    fiml = run_power(MISS, PowerOptions(sizes=(150,), reps=40, seed=9, missing="fiml"))["sizes"][0]
    assert fiml["converged"] == 40 and fiml["rows_dropped_mean"] == 0
    assert listwise["rows_dropped_mean"] > 80
    assert fiml["effects"][0]["power"] > listwise["effects"][0]["power"] + 0.2
    assert abs(fiml["effects"][0]["mean_est"] - 0.25) < 0.05


def test_power_options_are_refused_once_with_a_fix(tmp_path, capsys):
    for bad in (dict(estimator="WLSMV"), dict(estimator="GLS"), dict(missing="pairwise"),
                dict(estimator="MLR", ci="bootstrap"), dict(missing="fiml", ci="bootstrap")):
        with pytest.raises(ClusterSemError, match="Fix:"):
            check_options(PowerOptions(sizes=(100,), **bad))
    out = tmp_path / "p"
    assert main(["power", str(MM), "--n", "60", "--reps", "10", "--out", str(out), "--estimator", "MLR",
                 "--ci", "bootstrap"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Fix:" in err and not out.exists()


def test_interactions_with_fiml_are_skipped_and_said_so():
    from cluster_sem.render.power import render_power_markdown
    spec = ROOT / "tests" / "specs" / "interaction_power.yaml"
    doc = run_power(spec, PowerOptions(sizes=(100,), reps=3, seed=1, missing="fiml"))
    assert doc["interactions_skipped"] == ["XxZ"] and doc["interaction_method"] is None
    assert [e["kind"] for e in doc["effects"]] == ["path", "path"]
    assert "not estimated with ML / fiml (XxZ)" in render_power_markdown(doc)
    mlr = run_power(spec, PowerOptions(sizes=(100,), reps=3, seed=1, estimator="MLR"))
    assert mlr["interaction_method"] == "dblcent" and mlr["effects"][-1]["kind"] == "interaction"
