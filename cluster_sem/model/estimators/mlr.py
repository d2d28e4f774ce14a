"""Robust ML (lavaan ``estimator = "MLR"``): ML estimates, Huber–White sandwich SEs (observed information as
bread), Yuan–Bentler (Mplus) scaled χ², robust CFI/TLI/RMSEA; Satorra–Bentler (2001) Δχ².  One group: the
casewise likelihood (its case scores); several groups: ``robust_groups`` plugged into ``fit_groups``."""
from __future__ import annotations

from .base import DeltaTest, Estimator, Stages

SATORRA_BENTLER_2001 = DeltaTest("yuan.bentler.mplus", "robust_groups:satorra_bentler_difference")
MLR_STAGES = Stages("objective_ml:MLObjective", "robust_groups:vcov_sandwich",
                    "robust_groups:yuan_bentler_mplus_test", test_needs_solution=True)

MLR = Estimator(
    estimator="MLR", missing="listwise", kind="MLR", shown="MLR",
    group_stages=MLR_STAGES, cluster_stages=MLR_STAGES, delta_test=SATORRA_BENTLER_2001,
    conventions="lavaan 0.6 (MLR: Huber-White sandwich SEs with the observed information as bread, Yuan-Bentler "
                "(Mplus) scaled chi2, robust CFI/TLI/RMSEA, fixed.x)",
    invariance_conventions="lavaan 0.6 (MLR, group.equal: Huber-White sandwich SEs, Yuan-Bentler (Mplus) scaled "
                           "chi2, robust CFI/RMSEA, lavTestLRT Satorra-Bentler 2001 scaled difference, lavTestScore)")
