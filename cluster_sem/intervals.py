"""Percentile and bias-corrected intervals of replicates, and their SE, in lavaan's conventions.

A base module (numpy and ``special`` only) because three layers use one rule: the bootstrap
(``bootstrap.ci`` re-exports it), the moderation CIs of ``model/interaction/moderation.py`` and the
per-replication bootstrap of ``power``.

* ``percentile_ci``: lavaan's ``boot.ci.type = "perc"``.  lavaan does **not** use R's ``quantile()``
  here but boot's ``norm.inter`` (``lav_bootstrap_norm_inter``): the (R+1)·α-th order statistic, with
  interpolation between neighbouring order statistics on the normal-quantile scale.  That is the
  default (``method="norm.inter"``); ``method="type7"`` gives R's ``quantile(type = 7)`` = numpy's
  default linear quantile.  For B = 2000 the two differ by a fraction of the gap between adjacent
  order statistics.
* ``bc_ci``: lavaan's ``"bca.simple"`` (bias-corrected, no acceleration):
  z0 = Φ⁻¹(#{t* < t̂}/B), limits = norm.inter(t*, Φ(2·z0 ± z_{1−α/2})).
* ``bootstrap_se``: standard deviation of the replicates with divisor B − 1 (R's ``sd``), as lavaan.
Non-finite replicates (non-converged resamples) are dropped first, as lavaan drops failed runs.
"""
from __future__ import annotations

import numpy as np
from .special import ndtr, ndtri  # = scipy.stats.norm.cdf/.ppf, without importing scipy.stats


def _finite(t) -> np.ndarray:
    t = np.asarray(t, dtype=float).ravel()
    return t[np.isfinite(t)]


def norm_inter(t, alpha) -> np.ndarray:
    """boot::norm.inter: quantiles of ``t`` at probabilities ``alpha`` (lavaan's percentile rule)."""
    t = np.sort(_finite(t))
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    R = len(t)
    if R == 0:
        return np.full(alpha.shape, np.nan)
    rk = (R + 1) * alpha
    k = np.trunc(rk).astype(int)
    out = np.empty(alpha.shape)
    for i, (a, r, kk) in enumerate(zip(alpha, rk, k)):
        if kk == r and 1 <= kk <= R:
            out[i] = t[kk - 1]
        elif kk <= 0:
            out[i] = t[0]
        elif kk >= R:
            out[i] = t[R - 1]
        else:
            z1, z2, z3 = ndtri([a, kk / (R + 1), (kk + 1) / (R + 1)])
            out[i] = t[kk - 1] + (z1 - z2) / (z3 - z2) * (t[kk] - t[kk - 1])
    return out


def quantile_type7(t, probs) -> np.ndarray:
    """R's ``quantile(type = 7)`` (numpy's default linear rule) of ``t``'s finite values at ``probs``; NaN
    when there are none.  seminr's percentile intervals (PLS) and ``percentile_ci(method="type7")``."""
    x = _finite(t)
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    return np.quantile(x, probs) if len(x) else np.full(probs.shape, np.nan)


def percentile_ci(t, level: float = 0.95, *, method: str = "norm.inter") -> tuple[float, float]:
    alpha = np.array([(1 - level) / 2, (1 + level) / 2])
    if method == "norm.inter":
        lo, hi = norm_inter(t, alpha)
    elif method == "type7":
        lo, hi = quantile_type7(t, alpha)
    else:
        raise ValueError(f"unknown percentile method {method!r} (norm.inter or type7)")
    return float(lo), float(hi)


def bc_ci(t, est: float, level: float = 0.95) -> tuple[float, float]:
    """Bias-corrected percentile CI (lavaan "bca.simple"); the point estimate when t has no spread."""
    x = _finite(t)
    if len(x) < 2 or np.var(x) == 0:
        return float(est), float(est)
    z0 = ndtri(np.sum(x < est) / len(x))
    zalpha = ndtri([(1 - level) / 2, (1 + level) / 2])
    adj = ndtr(2 * z0 + zalpha)
    lo, hi = norm_inter(x, adj)
    return float(lo), float(hi)


def bootstrap_se(t) -> float:
    x = _finite(t)
    return float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")
