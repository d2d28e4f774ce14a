"""The WLSMV bootstrap engine: each batched resample equals a from-scratch WLSMV fit of the resampled
rows (thresholds, polychorics, DWLS weights and estimates), and results depend on the seed only."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.bootstrap.resample import resample_indices
from cluster_sem.bootstrap.wlsmv import refit, resample_moments, run_bootstrap_wlsmv, setup
from cluster_sem.model.ordinal.fit import fit_model_wlsmv

DATA = Path(__file__).parent / "reference" / "HolzingerSwineford1939_ordinal.csv"
SYNTAX = "visual =~ x1 + x2 + b*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + c*x8 + x9\nbc := b*c"


@pytest.fixture(scope="module")
def hs():
    data = pd.read_csv(DATA)
    return data, fit_model_wlsmv(SYNTAX, data)


def test_batched_resamples_equal_from_scratch_fits(hs):
    data, fit = hs
    su = setup(fit, data)
    idx = resample_indices(len(data), 3, seed=11)
    weights = np.stack([np.bincount(r, minlength=len(data)) for r in idx]).astype(float)
    for rows, mom in zip(idx, resample_moments(su, weights)):
        direct = fit_model_wlsmv(SYNTAX, data.iloc[rows].reset_index(drop=True))
        P = direct.parameters
        s, dg, _ = mom
        # sample statistics: thresholds + polychorics, and the DWLS weights (diag Γ)
        from cluster_sem.model.ordinal.samplestats import ordinal_stats
        st = ordinal_stats(data.iloc[rows], [f"x{i}" for i in range(1, 10)])
        np.testing.assert_allclose(s, st.vector, atol=1e-8)
        np.testing.assert_allclose(dg, np.diag(st.gamma), rtol=1e-8)
        theta, _ = refit(su, mom)
        q = su.dm.full.n_free
        loadings = P[(P.op == "=~") & (P.se > 0)].est.to_numpy()
        ours = [theta[p.free] for p in su.dm.full.params if p.op == "=~" and p.free >= 0]
        np.testing.assert_allclose(ours, loadings, atol=1e-6)
        np.testing.assert_allclose(theta[q:], P[P.op == "|"].est.to_numpy(), atol=1e-8)


def test_bootstrap_is_a_function_of_the_seed(hs):
    data, fit = hs
    a = run_bootstrap_wlsmv(fit, data, B=30, seed=5)
    b = run_bootstrap_wlsmv(fit, data, B=30, seed=5)
    assert a.defined == b.defined and np.array_equal(a.param_se, b.param_se)
    d = a.defined[0]
    assert d["name"] == "bc" and d["perc"][0] < d["est"] < d["perc"][1]
    assert len(a.param_se) == len(fit.parameters)
    # bootstrap SEs of the thresholds are close to the robust (sandwich) SEs (Monte Carlo tolerance, B = 30)
    P = fit.parameters
    th = (P.op == "|").to_numpy()
    ratio = a.param_se[th] / P.se.to_numpy()[th]
    assert 0.6 < np.median(ratio) < 1.4


def test_resamples_with_a_covariate_equal_from_scratch_conditional_statistics():
    """conditional.x path: warm-started probits and (capped) Newton polychorics on a weighted resample
    reproduce a cold fit of the resampled rows."""
    from cluster_sem.model.ordinal.samplestats import ordinal_stats
    data = pd.read_csv(DATA)
    data["age"] = np.random.default_rng(4).normal(13, 1.2, len(data)).round(1)
    syntax = SYNTAX.replace("bc := b*c", "textual ~ age")
    fit = fit_model_wlsmv(syntax, data)
    assert (fit.parameters.op == "|").sum() == 27 and fit.converged
    su = setup(fit, data)
    rows = resample_indices(len(data), 6, seed=2)
    weights = np.stack([np.bincount(r, minlength=len(data)) for r in rows]).astype(float)
    checked = 0
    for r, mom in zip(rows, resample_moments(su, weights)):
        if mom is None:
            continue
        st = ordinal_stats(data.iloc[r], [f"x{i}" for i in range(1, 10)], ["age"])
        np.testing.assert_allclose(mom[0], st.vector, atol=1e-6)
        np.testing.assert_allclose(mom[1], np.diag(st.gamma), rtol=1e-4)
        checked += 1
    assert checked >= 2


def test_jobs_do_not_change_results_and_lost_categories_are_counted(hs):
    """Two worker processes give the same numbers as one; resamples that lose a rare category are
    dropped and counted as such (they are the non-converged ones here: every other refit converges)."""
    data, _ = hs
    rare = data.copy()
    rare.loc[rare.index[:3], "x1"] = 5                    # a category only 3 of 301 cases chose
    fit = fit_model_wlsmv(SYNTAX, rare)
    one = run_bootstrap_wlsmv(fit, rare, B=260, seed=9)
    two = run_bootstrap_wlsmv(fit, rare, B=260, seed=9, jobs=2)
    assert two.backend == "processes" and one.backend == "in-process"
    np.testing.assert_array_equal(one.converged, two.converged)
    np.testing.assert_array_equal(np.nan_to_num(one.estimates), np.nan_to_num(two.estimates))
    assert one.defined == two.defined
    idx = resample_indices(len(rare), 260, seed=9)
    expected = sum(not (r < 3).any() for r in idx)        # resamples without any of the 3 cases
    assert one.n_lost_category == expected > 0
    assert one.n_nonconverged == expected and one.n_converged == 260 - expected
