"""A 20-item, 5-construct mediation model used by the bootstrap tests and benchmarks (a fixture, not shipped).

X1, X2 → M → Y1, Y2 (plus direct X1 → Y1 and X2 → Y2), four items per construct, six ``:=`` indirect
effects and two totals.  Data are simulated from the population model with numpy (seeded) and, by
default, cut into 5-point Likert categories like a firm survey.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

CONSTRUCTS = ("X1", "X2", "M", "Y1", "Y2")

MEDIATION_SYNTAX = "\n".join(
    [f"{c} =~ {' + '.join(f'{c.lower()}_{i}' for i in range(1, 5))}" for c in CONSTRUCTS]
    + ["M ~ a1*X1 + a2*X2",
       "Y1 ~ b1*M + c1*X1",
       "Y2 ~ b2*M + c2*X2",
       "ind_X1_M_Y1 := a1*b1",
       "ind_X1_M_Y2 := a1*b2",
       "ind_X2_M_Y1 := a2*b1",
       "ind_X2_M_Y2 := a2*b2",
       "total_X1_Y1 := c1 + a1*b1",
       "total_X2_Y2 := c2 + a2*b2"]) + "\n"


def simulate_mediation(n: int = 128, seed: int = 20260, *, likert: bool = True) -> pd.DataFrame:
    """Items of the mediation model for ``n`` firms (standardised latent scale, loadings 0.6–0.85)."""
    rng = np.random.default_rng(seed)
    x = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
    m = 0.4 * x[:, 0] + 0.3 * x[:, 1] + rng.normal(0, np.sqrt(0.67), n)
    y1 = 0.45 * m + 0.2 * x[:, 0] + rng.normal(0, np.sqrt(0.65), n)
    y2 = 0.35 * m + 0.15 * x[:, 1] + rng.normal(0, np.sqrt(0.8), n)
    eta = {"X1": x[:, 0], "X2": x[:, 1], "M": m, "Y1": y1, "Y2": y2}
    cols = {}
    for c in CONSTRUCTS:
        for i, lam in enumerate((0.85, 0.75, 0.7, 0.6), start=1):
            z = lam * eta[c] / eta[c].std() + rng.normal(0, np.sqrt(1 - lam ** 2), n)
            cols[f"{c.lower()}_{i}"] = (np.digitize(z, [-1.5, -0.5, 0.5, 1.5]) + 1).astype(float) if likert else z
    return pd.DataFrame(cols)
