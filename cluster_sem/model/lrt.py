"""Difference tests between nested fits — lavaan's ``lavTestLRT`` (a pluggable piece like the test).

Each estimator's row in the estimator table (``model/estimators``, ``Estimator.delta_test``) names the
difference test for its statistic (``statistic.TestResult.name``), with the signature
``(restricted: ModelFit, free: ModelFit) -> {"chi2", "df", "pvalue"}``: the plain χ² difference here (ML),
Satorra–Bentler (2001) for MLR, Satorra (2000) for WLSMV.
"""
from __future__ import annotations

from scipy import stats

from ..errors import FitError


def standard_difference(restricted, free) -> dict:
    chi2 = float(restricted.fit["chi2"] - free.fit["chi2"])
    df = int(restricted.fit["df"] - free.fit["df"])
    return {"chi2": chi2, "df": df, "pvalue": float(stats.chi2.sf(max(chi2, 0.0), df)) if df > 0 else None}


def lrt(restricted, free) -> dict:
    """Δχ² test of ``restricted`` (more constraints) against ``free``, by the fits' test statistic."""
    from .estimators import delta_test
    name = restricted.test.name if restricted.test is not None else "standard"
    difference = delta_test(name)
    if difference is None:
        raise FitError(f"no difference test for the '{name}' statistic")
    return difference(restricted, free)
