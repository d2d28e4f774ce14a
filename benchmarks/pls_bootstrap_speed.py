"""Speed of the batched PLS bootstrap: 5000 resamples of the 20-item mediation model (benchmarks/specs/
mediation20.yaml, 5 constructs, data ``simulate_mediation(n=250)``).

    python benchmarks/pls_bootstrap_speed.py [--resamples 5000] [--naive 500]

Three timings (CPU seconds of this process, one BLAS thread, so a busy shared machine matters less):
* batched: ``pls.bootstrap.run_bootstrap`` (blocks of 250 resamples iterated together), jobs = 1;
* naive: the same resamples fitted one at a time by our own single-fit path (``Layout.estimate`` of one
  correlation matrix), timed on ``--naive`` resamples and scaled to the full count; the ratio is the gain
  of batching (the numbers are equal: tests/test_pls_seminr.py::test_batched_block_equals_single_fits);
* the PyPI ``seminr`` port (Python), if it is importable here: skipped otherwise (it is no dependency).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resamples", type=int, default=5000)
    ap.add_argument("--naive", type=int, default=500, help="resamples fitted one at a time (scaled up)")
    ap.add_argument("--n", type=int, default=250)
    args = ap.parse_args()

    from threadpoolctl import threadpool_limits
    from mediation_demo import simulate_mediation

    from cluster_sem.bootstrap.resample import resample_indices
    from cluster_sem.pls.algorithm import correlations
    from cluster_sem.pls.bootstrap import BootCore, run_bootstrap
    from cluster_sem.pls.model import from_spec
    from cluster_sem.pls.statistics import Layout
    from cluster_sem.spec.loader import load_spec

    spec = load_spec(ROOT / "benchmarks" / "specs" / "mediation20.yaml")
    model = from_spec(spec)
    layout = Layout.of(model, consistent=False, scheme="path", htmt_constructs=model.constructs,
                       indirect=tuple((i.name, tuple(i.path)) for i in spec.indirect), total=())
    frame = simulate_mediation(n=args.n, seed=20260)
    X = frame[list(model.items)].to_numpy(float)
    B = args.resamples
    with threadpool_limits(1):
        t0 = time.process_time()
        t, _ = run_bootstrap(BootCore(X, layout), B, 1)
        batched = time.process_time() - t0
        idx = resample_indices(X.shape[0], args.naive, 1)
        t0 = time.process_time()
        for rows in idx:
            layout.estimate(correlations(X[rows])[None])
        naive = (time.process_time() - t0) * B / args.naive
    print(f"model: {model.p} items, {model.k} constructs, n = {X.shape[0]}; {B} resamples")
    print(f"batched bootstrap:        {batched:7.2f} s CPU ({1e3 * batched / B:.2f} ms per resample)")
    print(f"naive loop of our fits:   {naive:7.2f} s CPU (from {args.naive} fits; ratio {naive / batched:.1f}x)")
    _seminr_port(frame, spec, min(B, 200), batched / B)


def _seminr_port(frame, spec, B: int, ours_per_resample: float) -> None:
    """Time the PyPI seminr port's bootstrap on the same model, if it is installed (not a dependency)."""
    try:
        import seminr  # noqa: F401
    except ImportError:
        print("PyPI seminr port: not installed here, skipped (pip install seminr==0.2.1 to compare)")
        return
    try:
        from seminr import bootstrap_model, composite, constructs, estimate_pls, paths, relationships
    except ImportError as exc:  # another API than the one this benchmark knows
        print(f"PyPI seminr port: installed but its API differs ({exc}); skipped")
        return
    mm = constructs(*[composite(c, spec.items_of(c)) for c in spec.constructs])
    sm = relationships(*[paths(from_=list(p.from_), to=p.to) for p in spec.paths])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = estimate_pls(data=frame, measurement_model=mm, structural_model=sm)
        t0 = time.process_time()
        bootstrap_model(model, nboot=B, seed=1, cores=1)   # one process: its CPU is this process's
        port = (time.process_time() - t0) / B
    print(f"PyPI seminr port:         {port * 1e3:7.2f} ms per resample (from {B}); ratio {port / ours_per_resample:.1f}x")


if __name__ == "__main__":
    main()
