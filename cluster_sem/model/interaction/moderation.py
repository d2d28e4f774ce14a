"""Interpretation of a latent interaction: simple slopes, Johnson–Neyman, conditional indirect effects, IMM.

All functions take plain numbers (estimates and their covariance), so they serve LMS, QML and dblcent
alike.  With ``Y = b X + c W + omega X W``:

* simple slope of X at ``W = w``: ``b + omega w``, variance ``v_bb + w^2 v_oo + 2 w v_bo`` (delta method,
  ``w`` treated as fixed, as in Aiken & West 1991 and modsem's ``simple_slopes``);
* Johnson–Neyman: the ``w`` where ``|b + omega w| / se(w) = z_crit`` — roots of a quadratic;
* conditional indirect effect of a chain ``X -> ... -> M -> Y`` whose link ``M -> Y`` is moderated:
  ``a (b + omega w)`` with ``a`` the product of the other links; the index of moderated mediation is
  ``a omega`` (Hayes 2015).  CIs: Monte Carlo from N(theta, V) (seeded), or percentile CIs (lavaan's
  norm.inter rule) of bootstrap replicates of the coefficients when given; SEs by the delta method.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ...intervals import percentile_ci
from ...options import DEFAULT_SEED
from ...rng import normal_draws

AT = (-1, 0, 1)


@dataclass(frozen=True)
class Coefficients:
    """Estimates of the coefficients an interpretation needs and their covariance (same order)."""

    names: tuple[str, ...]
    est: np.ndarray
    vcov: np.ndarray

    def index(self, name: str) -> int:
        return self.names.index(name)


def _z(level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def simple_slopes(b: float, omega: float, v_bb: float, v_oo: float, v_bo: float, sd_moderator: float,
                  level: float = 0.95, at=AT) -> list[dict]:
    """Slope of the focal predictor at -1/0/+1 SD of the (zero-mean) moderator with normal CIs."""
    z = _z(level)
    out = []
    for k in at:
        w = k * sd_moderator
        est = b + omega * w
        var = v_bb + w * w * v_oo + 2 * w * v_bo
        se = math.sqrt(var) if var > 0 else float("nan")
        p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else None
        out.append({"at": k, "moderator_value": w, "est": est, "se": se, "z": est / se if se > 0 else None,
                    "pvalue": p, "ci_lower": est - z * se, "ci_upper": est + z * se})
    return out


def johnson_neyman(b: float, omega: float, v_bb: float, v_oo: float, v_bo: float,
                   level: float = 0.95) -> tuple[list[float] | None, str | None]:
    """Boundaries ``[lo, hi]`` of the moderator where the slope is just significant, and where it is.

    ``(b + omega w)^2 = z^2 (v_bb + w^2 v_oo + 2 w v_bo)`` is a quadratic in w.  The second value says where
    the slope is significant: ``"outside"`` (w < lo or w > hi), ``"inside"`` (lo < w < hi), or
    ``"everywhere"``/``"nowhere"`` when there is no real boundary (then the interval is None).
    """
    z2 = _z(level) ** 2
    A = omega * omega - z2 * v_oo
    B = 2 * (b * omega - z2 * v_bo)
    C = b * b - z2 * v_bb
    if abs(A) < 1e-15:
        return None, ("everywhere" if C > 0 else "nowhere")
    disc = B * B - 4 * A * C
    if disc < 0:
        return None, ("everywhere" if A > 0 else "nowhere")
    r = sorted(((-B - math.sqrt(disc)) / (2 * A), (-B + math.sqrt(disc)) / (2 * A)))
    return r, ("outside" if A > 0 else "inside")


def lrt(loglik_h1: float, loglik_h0: float, df: int) -> dict:
    """Likelihood-ratio test of the model with vs. without the product term(s)."""
    chi2 = max(0.0, 2 * (loglik_h1 - loglik_h0))
    return {"chi2": chi2, "df": int(df), "pvalue": float(stats.chi2.sf(chi2, df)),
            "loglik_h1": loglik_h1, "loglik_h0": loglik_h0}


def conditional_indirect(coefs: Coefficients, links: list[str], moderated: str, omega: str,
                         sd_moderator: float, *, level: float = 0.95, draws: int = 20000,
                         seed: int = DEFAULT_SEED, replicates: np.ndarray | None = None) -> dict:
    """Conditional indirect effects at -1/0/+1 SD and the index of moderated mediation of one chain.

    ``links`` names the coefficients along the chain; ``moderated`` is the one whose effect depends on
    the moderator (``b + omega w``).  ``replicates`` (B × len(coefs), bootstrap estimates in ``coefs``
    order; NaN rows = failed resamples) replaces the Monte Carlo draws by bootstrap percentile CIs.
    """
    idx = [coefs.index(n) for n in links]
    i_mod, i_om = coefs.index(moderated), coefs.index(omega)
    others = [i for i in idx if i != i_mod]
    if replicates is None:
        sims = normal_draws(coefs.est, coefs.vcov, draws, seed)
    else:
        sims = np.asarray(replicates, dtype=float)
        sims = sims[np.all(np.isfinite(sims), axis=1)]
        draws = len(sims)
    probs = [(1 - level) / 2, (1 + level) / 2]

    def summarise(value: float, grad: np.ndarray, sim: np.ndarray, **extra) -> dict:
        var = float(grad @ coefs.vcov @ grad)
        lo, hi = np.quantile(sim, probs) if replicates is None else percentile_ci(sim, level)
        return {**extra, "est": value, "se": math.sqrt(var) if var > 0 else None,
                "ci_lower": float(lo), "ci_upper": float(hi)}

    a = float(np.prod(coefs.est[others])) if others else 1.0
    a_sim = np.prod(sims[:, others], axis=1) if others else np.ones(draws)
    conditional = []
    for k in AT:
        w = k * sd_moderator
        slope = coefs.est[i_mod] + coefs.est[i_om] * w
        grad = np.zeros(len(coefs.est))
        for i in others:
            grad[i] = a / coefs.est[i] * slope if coefs.est[i] != 0 else float(
                np.prod([coefs.est[j] for j in others if j != i])) * slope
        grad[i_mod] = a
        grad[i_om] = a * w
        conditional.append(summarise(a * slope, grad, a_sim * (sims[:, i_mod] + sims[:, i_om] * w),
                                     at=k, moderator_value=w))
    grad = np.zeros(len(coefs.est))
    for i in others:
        grad[i] = float(np.prod([coefs.est[j] for j in others if j != i])) * coefs.est[i_om]
    grad[i_om] = a
    index = summarise(a * coefs.est[i_om], grad, a_sim * sims[:, i_om])
    method = "monte_carlo" if replicates is None else "percentile"
    out = {**index, "ci_method": method, "draws": draws, "seed": seed, "level": level,
           "conditional_indirect": conditional}
    if replicates is not None:  # B asked for vs. replicates used (failed resamples are dropped, as lavaan does)
        out["bootstrap"] = len(replicates)
    return out
