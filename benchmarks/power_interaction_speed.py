"""Speed of H5 (latent interaction) in the power engine: the batched product-indicator fits vs the way a
user would fit each replication, one at a time, in the same process and on the same data.

    PYTHONPATH=. python benchmarks/power_interaction_speed.py [--reps 250] [--naive 8]

Model: the shipped example (questionnaires/zhejiang_cluster_growth.yaml: 42 items, IOL × DF → CE) at n = 128.
It times, CPU seconds in one process (the machine is shared; CPU time is the load-independent figure):
  (a) the interaction part of one power chunk of ``--reps`` replications: product columns, the batched ML
      fit of the dblcent model from the population values, SEs and the sandwich SE of the product term;
  (b) ``fit_interaction_model(spec, frame, "dblcent")`` — what ``cluster-sem fit --interaction-method
      dblcent`` runs — on the first ``--naive`` of the same replications, one at a time;
  (c) ``fit_interaction_model(..., "lms")`` on the first two (LMS, the `fit` default), for scale;
and prints ms per replication and the ratios.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=250)
    ap.add_argument("--naive", type=int, default=8)
    args = ap.parse_args()

    import pandas as pd
    from threadpoolctl import threadpool_limits

    from cluster_sem.model.interaction.fit import fit_interaction_model
    from cluster_sem.power import PowerOptions
    from cluster_sem.power.draw import draw_replication
    from cluster_sem.power.engine import build_core
    from cluster_sem.power.fitbatch import PRODUCT_ITER, fit_batched
    from cluster_sem.power.interaction import robust_se
    from cluster_sem.spec import load_spec

    spec = load_spec(SPEC)
    with threadpool_limits(1):
        core, _ = build_core(spec, PowerOptions(sizes=(128,), seed=1))
        pm = core.products
        k = pm.terms[0].index
        data = [draw_replication(core.sampler, core.columns, 128, 1, r) for r in range(args.reps)]
        t0 = time.process_time()
        pdata = [pm.data(x) for x in data]
        fit = fit_batched(pm.partable, pm.matrix_model, pdata, pm.theta_pop, pm.metric_inv, max_iter=PRODUCT_ITER,
                          fallback_max_iter=0)
        for r in fit.converged.nonzero()[0]:
            robust_se(pm.matrix_model, fit.theta[r], pdata[r], fit.vcov[r], k)
        batched = (time.process_time() - t0) / args.reps
        names = list(core.matrix_model.ov)
        frames = [pd.DataFrame(x, columns=names) for x in data]
        timings = {}
        for method, count in (("dblcent", args.naive), ("lms", 2)):
            t0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for frame in frames[:count]:
                    fit_interaction_model(spec, frame, method)
            timings[method] = (time.process_time() - t0) / count
    print(f"model: {SPEC.name}, n = 128, product model {pm.matrix_model.p} variables, "
          f"{pm.partable.n_free} free parameters; converged {int(fit.converged.sum())}/{args.reps}")
    print(f"  batched dblcent (power engine): {1000 * batched:8.1f} ms CPU/replication ({args.reps} replications)")
    for method, sec in timings.items():
        print(f"  one-at-a-time {method:7s}        : {1000 * sec:8.1f} ms CPU/replication -> ratio "
              f"{sec / batched:6.1f}x")


if __name__ == "__main__":
    main()
