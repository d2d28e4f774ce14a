"""Sample-size answers: the smallest n reaching the target power, and analytic power formulas.

* ``min_n``: the first n of the grid whose simulated power reaches the target; between it and the previous
  n the crossing is interpolated linearly and rounded up; the smallest n of the grid when it already
  reaches the target (the answer is then "at most that n"); null when no n does (beyond the largest n).
* ``rmsea_power``: MacCallum, Browne & Sugawara (1996) power of the test of close fit, H0: ε ≤ .05 against
  ε = .08, with noncentrality (N − 1)·df·ε² and a noncentral χ²(df) — analytic, no simulation.
* ``lrt_power``: Satorra & Saris (1985): power of the likelihood-ratio test of a restriction with df_diff
  degrees of freedom, noncentrality N·F_ML(restricted model fitted to the population Σ) (lavaan's χ² = N·F).
"""
from __future__ import annotations

import math

from scipy import stats


def min_n(points: list[tuple[int, float | None]], target: float) -> int | None:
    points = sorted(points)
    prev = None
    for n, power in points:
        if power is not None and power >= target:
            if prev is None or prev[1] is None:
                return int(n)
            n0, p0 = prev
            return int(math.ceil(n0 + (target - p0) * (n - n0) / (power - p0)))
        prev = (n, power)
    return None


def rmsea_power(n: int, df: int, *, alpha: float = 0.05, rmsea0: float = 0.05, rmsea1: float = 0.08) -> float | None:
    if df < 1 or n < 2:
        return None
    crit = stats.ncx2.ppf(1 - alpha, df, (n - 1) * df * rmsea0 ** 2)
    return float(stats.ncx2.sf(crit, df, (n - 1) * df * rmsea1 ** 2))


def lrt_power(n: int, fmin_restricted: float, *, df: int = 1, alpha: float = 0.05) -> float:
    crit = stats.chi2.ppf(1 - alpha, df)
    return float(stats.ncx2.sf(crit, df, n * fmin_restricted))
