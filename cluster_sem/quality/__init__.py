"""Measurement quality: reliability, discriminant validity, common-method check, item descriptives."""
from .common_method import HarmanResult, harman_single_factor, harman_test
from .descriptives import item_descriptives
from .reliability import (ALPHA_MIN, AVE_MIN, LOADING_MIN, OMEGA_MIN, average_variance_extracted, below,
                          composite_reliability, cronbach_alpha, measurement_quality)
from .validity import (HTMT_LIBERAL, HTMT_STRICT, fornell_larcker, fornell_larcker_fails, fornell_larcker_verdict,
                       fornell_larcker_violations, htmt, htmt_flags, htmt_level)

__all__ = ["cronbach_alpha", "composite_reliability", "average_variance_extracted", "measurement_quality",
           "htmt", "htmt_flags", "fornell_larcker", "fornell_larcker_violations", "harman_single_factor", "harman_test",
           "HarmanResult", "item_descriptives", "htmt_level", "fornell_larcker_fails", "fornell_larcker_verdict",
           "below", "ALPHA_MIN", "OMEGA_MIN", "AVE_MIN", "LOADING_MIN", "HTMT_STRICT", "HTMT_LIBERAL"]
