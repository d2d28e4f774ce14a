"""Missing-data statistics: patterns, EM, the FIML gradient, casewise scores, Little's MCAR test."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cluster_sem.model.fiml import casewise_scores, loglik, pattern_sums
from cluster_sem.model.missing import Patterns, em_moments, little_mcar, pattern_loglik, percent_missing

REF_DIR = Path(__file__).parent / "reference"
ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hs():
    x = pd.read_csv(REF_DIR / "HolzingerSwineford1939_missing.csv")[ITEMS].to_numpy(float)
    return Patterns.from_array(x)


def test_patterns_cover_every_row_once(hs):
    rows = np.sort(np.concatenate([p.rows for p in hs.patterns]))
    assert np.array_equal(rows, np.arange(hs.n))
    counts = [len(p.rows) for p in hs.patterns]
    assert counts == sorted(counts, reverse=True)
    assert hs.patterns[0].observed.all()            # complete rows are the most frequent pattern here
    assert sum(s["n"] for s in hs.summary(ITEMS, top=1000)) == hs.n


def test_empty_rows_are_refused():
    with pytest.raises(ValueError):
        Patterns.from_array(np.array([[1.0, 2.0], [np.nan, np.nan]]))


def test_em_is_the_saturated_maximum(hs):
    h1 = em_moments(hs)
    _, gmu, G = loglik(pattern_sums(hs), h1.mean[None], h1.cov[None])
    assert np.abs(gmu).max() < 1e-6 and np.abs(G).max() < 1e-6
    assert h1.loglik == pytest.approx(pattern_loglik(hs, h1.mean, h1.cov))
    # lavaan: chisq = 2 (logl_h1 - logl_h0) = 81.5395 and AIC = 6948.617 with 30 free parameters
    ll_h0 = -(6948.616883456 - 2 * 30) / 2
    assert 2 * (h1.loglik - ll_h0) == pytest.approx(81.5395462856, rel=1e-6)


def test_loglik_gradient_matches_finite_differences(hs):
    rng = np.random.default_rng(3)
    h1 = em_moments(hs)
    mu = h1.mean + 0.1 * rng.standard_normal(9)
    sigma = h1.cov + 0.1 * np.eye(9)
    sums = pattern_sums(hs)
    _, gmu, G = loglik(sums, mu[None], sigma[None])
    h = 1e-6
    for (a, b) in [(0, 0), (2, 5), (8, 1)]:
        E = np.zeros((9, 9))
        E[a, b] = E[b, a] = 1.0
        num = (loglik(sums, mu[None], (sigma + h * E)[None], gradient=False)[0]
               - loglik(sums, mu[None], (sigma - h * E)[None], gradient=False)[0]) / (2 * h)
        assert num[0] == pytest.approx(G[0, a, b] * (1 if a == b else 2), rel=1e-6)
    e = np.eye(9)[4]
    num = (loglik(sums, (mu + h * e)[None], sigma[None], gradient=False)[0]
           - loglik(sums, (mu - h * e)[None], sigma[None], gradient=False)[0]) / (2 * h)
    assert num[0] == pytest.approx(gmu[0, 4], abs=1e-5)
    # casewise scores add up to the total gradient
    cmu, cG = casewise_scores(hs, mu, sigma)
    assert np.allclose(cmu.sum(axis=0), gmu[0]) and np.allclose(cG.sum(axis=0), G[0])


def test_weighted_sums_equal_duplicated_rows(hs):
    """Case weights (bootstrap multiplicities) give the same log-likelihood as physically repeated rows."""
    rng = np.random.default_rng(5)
    idx = rng.integers(0, hs.n, hs.n)
    w = np.bincount(idx, minlength=hs.n)[None].astype(float)
    h1 = em_moments(hs)
    weighted = loglik(pattern_sums(hs, w), h1.mean[None], h1.cov[None])[0][0]
    repeated = pattern_loglik(Patterns.from_array(hs.x[idx]), h1.mean, h1.cov)
    assert weighted == pytest.approx(repeated, rel=1e-10)


def test_little_worked_example_by_hand():
    """Rows (1, 2), (3, 5), (2, 2), (2, ·): monotone, so EM = factored ML: μ1 = 2, σ11 = 0.5; in the complete
    pattern x̄ = (2, 3), β = s12/s11 = 1/(2/3) = 1.5, μ2 = 3 + 1.5·(2 − 2) = 3.  Both patterns' means equal μ̂,
    so d² = 0 with df = (2 + 1) − 2 = 1.
    """
    x = np.array([[1.0, 2.0], [3.0, 5.0], [2.0, 2.0], [2.0, np.nan]])
    data = Patterns.from_array(x)
    h1 = em_moments(data)
    assert h1.mean == pytest.approx([2.0, 3.0], abs=1e-9)
    assert h1.cov[0, 0] == pytest.approx(0.5, abs=1e-9)
    test = little_mcar(data, h1)
    assert test.df == 1
    assert test.chi2 == pytest.approx(0.0, abs=1e-9)


def test_little_worked_example_nonzero():
    """Monotone pattern, checked by hand.  x1 = (0, 2, 1, 5, 6), x2 = (1, 3, 3, ·, ·).

    EM = factored ML: μ1 = 14/5 = 2.8, σ11 = 26.8/5 = 5.36.  Complete pattern A (3 rows): x̄_A = (1, 7/3),
    s11 = 2/3, s12 = 2/3 ⇒ β = 1, residual variance 8/9 − 2/3 = 2/9; so μ2 = 7/3 + 1·(2.8 − 1) = 4.1333,
    σ12 = 5.36, σ22 = 5.36 + 2/9.  ȳ_A − μ = −1.8·(1, 1) and (1, 1)Σ⁻¹(1, 1)' = 1/5.36, so pattern A adds
    3·3.24/5.36; pattern B (2 rows, ȳ1 = 5.5) adds 2·2.7²/5.36.  d² = 24.3/5.36 = 4.53358, df = 3 − 2 = 1.
    """
    x = np.array([[0.0, 1.0], [2.0, 3.0], [1.0, 3.0], [5.0, np.nan], [6.0, np.nan]])
    data = Patterns.from_array(x)
    h1 = em_moments(data)
    assert h1.mean == pytest.approx([2.8, 7 / 3 + 1.8], abs=1e-8)
    assert h1.cov == pytest.approx(np.array([[5.36, 5.36], [5.36, 5.36 + 2 / 9]]), abs=1e-8)
    test = little_mcar(data, h1)
    assert test.df == 1
    assert test.chi2 == pytest.approx(24.3 / 5.36, rel=1e-8)
    assert test.pvalue == pytest.approx(stats.chi2.sf(24.3 / 5.36, 1), rel=1e-8)


def test_little_pvalues_uniform_under_mcar():
    """200 simulated MCAR data sets (n = 300, p = 4, 15 % blanks, seed 11): p-values ~ U(0, 1)."""
    rng = np.random.default_rng(11)
    cov = 0.5 * np.eye(4) + 0.5
    pvals = []
    for _ in range(200):
        x = rng.multivariate_normal(np.zeros(4), cov, size=300)
        x[rng.random(x.shape) < 0.15] = np.nan
        x = x[~np.isnan(x).all(axis=1)]
        data = Patterns.from_array(x)
        pvals.append(little_mcar(data, em_moments(data, tol=1e-8)).pvalue)
    assert stats.kstest(pvals, "uniform").pvalue > 0.01
    assert 0.02 < np.mean(np.array(pvals) < 0.05) < 0.09


def test_little_rejects_mar_dependence():
    """x2 blank whenever x1 is large: the pattern means differ, Little's test rejects."""
    rng = np.random.default_rng(12)
    x = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=400)
    x[x[:, 0] > 0.5, 1] = np.nan
    data = Patterns.from_array(x)
    assert little_mcar(data, em_moments(data)).pvalue < 1e-6


def test_percent_missing():
    x = np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, np.nan]])
    assert percent_missing(x, ["a", "b"]) == {"a": pytest.approx(100 / 3), "b": pytest.approx(200 / 3)}
