"""FIML bootstrap speed: batched engine vs refitting one resample at a time, in one process.

    PYTHONPATH=. python benchmarks/fiml_bootstrap_speed.py              # B = 5000, jobs = 2, 20 single refits
    PYTHONPATH=. python benchmarks/fiml_bootstrap_speed.py --B 1000 --jobs 1

Model: the 20-item, 5-construct mediation model of ``tests/mediation_demo.py`` at n = 130 (5-point
items), with 8 % of the answers blanked completely at random (seed 1).  It times
  (a) ``run_bootstrap(fit, data, B, seed, jobs)`` on the FIML fit — every resample keeps its blanks and is
      refitted by FIML (batched over resamples, patterns shared);
  (b) the baseline: the first ``--single`` resamples of the *same* indices refitted one at a time by the
      project's own FIML optimiser (Newton from the full-sample estimates, ``bootstrap.fiml.refit_one``),
      extrapolated linearly to B (stated in the output);
and prints seconds, ms per resample and the ratio single/batched.  lavaan's FIML bootstrap is not run here
(no R on this machine).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))   # mediation_demo: the benchmark model's simulator (a test fixture)
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--single", type=int, default=20)
    ap.add_argument("--n", type=int, default=130)
    args = ap.parse_args()

    import numpy as np

    from cluster_sem.bootstrap import run_bootstrap
    from mediation_demo import MEDIATION_SYNTAX, simulate_mediation
    from cluster_sem.bootstrap.fiml import make_fiml_core, refit_one
    from cluster_sem.bootstrap.resample import resample_indices
    from cluster_sem.model.fitted_casewise import fit_model_casewise

    data = simulate_mediation(n=args.n, seed=20260)
    rng = np.random.default_rng(1)
    data = data.mask(rng.random(data.shape) < 0.08)
    data = data[~data.isna().all(axis=1)].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        fit = fit_model_casewise(MEDIATION_SYNTAX, data, missing="fiml")
        t_fit = time.perf_counter() - t0
    n_patterns = len(make_fiml_core(fit, data[list(fit.matrix_model.ov)].to_numpy(float)).patterns.patterns)
    print(f"model: 20 items, 5 constructs, n = {fit.n}, {100 * data.isna().to_numpy().mean():.1f}% blank, "
          f"{n_patterns} missing-data patterns; {fit.partable.n_free + 20} free parameters; "
          f"FIML fit {t_fit:.2f} s; cores: {os.cpu_count()}")

    t0 = time.perf_counter()
    boot = run_bootstrap(fit, data, B=args.B, seed=1, jobs=args.jobs)
    t_batched = time.perf_counter() - t0
    print(f"batched FIML bootstrap: B = {args.B}, jobs = {args.jobs}: {t_batched:.1f} s "
          f"({1000 * t_batched / args.B:.2f} ms per resample), {boot.n_converged} converged, "
          f"{boot.n_fallback} finished by the single-resample fallback")

    core = make_fiml_core(fit, data[list(fit.matrix_model.ov)].to_numpy(float))
    idx = resample_indices(core.data.shape[0], args.B, 1)[: args.single]
    t0 = time.perf_counter()
    for rows in idx:
        refit_one(core, rows)
    t_one = (time.perf_counter() - t0) / len(idx)
    print(f"one at a time (same optimiser, same indices, 1 process): {1000 * t_one:.1f} ms per resample "
          f"(measured on {len(idx)}), extrapolated to B = {args.B}: {t_one * args.B:.0f} s")
    print(f"ratio one-at-a-time / batched: {t_one * args.B / t_batched:.1f}x")


if __name__ == "__main__":
    main()
