"""WLSMV bootstrap speed: the batched engine vs. one-at-a-time refits, in one process, same resamples.

    PYTHONPATH=. python benchmarks/wlsmv_bootstrap_speed.py [--B 200] [--naive 20]

(a) ``cluster_sem.bootstrap.wlsmv.run_bootstrap_wlsmv(fit, data, B, seed)``: thresholds, polychorics and
    DWLS weights of all resamples of a block in one vectorised two-step fit, DWLS refits warm-started;
(b) the naive loop ``fit_model_wlsmv(syntax, data.iloc[rows])`` — the whole WLSMV fit from scratch
    (polychorics one sample at a time, start values, DWLS, robust SEs and test), as a refit-per-resample
    bootstrap does — on the first ``--naive`` resamples of the *same* indices, extrapolated linearly to B.
Prints seconds, ms per resample and the ratio naive/engine.  Model: the 4-category HolzingerSwineford
CFA (tests/reference/HolzingerSwineford1939_ordinal.csv) with one defined product of loadings.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from cluster_sem.bootstrap.resample import resample_indices  # noqa: E402
from cluster_sem.bootstrap.wlsmv import run_bootstrap_wlsmv  # noqa: E402
from cluster_sem.model.ordinal.fit import fit_model_wlsmv  # noqa: E402

SYNTAX = "visual =~ x1 + x2 + b*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + c*x8 + x9\nbc := b*c"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--B", type=int, default=200)
    ap.add_argument("--naive", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    data = pd.read_csv(ROOT / "tests" / "reference" / "HolzingerSwineford1939_ordinal.csv")
    fit = fit_model_wlsmv(SYNTAX, data)
    warnings.simplefilter("ignore")

    t0 = time.perf_counter()
    boot = run_bootstrap_wlsmv(fit, data, B=args.B, seed=args.seed)
    engine = time.perf_counter() - t0

    idx = resample_indices(len(data), args.B, args.seed)[: args.naive]
    t0 = time.perf_counter()
    for rows in idx:
        try:
            fit_model_wlsmv(SYNTAX, data.iloc[rows].reset_index(drop=True))
        except Exception:  # noqa: BLE001 — a failed refit still costs its time
            pass
    naive_each = (time.perf_counter() - t0) / len(idx)
    naive = naive_each * args.B

    print(f"WLSMV bootstrap, HS1939 ordinal CFA (n = {len(data)}, 9 items, 27 thresholds, 36 polychorics)")
    print(f"  engine : B = {args.B:5d}  {engine:8.2f} s  {1000 * engine / args.B:7.1f} ms/resample "
          f"({boot.n_converged} converged)")
    print(f"  naive  : {args.naive} refits measured, {naive_each * 1000:7.1f} ms/resample, "
          f"extrapolated to B = {args.B}: {naive:8.2f} s")
    print(f"  ratio naive/engine = {naive / engine:.1f}x")


if __name__ == "__main__":
    main()
