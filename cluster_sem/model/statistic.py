"""The model test statistic — a pluggable stage (lavaan ``lav_model_test``).

A test function has the signature ``(fmin, stats, model) -> TestResult`` and is named by the estimator's
row in the estimator table (``model/estimators``, ``Stages.test``: lavaan's ``test=``).  Here: the standard
χ² = N·F_ML; the robust tests (``robust_groups``, ``fiml_groups``) return the same chi2/df/pvalue plus
``scaled`` keys (``chi2_scaled``, ``df_scaled``, ``pvalue_scaled``, ``chi2_scaling_factor``);
``fit_indices.fit_measures_groups`` reports whatever the test returned.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..special import chdtrc   # scipy.stats.chi2.sf's own ufunc, without importing scipy.stats
from .group_model import GroupModel
from .sample_stats import SampleStats


@dataclass(frozen=True)
class TestResult:
    name: str
    chi2: float
    df: int
    pvalue: float | None
    scaled: dict = field(default_factory=dict)   # robust keys (contract FIT names), empty for "standard"

    __test__ = False  # not a pytest class


def degrees_of_freedom(stats: SampleStats, model: GroupModel) -> int:
    """Σ_g (p(p+1)/2 [+ p with a mean structure]) minus the fixed.x moments, minus the free parameters."""
    pt = model.partable
    p, nx = len(model.ov), len(pt.variables.ov_x)
    per_group = p * (p + 1) // 2 - nx * (nx + 1) // 2
    if pt.meanstructure:
        per_group += p - nx
    return stats.n_groups * per_group - pt.n_free


def standard_test(fmin: float, stats: SampleStats, model: GroupModel) -> TestResult:
    chi2 = float(stats.ntotal * fmin)
    df = degrees_of_freedom(stats, model)
    return TestResult("standard", chi2, df, float(chdtrc(df, chi2)) if df > 0 else None)

