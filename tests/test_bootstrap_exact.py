"""The batched bootstrap engine gives the same estimates as fitting each resample on its own.

Same resample indices (20 replicates each of PolDem and of the 20-item mediation model):
* vs ``fit_model(syntax, resampled_df).theta`` (semopy start + Fisher-scoring finish, exact to ~1e-7):
  agreement within 1e-4 (the issue's bar; observed ≤ 1e-6);
* vs semopy alone (``semopy_estimates``): only loosely, because semopy's SLSQP stops when the objective
  stops changing, short of the optimum (see model/estimator.py).  Measured on PolDem resamples: median
  relative difference ~3e-4–9e-4, largest 5.8e-3 (a residual variance of ~4), so the bar is median
  < 2e-3 and max < 1e-2 relative (the issue guessed 5e-3 for the max; residual variances exceed it),
  plus the decisive check: our F_ML is never above semopy's, i.e. the difference is semopy stopping early.  Only admissible
  resamples are compared: semopy bounds variances at 0, while lavaan and this engine let a Heywood
  case go negative (PolDem has such resamples in about a third of the draws).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.bootstrap.batched import fit_resamples, make_core, sample_covariances
from mediation_demo import MEDIATION_SYNTAX, simulate_mediation
from cluster_sem.bootstrap.resample import BLOCK, block_indices, resample_indices
from cluster_sem.model.fitted import fit_model, sample_covariance
from cluster_sem.model.semopy_backend import semopy_estimates

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())


def _poldem():
    return REF["poldem_sem"]["model"], pd.read_csv(REF_DIR / "PoliticalDemocracy.csv")


def _mediation():
    return MEDIATION_SYNTAX, simulate_mediation(n=128, seed=20260)


@pytest.fixture(scope="module", params=["poldem", "mediation20"])
def model(request):
    syntax, df = _poldem() if request.param == "poldem" else _mediation()
    fit = fit_model(syntax, df)
    return syntax, df, fit


def test_resample_indices_depend_on_seed_only():
    a = resample_indices(75, 2000, seed=7)
    assert a.shape == (2000, 75) and a.min() >= 0 and a.max() < 75
    # any replicate's rows are fixed by (seed, replicate number): shorter runs are prefixes
    np.testing.assert_array_equal(resample_indices(75, 300, seed=7), a[:300])
    np.testing.assert_array_equal(block_indices(75, 2000, 7, 3), a[3 * BLOCK:4 * BLOCK])
    # block k is the k-th child of SeedSequence(seed)
    child = np.random.SeedSequence(7).spawn(4)[3]
    np.testing.assert_array_equal(np.random.default_rng(child).integers(0, 75, (BLOCK, 75)),
                                  a[3 * BLOCK:4 * BLOCK])
    assert not np.array_equal(resample_indices(75, 10, seed=8), a[:10])


def test_sample_covariances_and_objective(model):
    _, df, fit = model
    core = make_core(fit, df)
    idx = resample_indices(fit.n, 30, seed=3)
    S = sample_covariances(core.data, idx)
    frame = df[list(fit.matrix_model.ov)]
    for r in (0, 17, 29):
        np.testing.assert_allclose(S[r], sample_covariance(frame.iloc[idx[r]]), atol=1e-12)
    mm = fit.matrix_model
    theta = fit.theta + np.random.default_rng(0).normal(0, 0.01, (30, mm.n_free))
    f, g = mm.gradient(theta, S)
    for r in (0, 17, 29):  # independent check: F from its definition, ∂F/∂θ_k = tr(Ω ∂Σ/∂θ_k)
        sigma = mm.implied(theta[r][None], S[r][None])[0]
        sinv = np.linalg.inv(sigma)
        f_def = (np.linalg.slogdet(sigma)[1] + np.trace(S[r] @ sinv) - np.linalg.slogdet(S[r])[1]
                 - mm.p)
        omega = sinv @ (sigma - S[r]) @ sinv
        g_def = np.einsum("ij,jik->k", omega, mm.jacobian(theta[r], S[r]))
        np.testing.assert_allclose(f[r], f_def, atol=1e-10)
        np.testing.assert_allclose(g[r], g_def, atol=1e-10)


def test_batched_estimates_equal_single_refits(model):
    syntax, df, fit = model
    core = make_core(fit, df)
    idx = resample_indices(fit.n, 20, seed=11)
    res = fit_resamples(core, idx)
    assert res.converged.all()
    for r in range(20):
        ref = fit_model(syntax, df.iloc[idx[r]].reset_index(drop=True))
        assert ref.converged
        np.testing.assert_allclose(res.theta[r], ref.theta, atol=1e-4, rtol=0)
        assert np.abs(res.theta[r] - ref.theta).max() < 1e-6   # what is actually achieved


def test_batched_estimates_close_to_semopy_alone():
    syntax, df = _poldem()
    fit = fit_model(syntax, df)
    core = make_core(fit, df)
    idx = resample_indices(fit.n, 12, seed=11)
    res = fit_resamples(core, idx)
    mm, pt = fit.matrix_model, fit.partable
    rows = np.flatnonzero(res.admissible)[:5]
    assert len(rows) == 5
    for r in rows:
        frame = df.iloc[idx[r]][list(mm.ov)].reset_index(drop=True)
        theta, note = semopy_estimates(pt, mm, frame, fit.theta)
        assert not note.startswith("semopy failed")
        rel = np.abs(theta - res.theta[r]) / np.maximum(1, np.abs(res.theta[r]))
        assert np.median(rel) < 2e-3 and rel.max() < 1e-2
        S = sample_covariance(frame)[None]
        f_ours = mm.gradient(res.theta[r][None], S)[0][0]
        f_semopy = mm.gradient(theta[None], S)[0][0]
        assert f_ours <= f_semopy + 1e-12


def test_fallback_finishes_what_the_batch_leaves():
    """With the batched iterations capped at 2, every resample goes through the single-sample fallback
    and still lands on the same optimum."""
    syntax, df = _poldem()
    fit = fit_model(syntax, df)
    idx = resample_indices(fit.n, 8, seed=5)
    full = fit_resamples(make_core(fit, df), idx)
    capped = fit_resamples(make_core(fit, df, max_iter=2, semopy_fallback=False), idx)
    assert capped.fallback.sum() >= 6 and capped.converged.all()
    np.testing.assert_allclose(capped.theta, full.theta, atol=1e-6)
