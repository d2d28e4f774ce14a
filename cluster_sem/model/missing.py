"""Missing-data sample statistics, as lavaan's ``lav_data_patterns`` / ``lav_mvnorm_missing_h1``:

* ``Patterns``: the rows grouped by which items they answered — everything FIML needs is a sum over
  patterns, so a resample (integer case weights w_i) only changes pattern-wise weighted sums;
* ``em_moments``: EM estimates of the saturated (h1) mean vector and covariance matrix — the ML estimates
  under MAR that lavaan uses for the FIML χ², the h1 information and SRMR;
* ``little_mcar``: Little's (1988) χ² test of MCAR from those EM estimates;
* ``percent_missing``: blanks per item.

Rows in which every item is blank carry no information; ``Patterns`` refuses them (the data layer drops
and reports them first), as lavaan drops "empty cases".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from ..special import chdtrc  # = scipy.stats.chi2.sf, without importing scipy.stats (~1 s)

LOG2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class Pattern:
    observed: np.ndarray      # (p,) bool: which items this pattern answered
    rows: np.ndarray          # row numbers (into the data matrix) with this pattern

    @property
    def index(self) -> np.ndarray:
        return np.flatnonzero(self.observed)


@dataclass(frozen=True)
class Patterns:
    """The data matrix (NaN = blank) and its missing-data patterns, most frequent first.

    ``w``: sampling weights of the cases (lavaan ``sampling.weights``, normalised to sum to n), or None.  They
    live here because every likelihood piece is a (weighted) sum over cases: pattern sums, casewise scores,
    EM moments and the log-likelihood all read them, so a weighted fit needs no other code path."""

    x: np.ndarray
    patterns: tuple[Pattern, ...]
    w: np.ndarray | None = None

    @classmethod
    def from_array(cls, x: np.ndarray, weights: np.ndarray | None = None) -> "Patterns":
        x = np.asarray(x, dtype=float)
        obs = ~np.isnan(x)
        if (~obs.any(axis=1)).any():
            raise ValueError("rows with every item blank must be dropped before FIML")
        keys, inverse, counts = np.unique(obs, axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        order = sorted(range(len(keys)), key=lambda k: (-counts[k], tuple(~keys[k])))
        pats = tuple(Pattern(keys[k].copy(), np.flatnonzero(inverse == k)) for k in order)
        return cls(x, pats, None if weights is None else np.asarray(weights, dtype=float))

    @cached_property
    def codes(self) -> np.ndarray:
        """(n,) the pattern number of every case — lets a block of cases find its patterns without a pass
        over all of them (nearly one pattern per case when blanks are random)."""
        out = np.empty(self.n, dtype=np.intp)
        for k, pat in enumerate(self.patterns):
            out[pat.rows] = k
        return out

    def case_weights(self, rows: np.ndarray) -> np.ndarray:
        """The sampling weights of ``rows`` (ones without weights)."""
        return np.ones(len(rows)) if self.w is None else self.w[rows]

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def p(self) -> int:
        return self.x.shape[1]

    @property
    def complete(self) -> bool:
        return len(self.patterns) == 1 and bool(self.patterns[0].observed.all())

    def summary(self, names: list[str], top: int = 10) -> list[dict]:
        """The most frequent patterns as {"missing": [items], "n": count, "percent"} (for results.json)."""
        return [{"missing": [names[j] for j in np.flatnonzero(~pat.observed)], "n": int(len(pat.rows)),
                 "percent": 100.0 * len(pat.rows) / self.n} for pat in self.patterns[:top]]


@dataclass(frozen=True)
class H1:
    """Saturated-model ML estimates under MAR (EM) and the saturated log-likelihood."""

    mean: np.ndarray
    cov: np.ndarray
    loglik: float
    iterations: int


def pattern_loglik(data: Patterns, mean: np.ndarray, cov: np.ndarray) -> float:
    """Observed-data normal log-likelihood Σ_i w_i log φ(x_i,o; μ_o, Σ_oo) (w_i = 1 without weights)."""
    total = 0.0
    for pat in data.patterns:
        o = pat.index
        w = data.case_weights(pat.rows)
        d = data.x[np.ix_(pat.rows, o)] - mean[o]
        chol = np.linalg.cholesky(cov[np.ix_(o, o)])
        z = np.linalg.solve(chol, d.T)
        total += -0.5 * (w.sum() * (len(o) * LOG2PI + 2 * np.log(np.diag(chol)).sum()) + (z * z).sum(axis=0) @ w)
    return float(total)


def em_moments(data: Patterns, *, tol: float = 1e-10, max_iter: int = 10_000) -> H1:
    """EM for (μ, Σ) of a multivariate normal with blanks (lavaan ``lav_mvnorm_missing_h1_estimate_moments``).

    Start: pairwise-available means and variances, zero covariances (lavaan's start).  E-step: for each
    pattern, E[x_m | x_o] = μ_m + Σ_mo Σ_oo⁻¹(x_o − μ_o) and the conditional covariance Σ_mm·o is added to the
    cross-products; M-step: moments of the completed data.  Iterated until the largest change in μ or Σ is
    below ``tol`` (tighter than lavaan's default, so that the h1 log-likelihood is the exact maximum).
    With sampling weights every sum is weighted (lavaan's ``cov.wt(method = "ML")`` for complete data).
    """
    x = data.x
    p = x.shape[1]
    weights = data.case_weights(np.arange(x.shape[0]))
    n = float(weights.sum())
    mean, var = item_moments(data)
    cov = np.diag(var)
    if data.complete:
        mean = weights @ x / n
        d = x - mean
        cov = (d * weights[:, None]).T @ d / n
        return H1(mean, cov, pattern_loglik(data, mean, cov), 0)
    blocks = [(pat.index, np.flatnonzero(~pat.observed), x[np.ix_(pat.rows, pat.index)], weights[pat.rows])
              for pat in data.patterns]
    it = 0
    for it in range(1, max_iter + 1):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for o, m, xo, w in blocks:
            full = np.empty((len(xo), p))
            full[:, o] = xo
            if len(m):
                coef = np.linalg.solve(cov[np.ix_(o, o)], cov[np.ix_(o, m)])          # Σ_oo⁻¹ Σ_om
                full[:, m] = mean[m] + (xo - mean[o]) @ coef
                t2[np.ix_(m, m)] += w.sum() * (cov[np.ix_(m, m)] - cov[np.ix_(m, o)] @ coef)
            t1 += w @ full
            t2 += (full * w[:, None]).T @ full
        new_mean = t1 / n
        new_cov = t2 / n - np.outer(new_mean, new_mean)
        new_cov = 0.5 * (new_cov + new_cov.T)
        change = max(np.abs(new_mean - mean).max(), np.abs(new_cov - cov).max())
        mean, cov = new_mean, new_cov
        if change < tol:
            break
    return H1(mean, cov, pattern_loglik(data, mean, cov), it)


def item_moments(data: Patterns) -> tuple[np.ndarray, np.ndarray]:
    """Each item's (weighted) mean and ML variance over the cases that answered it — EM's start and the
    independence (baseline) model fitted by FIML."""
    x = data.x
    seen = ~np.isnan(x)
    w = data.case_weights(np.arange(x.shape[0]))[:, None] * seen
    x0 = np.where(seen, x, 0.0)
    mean = (w * x0).sum(axis=0) / w.sum(axis=0)
    var = (w * np.where(seen, x0 - mean, 0.0) ** 2).sum(axis=0) / w.sum(axis=0)
    return mean, var


@dataclass(frozen=True)
class LittleTest:
    chi2: float
    df: int
    pvalue: float


def little_mcar(data: Patterns, h1: H1) -> LittleTest:
    """Little (1988): d² = Σ_k n_k (ȳ_k − μ̂_o)' Σ̂_oo⁻¹ (ȳ_k − μ̂_o), df = Σ_k p_k − p, with the EM (ML) μ̂, Σ̂.

    Under MCAR every pattern's observed means estimate the same μ; d² is then asymptotically χ²(df).
    """
    d2 = 0.0
    df = -data.p
    for pat in data.patterns:
        o = pat.index
        diff = data.x[np.ix_(pat.rows, o)].mean(axis=0) - h1.mean[o]
        d2 += len(pat.rows) * float(diff @ np.linalg.solve(h1.cov[np.ix_(o, o)], diff))
        df += len(o)
    pvalue = float(chdtrc(df, d2)) if df > 0 else float("nan")
    return LittleTest(float(d2), int(df), pvalue)


def percent_missing(x: np.ndarray, names: list[str]) -> dict[str, float]:
    blank = np.isnan(np.asarray(x, dtype=float))
    return {name: float(100.0 * blank[:, j].mean()) for j, name in enumerate(names)}
