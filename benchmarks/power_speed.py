"""Power-engine speed: ms per replication, batched engine vs one-at-a-time refits, in one process.

    PYTHONPATH=. python benchmarks/power_speed.py                 # 1000 reps × 5 sample sizes, jobs = 2

Model: the 20-item, 5-construct mediation model of the bootstrap benchmark as a spec
(benchmarks/specs/mediation20.yaml; 5-point items).  It times
  (a) ``run_power`` for n = 100, 128, 200, 300, 500 × ``--reps`` with ``--jobs`` processes — wall time of the
      whole study (population values, draws, batched fits, SEs, 2000-draw Monte Carlo CIs per replication,
      summaries), reported as ms per replication;
  (b) the same replications (the first ``--naive`` of n = 128, identical data) fitted one at a time the
      usual way: ``fit_model`` (semopy start + Fisher scoring + lavaan SEs) per data set, single process;
  (c) one-at-a-time Fisher scoring started at the population values (the strongest serial baseline);
and prints ms/replication and the ratios.  lavaan's ~100 ms per replication is quoted from the issue.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPEC = ROOT / "benchmarks" / "specs" / "mediation20.yaml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--naive", type=int, default=40)
    args = ap.parse_args()

    import numpy as np
    import pandas as pd

    from cluster_sem.model.estimator import fisher_scoring
    from cluster_sem.model.fitted import fit_model
    from cluster_sem.power import PowerOptions, run_power
    from cluster_sem.power.draw import draw_replication
    from cluster_sem.power.engine import build_core
    from cluster_sem.spec import load_spec
    from cluster_sem.spec.syntax import structural_syntax

    sizes = (100, 128, 200, 300, 500)
    spec = load_spec(SPEC)
    t0 = time.perf_counter()
    run_power(spec, PowerOptions(sizes=sizes, reps=args.reps, seed=1, jobs=args.jobs))
    engine = time.perf_counter() - t0
    total = args.reps * len(sizes)
    ms_engine = 1e3 * engine / total

    # CPU time of the same study in this process (jobs = 1): independent of how busy the machine's other
    # cores are; wall time on J free cores is about this divided by J
    c0 = time.process_time()
    run_power(spec, PowerOptions(sizes=sizes, reps=args.reps, seed=1, jobs=1))
    ms_cpu = 1e3 * (time.process_time() - c0) / total

    core, _ = build_core(spec, PowerOptions(sizes=(128,)))
    syntax = structural_syntax(spec, with_defined=True)
    names = list(core.matrix_model.ov)
    data = [draw_replication(core.sampler, core.columns, 128, 1, r) for r in range(args.naive)]
    from threadpoolctl import threadpool_limits
    with warnings.catch_warnings(), threadpool_limits(1):   # one BLAS thread, as every engine worker uses
        warnings.simplefilter("ignore")
        fit_model(syntax, pd.DataFrame(data[0], columns=names))     # warm-up (imports): not timed
        t0, c0 = time.perf_counter(), time.process_time()
        for x in data:
            fit_model(syntax, pd.DataFrame(x, columns=names))
        naive, naive_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        for x in data:
            S = np.cov(x.T, bias=True)
            fisher_scoring(core.matrix_model, S, core.theta_pop)
            core.matrix_model.expected_hessian(core.theta_pop, S)   # + its SEs
        scoring, scoring_cpu = time.perf_counter() - t0, time.process_time() - c0
    ms_naive, ms_scoring = 1e3 * naive / args.naive, 1e3 * scoring / args.naive
    cpu_naive, cpu_scoring = 1e3 * naive_cpu / args.naive, 1e3 * scoring_cpu / args.naive
    print(f"model: 20 items, 5 constructs, {core.partable.n_free} free parameters; "
          f"n = {', '.join(map(str, sizes))}; {args.reps} replications each")
    print(f"  engine        : {engine:7.2f} s wall for {total} replications with jobs={args.jobs} "
          f"= {ms_engine:.2f} ms/replication (target <= 5)")
    print(f"  engine CPU    : {ms_cpu:7.2f} ms CPU/replication in one process (jobs=1) "
          f"-> ~{ms_cpu / args.jobs:.2f} ms/replication wall on {args.jobs} free cores")
    print(f"  fit_model loop: {ms_naive:7.1f} ms wall, {cpu_naive:7.1f} ms CPU per replication (semopy + Fisher "
          f"scoring + SEs, one at a time, {args.naive} replications) -> CPU ratio {cpu_naive / ms_cpu:.1f}x")
    print(f"  scoring loop  : {ms_scoring:7.1f} ms wall, {cpu_scoring:7.1f} ms CPU per replication (Fisher scoring "
          f"from the population values + SEs, one at a time) -> CPU ratio {cpu_scoring / ms_cpu:.1f}x")
    print(f"  lavaan loop   : ~100 ms/replication (quoted from the issue, not measured) -> "
          f"~{100 / ms_engine:.0f}x the engine's wall time here")
    print(f"  machine load while timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (others' jobs share them)")


if __name__ == "__main__":
    main()
