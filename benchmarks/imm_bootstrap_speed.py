"""Per-resample cost of the LMS bootstrap behind ``--moderation-ci bootstrap`` on the shipped example.

    PYTHONPATH=. python benchmarks/imm_bootstrap_speed.py [--resamples 6]

Baseline (same process): one cold LMS fit of the interaction model as ``fit`` runs it (start at the linear
ML fit, optimisation, observed-information SEs).  Then ``--resamples`` bootstrap refits as the engine runs
them (warm start at the full-sample estimates, full-sample quadrature grid, no Hessian).  Prints CPU per
resample, the ratio to the cold fit, and the projected wall time of B = 5000 on 2 cores — the figure that
made the bootstrap opt-in (the brief's threshold: ~2 minutes).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resamples", type=int, default=6)
    args = ap.parse_args()
    import pandas as pd

    from cluster_sem.blas import one_blas_thread
    from cluster_sem.bootstrap.moderation import fit_lms_block, lms_core
    from cluster_sem.model.interaction.fit import fit_interaction_model, interaction_syntax
    from cluster_sem.pipeline import FitOptions, stage_data
    from cluster_sem.spec import load_spec

    spec = load_spec(ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml")
    frame = stage_data(spec, pd.read_csv(ROOT / "data" / "zhejiang_128_synthetic.csv"), FitOptions()).frame
    with one_blas_thread():
        c = time.process_time()
        h1 = fit_interaction_model(spec, frame, "lms")
        cold = time.process_time() - c
        core = lms_core(interaction_syntax(spec), frame, h1.theta)
        c = time.process_time()
        block = fit_lms_block(core, args.resamples, 2026, 0)
        per = (time.process_time() - c) / args.resamples
    ok = int((~pd.isna(block.theta[:, 0])).sum())
    print(f"shipped example: n = {len(frame)}, {len(h1.theta)} free parameters")
    print(f"cold LMS fit with SEs (baseline): {cold:.2f} s CPU")
    print(f"warm bootstrap refit: {per:.2f} s CPU per resample ({ok}/{args.resamples} converged) -> ratio "
          f"{cold / per:.2f}x faster than a cold fit")
    print(f"projected B = 5000 on 2 cores: {5000 * per / 2 / 60:.0f} min wall (> 2 min: opt-in)")


if __name__ == "__main__":
    main()
