"""ML on complete rows (lavaan ``estimator = "ML"``): the covariance-only Fisher-scoring core for one group,
the multigroup ML objective with expected information and the standard χ² for groups; with ``cluster=``
lavaan makes ML robust (sandwich SEs, Yuan–Bentler test with the h1-based information)."""
from __future__ import annotations

from .base import DeltaTest, Estimator, Stages

STANDARD_DIFFERENCE = DeltaTest("standard", "lrt:standard_difference")
ML_STAGES = Stages("objective_ml:MLObjective", "vcov:vcov_expected", "statistic:standard_test")
# cluster= (complete rows): the h0 information of the test is the h1-based one for ML (observed.information = "h1")
ML_CLUSTER_STAGES = Stages("objective_ml:MLObjective", "robust_groups:vcov_sandwich",
                           "robust_groups:yuan_bentler_mplus_h1_test", test_needs_solution=True)

ML = Estimator(
    estimator="ML", missing="listwise", kind="ML", shown="ML",
    fitter="fitted:fit_complete", casewise=False,
    group_stages=ML_STAGES, cluster_stages=ML_CLUSTER_STAGES, delta_test=STANDARD_DIFFERENCE,
    conventions="lavaan 0.6 (ML, N-based chi2, expected information SEs, fixed.x)",
    invariance_conventions="lavaan 0.6 (ML, group.equal, lavTestLRT, lavTestScore)")
