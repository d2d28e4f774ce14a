"""The PLS bootstrap's BCa interval against scipy.stats.bootstrap(method="BCa") on the same replicates
(scipy's own resamples, passed through our BCa with our jackknife), for a path of the mobi model."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cluster_sem.pls.algorithm import correlations
from cluster_sem.pls.bootstrap import BootCore, bca, jackknife, percentile
from cluster_sem.pls.model import from_spec
from cluster_sem.pls.statistics import Layout
from cluster_sem.spec.loader import load_spec

HERE = Path(__file__).parent


def test_bca_matches_scipy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = load_spec(HERE / "specs/pls_mobi.yaml", pls=True)
    model = from_spec(spec)
    layout = Layout.of(model, consistent=False, scheme="path", htmt_constructs=(), indirect=(), total=())
    X = pd.read_csv(HERE / "reference/pls/mobi.csv")[list(model.items)].to_numpy(float)
    column = layout.paths.index(("Satisfaction", "Loyalty", "structural"))

    def path(rows):
        return layout.estimate(correlations(X[rows.astype(int)])[None])[1][0, column]

    res = stats.bootstrap((np.arange(len(X)),), path, vectorized=False, n_resamples=400, method="BCa",
                          confidence_level=0.95, rng=np.random.default_rng(5))
    t = res.bootstrap_distribution[:, None]
    est = np.array([path(np.arange(len(X)))])
    jack = jackknife(BootCore(X, layout))[:, [column]]
    lo, hi = bca(t, est, jack, 0.95)[:, 0]
    assert lo == pytest.approx(res.confidence_interval.low, abs=1e-12)
    assert hi == pytest.approx(res.confidence_interval.high, abs=1e-12)
    assert lo != pytest.approx(percentile(t, [0.025])[0, 0], abs=1e-4)     # not the percentile interval


def test_jackknife_rows_are_leave_one_out_fits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = load_spec(HERE / "specs/pls_mobi.yaml", pls=True)
    model = from_spec(spec, consistent=True)
    layout = Layout.of(model, consistent=True, scheme="path", htmt_constructs=model.constructs, indirect=(), total=())
    X = pd.read_csv(HERE / "reference/pls/mobi.csv")[list(model.items)].to_numpy(float)
    jack = jackknife(BootCore(X, layout))
    for i in (0, 137, 249):
        direct = layout.estimate(correlations(np.delete(X, i, axis=0))[None])[1][0]
        np.testing.assert_allclose(jack[i], direct, rtol=0, atol=1e-10)
