"""Monte Carlo power and sample size from the spec's ``population`` section (engine beside the model).

    doc = run_power("questionnaires/zhejiang_cluster_growth.yaml",
                    PowerOptions(sizes=(100, 128, 200, 300), reps=1000, seed=1), out_dir="power/")

Modules, one job each: ``population`` (pseudo-true population values from the exact Σ_pop), ``effects``
(what is tested), ``draw`` (seeded replications via the simulator), ``fitbatch`` (batched fits + tests of
one chunk), ``summarise`` (per-n numbers), ``checkpoint`` (--resume), ``planning`` (min n, RMSEA and LRT
power), ``engine`` (the stages).  Rendering lives in ``cluster_sem.render.power``.
"""
from __future__ import annotations

from .engine import PowerOptions, check_options, run_power

__all__ = ["PowerOptions", "check_options", "run_power"]
