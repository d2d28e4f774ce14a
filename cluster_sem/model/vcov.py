"""Variance of the estimates — a pluggable stage (lavaan ``lav_model_vcov``).

A vcov function has the signature ``(objective, theta, stats) -> (q, q)`` and is named by the estimator's
row in the estimator table (``model/estimators``, ``Stages.vcov``: lavaan's ``information=`` / ``se=``).
Here: the inverse expected information (N · I₁)⁻¹ with I₁ = H/2 (H = E[∂²F/∂θ∂θ'] of the objective, per
case), N the total sample size; FIML's observed information and MLR's sandwich live beside their stages.
"""
from __future__ import annotations

import numpy as np

from .sample_stats import SampleStats


def vcov_expected(objective, theta: np.ndarray, stats: SampleStats) -> np.ndarray:
    """Inverse expected information of the objective at θ, total N."""
    return vcov_from_hessian(objective.expected_hessian(theta, stats), stats.ntotal)


def vcov_from_hessian(H: np.ndarray, n: int) -> np.ndarray:
    """(N · H/2)⁻¹; NaN-filled when singular (model not identified)."""
    try:
        inv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.full_like(H, np.nan)
    if not np.all(np.isfinite(inv)) or np.any(np.diag(inv) <= 0):
        return np.full_like(H, np.nan)
    return 2.0 * inv / n

