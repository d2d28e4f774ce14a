"""Bounded-memory bootstrap for large n: the same resample indices and the same covariances as the
small-data path, only computed from resampling counts a few replicates at a time."""
from __future__ import annotations

import numpy as np
import pytest

from cluster_sem.bootstrap import batched, run_bootstrap
from cluster_sem.bootstrap.batched import count_covariances, sample_covariances
from mediation_demo import MEDIATION_SYNTAX, simulate_mediation
from cluster_sem.bootstrap.resample import block_index_chunks, block_indices
from cluster_sem.model.fitted import fit_model


@pytest.mark.parametrize("n,B,k,per", [(75, 2000, 3, 7), (128, 260, 1, 4), (5001, 40, 0, 3)])
def test_index_chunks_equal_the_block_indices(n, B, k, per):
    chunks = list(block_index_chunks(n, B, seed=7, k=k, replicates=per))
    assert all(c.dtype == np.int32 and len(c) <= per for _, c in chunks)
    np.testing.assert_array_equal(np.concatenate([c for _, c in chunks]), block_indices(n, B, 7, k))


def test_count_covariances_equal_sample_covariances():
    x = simulate_mediation(n=300, seed=3).to_numpy(float)
    idx = block_indices(300, 30, seed=5, k=0)
    S_counts = count_covariances(x, block_index_chunks(300, 30, 5, 0, replicates=4))
    np.testing.assert_allclose(S_counts, sample_covariances(x, idx), rtol=0, atol=1e-13)


def test_bounded_memory_path_gives_the_same_bootstrap(monkeypatch):
    data = simulate_mediation(n=200, seed=11)
    fit = fit_model(MEDIATION_SYNTAX, data)
    small = run_bootstrap(fit, data, B=60, seed=2)
    monkeypatch.setattr(batched, "MEMORY_BUDGET", 50_000)   # forces the count path with 1-replicate chunks
    assert batched.needs_counts(200, 20, 60)
    large = run_bootstrap(fit, data, B=60, seed=2)
    np.testing.assert_array_equal(small.converged, large.converged)
    np.testing.assert_allclose(large.estimates, small.estimates, rtol=0, atol=1e-9)
    for a, b in zip(small.defined, large.defined):
        assert a["perc"] == pytest.approx(b["perc"], abs=1e-9)
