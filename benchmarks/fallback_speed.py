"""Bootstrap fallback speed: resamples the batched fit leaves unconverged, former vs current fallback.

    PYTHONPATH=. python benchmarks/fallback_speed.py              # B = 1000, seed 1, former on 2 resamples
    PYTHONPATH=. python benchmarks/fallback_speed.py --B 5000 --former 3

Model: the shipped 42-item example's structural model (120 free parameters, n = 128), where ~1 % of the
resamples are not converged after the batched BFGS fit (``fallback_max_iter=0``).  On exactly those
resamples, in this process with one BLAS thread, it times
  (a) the current fallback (``batched.fit_covariances``: batched fit, then ``_rescue``: BFGS continuation,
      lavaan default + simple starts in one batched call) — all failing resamples;
  (b) the former fallback (up to commit 675fd33, reproduced below as the baseline): single-resample Fisher
      scoring (500 iterations) from the batched end point, from θ̂ and from the simple start, then a semopy
      refit + Fisher scoring — on the first ``--former`` failing resamples only (it takes ~10–30 s each);
and prints seconds per failing resample, the ratio, and how many each converges.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def former_fallback(core, S: np.ndarray, end: np.ndarray, rows: np.ndarray) -> bool:
    """The fallback as it was: Fisher scoring from three starts, then semopy (baseline only)."""
    from cluster_sem.bootstrap.batched import _semopy_start
    from cluster_sem.model.estimator import fisher_scoring, simple_start
    mm = core.matrix_model
    starts = [end if np.all(np.isfinite(end)) else core.theta_hat, core.theta_hat, simple_start(mm, S),
              lambda: _semopy_start(core.partable, mm, core.data[rows], core.theta_hat)]
    for st in starts:
        if callable(st):
            st = st()
            if st is None:
                continue
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                sol = fisher_scoring(mm, S, st, tol=1e-9, max_iter=500)
        except (np.linalg.LinAlgError, ValueError):
            continue
        if sol.converged and sol.max_gradient < 1e-8:
            return True
    return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--B", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--former", type=int, default=2, help="failing resamples given to the former fallback")
    args = ap.parse_args(argv)

    from cluster_sem.blas import one_blas_thread
    from cluster_sem.bootstrap.batched import fit_covariances, make_core, sample_covariances
    from cluster_sem.bootstrap.resample import block_indices, n_blocks
    from cluster_sem.pipeline import FitOptions, stage_data, stage_fit, stage_spec

    spec, _ = stage_spec(ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml")
    frame = stage_data(spec, ROOT / "data" / "zhejiang_128_synthetic.csv", FitOptions()).frame
    with one_blas_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, sem = stage_fit(spec, frame, FitOptions())
        core = make_core(sem, frame)
        idx = np.concatenate([block_indices(len(core.data), args.B, args.seed, k) for k in range(n_blocks(args.B))])
        S = sample_covariances(core.data, idx)
        pt, mm = core.partable, core.matrix_model
        end, conv, _, _, _ = fit_covariances(pt, mm, S, core.theta_hat, core.metric_inv, fallback_max_iter=0)
        fail = np.flatnonzero(~conv)
        print(f"42-item example: q = {mm.n_free} free parameters, n = {len(core.data)}; B = {args.B}, seed "
              f"{args.seed}: {len(fail)} resamples unconverged after the batched fit; load average "
              f"{os.getloadavg()[0]:.1f}")
        if not len(fail):
            return 0
        t0 = time.process_time()
        _, conv_new, _, fb_new, _ = fit_covariances(pt, mm, S[fail], core.theta_hat, core.metric_inv)
        new = (time.process_time() - t0) / len(fail)
        k = min(args.former, len(fail))
        t0 = time.process_time()
        ok_old = [former_fallback(core, S[r], end[r], idx[r]) for r in fail[:k]]
        old = (time.process_time() - t0) / k
    print(f"  current fallback: {new:6.2f} s CPU per failing resample ({len(fail)} resamples, batched fit "
          f"included), converged {int(conv_new.sum())} of {len(fail)}")
    print(f"  former fallback : {old:6.2f} s CPU per failing resample (first {k}), converged "
          f"{sum(ok_old)} of {k} (current on the same: {int(conv_new[:k].sum())})")
    print(f"  ratio former/current = {old / new:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
