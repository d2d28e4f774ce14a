"""The shared helpers of issue 21: seed streams (``cluster_sem.rng``) and the one ``:=`` row builder."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cluster_sem.model.inference import defined_rows
from cluster_sem.model.partable import build_partable
from cluster_sem.options import DEFAULT_SEED
from cluster_sem.power.draw import replication_seed
from cluster_sem.rng import normal_draws, seed_sequence


def test_spawn_key_is_the_spawned_child():
    """Block k of a bootstrap may be drawn on its own: its stream is the k-th child ``spawn`` would give."""
    children = np.random.SeedSequence(11).spawn(4)
    for k in range(4):
        assert np.array_equal(seed_sequence(11, k).generate_state(4), children[k].generate_state(4))
    assert np.array_equal(seed_sequence(11).generate_state(4), np.random.SeedSequence(11).generate_state(4))


def test_power_streams_are_keyed_by_size_replication_and_stream():
    assert replication_seed(DEFAULT_SEED, 128, 5).spawn_key == (128, 5)
    assert replication_seed(DEFAULT_SEED, 128, 5, 2).spawn_key == (128, 5, 2)
    assert not np.array_equal(replication_seed(1, 128, 5).generate_state(2),
                              replication_seed(1, 128, 5, 1).generate_state(2))


def test_normal_draws_moments_and_a_singular_covariance():
    mean = np.array([1.0, -2.0, 0.5])
    V = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 0.0]])     # third coordinate fixed
    x = normal_draws(mean, V, 40_000, 3)
    assert np.allclose(x.mean(axis=0), mean, atol=0.02)
    assert np.allclose(np.cov(x.T), V, atol=0.03)
    assert np.all(x[:, 2] == pytest.approx(0.5, abs=1e-12))
    assert np.array_equal(x, normal_draws(mean, V, 40_000, 3))               # same seed, same draws


PT = build_partable("f =~ y1 + y2 + y3\ny4 ~ a*f\ny5 ~ b*y4\nab := a*b")


def _theta(a: float, b: float) -> np.ndarray:
    theta = np.full(PT.n_free, 0.5)
    labels = list(PT.free_labels)
    theta[labels.index("a")], theta[labels.index("b")] = a, b
    return theta


def test_defined_rows_delta_method_se():
    theta = _theta(0.4, 0.6)
    V = np.diag(np.full(PT.n_free, 0.01))
    [row] = defined_rows(PT, theta, V, np.array([0.3]))
    assert row[:4] == ["ab", ":=", "a*b", "ab"]
    assert row[4] == pytest.approx(0.24)
    assert row[5] == pytest.approx(math.sqrt(0.6 ** 2 * 0.01 + 0.4 ** 2 * 0.01), rel=1e-6)   # b²V_a + a²V_b
    assert row[6] == pytest.approx(0.24 / row[5]) and 0 < row[7] < 1 and row[8] == 0.3


def test_defined_rows_negative_variance_is_na_as_lavaan():
    """lavaan's ``lav_model_vcov_se`` sets a negative J V J' to NA before the square root: SE NA, no z or p
    (the WLSMV paths used to clip it to an SE of 0)."""
    theta = _theta(0.4, 0.6)
    labels = list(PT.free_labels)
    V = np.zeros((PT.n_free, PT.n_free))
    V[labels.index("a"), labels.index("a")] = -0.01                          # not positive semi-definite
    [row] = defined_rows(PT, theta, V)
    assert math.isnan(row[5]) and row[6] is None and row[7] is None and math.isnan(row[8])
