"""Difference tests between nested fits — lavaan's ``lavTestLRT`` (a pluggable piece like the test).

``DELTA_TESTS`` maps the test name of the fits (``statistic.TestResult.name``) to a difference test with
the signature ``(restricted: ModelFit, free: ModelFit) -> {"chi2", "df", "pvalue"}``.  Now: "standard"
(plain χ² difference, ML).  The MLR helper registers the Satorra–Bentler (2001) scaled difference under
its test's name.
"""
from __future__ import annotations

from scipy import stats

from ..errors import FitError


def standard_difference(restricted, free) -> dict:
    chi2 = float(restricted.fit["chi2"] - free.fit["chi2"])
    df = int(restricted.fit["df"] - free.fit["df"])
    return {"chi2": chi2, "df": df, "pvalue": float(stats.chi2.sf(max(chi2, 0.0), df)) if df > 0 else None}


DELTA_TESTS = {"standard": standard_difference}


def lrt(restricted, free) -> dict:
    """Δχ² test of ``restricted`` (more constraints) against ``free``, by the fits' test statistic."""
    name = restricted.test.name if restricted.test is not None else "standard"
    if name not in DELTA_TESTS:
        raise FitError(f"no difference test for the '{name}' statistic")
    return DELTA_TESTS[name](restricted, free)
