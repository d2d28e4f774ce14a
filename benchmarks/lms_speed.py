"""LMS speed on modsem's oneInt (N = 2000, Y ~ X + Z + X:Z) against modsem's default LMS wall time.

    PYTHONPATH=. python benchmarks/lms_speed.py [--repeat 3]

Times ``cluster_sem.model.interaction.lms.fit_lms`` end to end (start values from the linear ML fit,
optimisation, observed-information SEs) and prints it beside modsem 1.0.22's wall times recorded in
tests/reference/interaction/modsem_reference.json (default LMS: 24 adaptive nodes, EM then nlminb, observed
information; measured on a shared 2-core machine — no R here, so the baseline is quoted, not re-run).  In the
same process it also times the dblcent product-indicator fit as a within-process baseline, and prints the
loglik difference to modsem's ``lms_precise`` so speed is never bought with accuracy.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import pandas as pd

    from cluster_sem.model.interaction.dblcent import fit_dblcent
    from cluster_sem.model.interaction.lms import fit_lms
    ref_dir = ROOT / "tests" / "reference" / "interaction"
    ref = json.loads((ref_dir / "modsem_reference.json").read_text())["datasets"]["oneInt"]
    data = pd.read_csv(ref_dir / ref["file"])
    fit_lms(ref["model"], data)  # warm-up (imports, BLAS)
    lms_times, dbl_times, cpu_times = [], [], []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        fit = fit_lms(ref["model"], data)
        lms_times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
        t = time.perf_counter()
        fit_dblcent(ref["model"], data)
        dbl_times.append(time.perf_counter() - t)
    ours = min(lms_times)
    modsem = ref["methods"]["lms"]["seconds"]
    precise = ref["methods"]["lms_precise"]["seconds"]
    print(f"cluster-sem LMS on oneInt: {ours:.2f} s (best of {args.repeat}; all: "
          f"{', '.join(f'{x:.2f}' for x in lms_times)})")
    print(f"  CPU time of this process: {min(cpu_times):.2f} s (wall >> CPU means the machine is shared/loaded)")
    print(f"  loglik {fit.loglik:.4f} vs modsem lms_precise {ref['methods']['lms_precise']['fit']['logl']:.4f}")
    print(f"modsem default LMS (quoted from the reference, 2-core machine): {modsem:.2f} s -> ratio {modsem / ours:.1f}x")
    print(f"modsem lms_precise (48 nodes, tight convergence):                {precise:.2f} s -> ratio {precise / ours:.1f}x")
    print(f"in-process baseline: dblcent product-indicator ML fit {min(dbl_times):.2f} s "
          f"(LMS/dblcent = {ours / min(dbl_times):.1f})")


if __name__ == "__main__":
    main()
