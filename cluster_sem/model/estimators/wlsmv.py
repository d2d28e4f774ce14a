"""WLSMV for ordered items (lavaan ``ordered = ..., estimator = "WLSMV"``): thresholds and polychoric
correlations, DWLS with diagonal weights, delta parameterization, robust.sem SEs, scaled-shifted χ²,
Satorra (2000) Δχ².  Its own sample statistics, so whole fitters (``model/ordinal/``) rather than stages
plugged into ``fit_groups``; ``--cluster`` goes into its Γ (same fitter), weights are refused."""
from __future__ import annotations

from .base import DeltaTest, Estimator

WLSMV = Estimator(
    estimator="WLSMV", missing="listwise", kind="WLSMV", shown="WLSMV",
    fitter="ordinal.fit:fit_call", design_fitter="ordinal.fit:fit_call",
    group_fitter="ordinal.group_fit:fit_call", casewise=False, score_tests=False, bootstrap="wlsmv",
    delta_test=DeltaTest("scaled.shifted", "ordinal.group_robust:satorra2000_difference"),
    conventions="lavaan 0.6 (WLSMV: ordered items, polychoric correlations, DWLS with diagonal weights, delta "
                "parameterization, robust.sem SEs, scaled-shifted chi2 with N - 1, conditional.x for controls)",
    invariance_conventions="lavaan 0.6-14 (WLSMV: ordered items, delta parameterization, group.equal with "
                           "thresholds, lavTestLRT scaled-shifted difference (satorra.2000); no score tests)")
