"""Per-replication arrays → the numbers of power.json, for one sample size.

Averages are over converged replications (inadmissible but converged ones are kept, as lavaan and the
bootstrap keep them, and counted): of the linear model for paths and indirect effects, of the
interaction (product-indicator) model for interactions.  power_mc_se = √(p(1 − p)/R) is the Monte Carlo error of the power
estimate; relative bias is bias / population value (null when the population value is ~0).
"""
from __future__ import annotations

import math

import numpy as np

from ..results.jsonsafe import json_float as _num
from .effects import Effect
from .fitbatch import ChunkResult


def merge(chunks: list[ChunkResult]) -> dict[str, np.ndarray]:
    """Concatenate one sample size's chunks in replication order."""
    chunks = sorted(chunks, key=lambda c: c.start)
    return {k: np.concatenate([getattr(c, k) for c in chunks]) for k in ChunkResult.ARRAYS}


def summarise_size(n: int, arrays: dict[str, np.ndarray], effects: tuple[Effect, ...]) -> dict:
    reps = len(arrays["converged"])
    rows = []
    for e, eff in enumerate(effects):
        conv = arrays["product_converged" if eff.kind == "interaction" else "converged"]
        m = int(conv.sum())
        est, se = arrays["est"][conv, e], arrays["se"][conv, e]
        power = float(arrays["significant"][conv, e].mean()) if m else math.nan
        bias = float(est.mean() - eff.population) if m else math.nan
        rows.append({
            "name": eff.name, "kind": eff.kind, "population": _num(eff.population),
            "power": _num(power), "power_mc_se": _num(math.sqrt(power * (1 - power) / m)) if m else None,
            "mean_est": _num(est.mean()) if m else None, "bias": _num(bias),
            "relative_bias": _num(bias / eff.population) if m and abs(eff.population) > 1e-8 else None,
            "sd_est": _num(est.std(ddof=1)) if m > 1 else None, "mean_se": _num(se.mean()) if m else None,
            "coverage": _num(arrays["covered"][conv, e].mean()) if m else None,
            "population_std": _num(eff.population_std), "hypothesis": eff.hypothesis, "converged": m,
        })
    conv = arrays["converged"]
    out = {"n": int(n), "reps": reps, "converged": int(conv.sum()),
           "inadmissible": int((conv & ~arrays["admissible"]).sum()), "dropped": reps - int(conv.sum()),
           "refitted": int(arrays["fallback"].sum()),
           "rows_dropped_mean": _num(n - arrays["n_used"].mean()), "effects": rows}
    if any(eff.kind == "interaction" for eff in effects):
        pc = arrays["product_converged"]
        out["interaction_model"] = {"converged": int(pc.sum()),
                                    "inadmissible": int((pc & ~arrays["product_admissible"]).sum())}
    return out
