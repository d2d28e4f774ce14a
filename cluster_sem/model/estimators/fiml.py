"""Full-information ML (lavaan ``missing = "ml"``) under ML and MLR: the casewise likelihood with a mean
structure, χ² against the EM saturated model, observed information; with MLR the sandwich, the Yuan–Bentler
test and Zhang–Savalei's FIML-corrected robust indices (``fiml_groups`` for several groups).  Clusters across
groups run on complete rows only (``lavoptions.SUPPORT`` refuses them here)."""
from __future__ import annotations

from .base import Estimator, Stages
from .ml import STANDARD_DIFFERENCE
from .mlr import SATORRA_BENTLER_2001

FIML_STAGES = Stages("objective_fiml:FimlObjective", "fiml_groups:vcov_observed", "statistic:standard_test",
                     fit_measures="fiml_groups:fit_measures_fiml")
FIML_MLR_STAGES = Stages("objective_fiml:FimlObjective", "robust_groups:vcov_sandwich",
                         "fiml_groups:yuan_bentler_mplus_fiml_test", test_needs_solution=True,
                         fit_measures="fiml_groups:fit_measures_fiml")

FIML = Estimator(
    estimator="ML", missing="fiml", kind="FIML", shown="ML (FIML)",
    group_stages=FIML_STAGES, delta_test=STANDARD_DIFFERENCE,
    conventions="lavaan 0.6 (ML with missing = \"ml\" (FIML): casewise likelihood, chi2 against the EM saturated "
                "model, observed information SEs, fixed.x)")

FIML_MLR = Estimator(
    estimator="MLR", missing="fiml", kind="FIML_MLR", shown="MLR (FIML)",
    group_stages=FIML_MLR_STAGES, delta_test=SATORRA_BENTLER_2001,
    conventions="lavaan 0.6 (MLR with missing = \"ml\" (FIML): Huber-White sandwich SEs with the observed "
                "information as bread, Yuan-Bentler (Mplus) scaled chi2, Zhang-Savalei FIML-corrected robust "
                "CFI/TLI/RMSEA, fixed.x)")
