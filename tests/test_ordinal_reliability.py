"""Categorical ω and ordinal α against independent computations (scipy's bivariate normal on cell
probabilities of the observed sum score; the textbook α formula)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal, norm

from cluster_sem.quality.ordinal_reliability import categorical_omega, ordinal_alpha


def _score_cov(t1, t2, r):
    """Cov of the category scores (0, 1, …) of two items cut at t1, t2 from a bivariate normal, by cells."""
    b1, b2 = np.r_[-12, t1, 12], np.r_[-12, t2, 12]
    if r == 1.0 and np.array_equal(t1, t2):   # the same item: variance of its category score
        p = np.diff(norm.cdf(b1))
        s = np.arange(len(p))
        return float((p * s ** 2).sum() - (p * s).sum() ** 2)
    mvn = multivariate_normal([0, 0], [[1, r], [r, 1]], abseps=1e-12, releps=1e-12)
    F = np.array([[mvn.cdf([a, b]) for b in b2] for a in b1])
    pi = F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]
    s1, s2 = np.arange(pi.shape[0]), np.arange(pi.shape[1])
    e1, e2 = (pi.sum(1) * s1).sum(), (pi.sum(0) * s2).sum()
    return float((pi * np.outer(s1, s2)).sum() - e1 * e2)


def test_categorical_omega_is_explained_share_of_the_observed_sum_score_variance():
    lam = pd.Series([0.8, 0.6, 0.7], index=["a", "b", "c"])
    psi = 1.0
    th = {"a": np.array([-1.0, 0.2, 1.1]), "b": np.array([-0.5, 0.7]), "c": np.array([-1.4, -0.3, 0.6, 1.5])}
    R = pd.DataFrame([[1, 0.50, 0.58], [0.50, 1, 0.40], [0.58, 0.40, 1]], index=list("abc"), columns=list("abc"))
    items = list("abc")
    true = np.outer(lam, lam) * psi
    num = sum(_score_cov(th[i], th[j], true[a, b]) for a, i in enumerate(items) for b, j in enumerate(items))
    den = sum(_score_cov(th[i], th[j], R.loc[i, j]) for i in items for j in items)
    assert categorical_omega(lam, psi, th, R) == pytest.approx(num / den, abs=1e-8)


def test_ordinal_alpha_is_alpha_of_the_polychoric_matrix():
    R = pd.DataFrame([[1, 0.5, 0.6], [0.5, 1, 0.4], [0.6, 0.4, 1]], index=list("abc"), columns=list("abc"))
    rbar = (0.5 + 0.6 + 0.4) / 3
    assert ordinal_alpha(R, list("abc")) == pytest.approx(3 * rbar / (1 + 2 * rbar), abs=1e-12)
