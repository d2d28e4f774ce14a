"""FIML bootstrap: resamples keep their blanks; batched fits equal one-at-a-time FIML refits."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.bootstrap import run_bootstrap
from cluster_sem.bootstrap.fiml import make_fiml_core, refit_one
from cluster_sem.bootstrap.resample import resample_indices
from cluster_sem.model.fiml import WeightedCases, loglik, pattern_sums
from cluster_sem.model.fitted_casewise import fit_model_casewise
from cluster_sem.model.missing import Patterns, em_moments

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())
MISSING = pd.read_csv(REF_DIR / "HolzingerSwineford1939_missing.csv")


@pytest.fixture(scope="module")
def fit():
    syntax = REF["hs_cfa"]["model"].replace("x1 + x2", "x1 + a*x2").replace("x4 + x5", "x4 + b*x5") + \
        "\nab := a*b\n"
    return fit_model_casewise(syntax, MISSING, missing="fiml")


def test_weighted_cases_equal_pattern_sums():
    x = MISSING[[f"x{i}" for i in range(1, 10)]].to_numpy(float)
    data = Patterns.from_array(x)
    h1 = em_moments(data)
    rng = np.random.default_rng(4)
    w = np.stack([np.bincount(rng.integers(0, data.n, data.n), minlength=data.n) for _ in range(6)]).astype(float)
    mu = h1.mean + 0.1 * rng.standard_normal((6, 9))
    sigma = np.repeat((h1.cov + 0.1 * np.eye(9))[None], 6, axis=0)
    for a, b in zip(loglik(pattern_sums(data, w), mu, sigma), WeightedCases.from_patterns(data).loglik(w, mu, sigma)):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-9)


def test_batched_equals_one_at_a_time_refits(fit):
    core = make_fiml_core(fit, MISSING[list(fit.matrix_model.ov)].to_numpy(float))
    idx = resample_indices(core.data.shape[0], 12, 99)
    res = core.fit_resamples(idx)
    assert res.converged.all() and not res.fallback.any()
    for r in range(len(idx)):
        phi, ok = refit_one(core, idx[r])
        assert ok
        assert np.abs(phi - res.theta[r]).max() < 1e-6
    assert np.isfinite(res.defined).all()


def test_run_bootstrap_fiml_rows_align(fit):
    boot = run_bootstrap(fit, MISSING, B=40, seed=3)
    assert boot.n_converged == 40
    assert len(boot.param_se) == len(fit.parameters)
    P = fit.parameters.assign(se_boot=boot.param_se)
    ints = P[(P.op == "~1") & P.lhs.str.startswith("x")]
    assert (ints.se_boot > 0).all()
    # bootstrap SEs are of the same size as the observed-information SEs (loose: B = 40)
    free = P[P.se > 0]
    ratio = (free.se_boot / free.se).to_numpy()
    assert 0.4 < np.median(ratio) < 2.0
    assert "FIML" in boot.rule
    again = run_bootstrap(fit, MISSING, B=40, seed=3)
    assert np.array_equal(boot.param_se, again.param_se, equal_nan=True)
