"""Monte Carlo CIs for defined (``:=``) effects (Selig & Preacher, 2008; MacKinnon et al., 2004).

Draw θ* ~ N(θ̂, V̂) with V̂ the ML covariance of the estimates (``ModelFit.vcov``), evaluate every defined
parameter on each draw (vectorised: ``defined_values`` accepts an (R, q) array) and take percentiles
(numpy's linear quantile = R's ``quantile(type = 7)``, as semmcci/RMediation do).  Draws come from
``rng.normal_draws`` on the root stream of ``seed``, so the result is a pure function of (fit, draws, seed, level).
20 000 draws take a few milliseconds.
"""
from __future__ import annotations

import numpy as np

from ..model.inference import defined_values
from ..options import DEFAULT_SEED
from ..rng import normal_draws


def monte_carlo_ci(fit, *, draws: int = 20000, seed: int = DEFAULT_SEED, level: float = 0.95) -> list[dict]:
    """One record per ``:=`` parameter: name, est, se (SD of the draws), ci (lo, hi), draws, level."""
    pt = fit.partable
    if not pt.defined:
        return []
    vcov = np.asarray(fit.vcov, dtype=float)
    if not np.all(np.isfinite(vcov)):
        raise ValueError("Monte Carlo CIs need the covariance matrix of the estimates (model not identified?)")
    theta = normal_draws(fit.theta, vcov, draws, seed)
    values = defined_values(pt, theta)                  # (draws, d)
    est = defined_values(pt, np.asarray(fit.theta, dtype=float))
    probs = [(1 - level) / 2, (1 + level) / 2]
    out = []
    for i, row in enumerate(pt.defined):
        col = values[:, i]
        col = col[np.isfinite(col)]
        lo, hi = np.quantile(col, probs)
        out.append({"name": row.lhs, "expression": row.rhs, "est": float(est[i]),
                    "se": float(np.std(col, ddof=1)), "ci": (float(lo), float(hi)),
                    "draws": int(draws), "seed": seed, "level": level, "method": "monte_carlo"})
    return out
