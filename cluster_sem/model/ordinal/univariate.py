"""Step 1 of Muthén (1984): thresholds from the univariate margins and their casewise scores.

Without covariates the ML thresholds of an ordered probit are closed-form: τ_k = Φ⁻¹(cumulative proportion
of categories ≤ k), exactly lavaan's ``lav_uvord_th``.  Everything is batched over leading axes (item, and
bootstrap resample) so the bootstrap recomputes thresholds for all resamples in one call.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from .bvn import BIG


def bounds_from_counts(counts: np.ndarray, n_cat: np.ndarray) -> np.ndarray:
    """Category bounds (..., p, K+1): −∞, τ_1 … τ_{K_v−1}, +∞ (padded with +∞ beyond K_v)."""
    k_max = counts.shape[-1]
    cum = np.cumsum(counts, axis=-1) / counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        inner = ndtri(np.clip(cum[..., :-1], 0.0, 1.0))
    out = np.full(counts.shape[:-1] + (k_max + 1,), BIG)
    out[..., 0] = -BIG
    t = np.arange(1, k_max)
    valid = t[None, :] < n_cat[:, None]                      # (p, K−1): a real threshold
    out[..., 1:k_max] = np.where(valid, np.clip(inner, -BIG, BIG), BIG)
    return out


def threshold_vector(bounds: np.ndarray, n_cat: np.ndarray) -> np.ndarray:
    """Flatten real thresholds (item by item) to the sample-statistics vector's threshold block."""
    return np.concatenate([bounds[..., v, 1:n_cat[v]] for v in range(len(n_cat))], axis=-1)


def category_scores(bounds: np.ndarray) -> np.ndarray:
    """∂ log P(category c)/∂τ_t for every category c and threshold slot t: shape (..., p, K, K−1).

    P(c) = Φ(b_{c+1}) − Φ(b_c); τ_t = b_t is the lower bound of category t and the upper bound of t−1.
    """
    k_max = bounds.shape[-1] - 1
    dens = np.where(np.abs(bounds) >= BIG, 0.0, np.exp(-0.5 * bounds ** 2) / np.sqrt(2 * np.pi))
    prob = ndtr(bounds[..., 1:]) - ndtr(bounds[..., :-1])               # (..., p, K)
    prob = np.where(prob > 0, prob, 1.0)
    out = np.zeros(bounds.shape[:-1] + (k_max, k_max - 1))
    for t in range(1, k_max):
        out[..., t - 1, t - 1] = dens[..., t] / prob[..., t - 1]        # upper bound of category t−1
        out[..., t, t - 1] = -dens[..., t] / prob[..., t]                # lower bound of category t
    return out
