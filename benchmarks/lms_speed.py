"""LMS and QML speed on modsem's oneInt / TPB (N = 2000) against modsem's LMS/QML wall times.

    PYTHONPATH=. python benchmarks/lms_speed.py [--data oneInt|TPB] [--repeat 3]

Times ``fit_lms`` and ``fit_qml`` end to end (start values from the linear ML fit, optimisation,
observed-information SEs) and prints them beside modsem 1.0.22's wall times recorded in
tests/reference/interaction/modsem_reference.json (default LMS: 24 adaptive nodes, EM then nlminb, observed
information; ``qml_precise``; measured on a shared 2-core machine — no R here, so those baselines are quoted,
not re-run).  In the same process it times the dblcent product-indicator ML fit as a within-process
baseline, and prints each log-likelihood's difference to modsem's so speed is never bought with accuracy.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _best(fn, repeat: int) -> tuple[float, float, object]:
    """Best wall time, CPU time of that run, and the result of ``repeat`` calls."""
    best = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if best is None or wall < best[0]:
            best = (wall, cpu, out)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("oneInt", "TPB"), default="oneInt")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import pandas as pd

    from cluster_sem.model.interaction.dblcent import fit_dblcent
    from cluster_sem.model.interaction.lms import fit_lms
    from cluster_sem.model.interaction.qml import fit_qml
    ref_dir = ROOT / "tests" / "reference" / "interaction"
    ref = json.loads((ref_dir / "modsem_reference.json").read_text())["datasets"][args.data]
    methods = ref["methods"]
    data = pd.read_csv(ref_dir / ref["file"])
    fit_lms(ref["model"], data)  # warm-up (imports, BLAS)
    lms_wall, lms_cpu, lms = _best(lambda: fit_lms(ref["model"], data), args.repeat)
    qml_wall, qml_cpu, qml = _best(lambda: fit_qml(ref["model"], data), args.repeat)
    dbl_wall, _, _ = _best(lambda: fit_dblcent(ref["model"], data), args.repeat)
    modsem_lms, modsem_qml = methods["lms"]["seconds"], methods["qml_precise"]["seconds"]
    print(f"{args.data} (N = {len(data)}), best of {args.repeat}; wall >> CPU means the machine is shared/loaded")
    print(f"cluster-sem LMS: {lms_wall:.2f} s wall ({lms_cpu:.2f} s CPU); loglik {lms.loglik:.4f} vs modsem "
          f"lms_precise {methods['lms_precise']['fit']['logl']:.4f}")
    print(f"  modsem default LMS (quoted, 2-core machine): {modsem_lms:.2f} s -> ratio {modsem_lms / lms_wall:.1f}x "
          f"(CPU: {methods['lms']['cpu_seconds']:.2f} s -> {methods['lms']['cpu_seconds'] / lms_cpu:.1f}x)")
    print(f"  modsem lms_precise (48 nodes, tight):        {methods['lms_precise']['seconds']:.2f} s -> ratio "
          f"{methods['lms_precise']['seconds'] / lms_wall:.1f}x")
    print(f"cluster-sem QML: {qml_wall:.2f} s wall ({qml_cpu:.2f} s CPU); loglik {qml.loglik:.4f} vs modsem "
          f"qml_precise {methods['qml_precise']['fit']['logl']:.4f}")
    print(f"  modsem qml_precise (quoted): {modsem_qml:.2f} s -> ratio {modsem_qml / qml_wall:.1f}x "
          f"(CPU: {methods['qml_precise']['cpu_seconds']:.2f} s -> {methods['qml_precise']['cpu_seconds'] / qml_cpu:.1f}x)")
    print(f"in-process baseline: dblcent product-indicator ML fit {dbl_wall:.2f} s "
          f"(LMS/dblcent = {lms_wall / dbl_wall:.1f}, QML/dblcent = {qml_wall / dbl_wall:.1f})")


if __name__ == "__main__":
    main()
