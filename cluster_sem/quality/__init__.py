"""Measurement quality: reliability, discriminant validity, common-method check, item descriptives."""
from .common_method import HarmanResult, harman_single_factor
from .descriptives import item_descriptives
from .reliability import average_variance_extracted, composite_reliability, cronbach_alpha, measurement_quality
from .validity import fornell_larcker, fornell_larcker_violations, htmt, htmt_flags

__all__ = ["cronbach_alpha", "composite_reliability", "average_variance_extracted", "measurement_quality",
           "htmt", "htmt_flags", "fornell_larcker", "fornell_larcker_violations", "harman_single_factor",
           "HarmanResult", "item_descriptives"]
