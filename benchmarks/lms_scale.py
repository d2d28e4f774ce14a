"""LMS at survey scale: the shipped spec's interaction model on n simulated respondents, before/after.

    PYTHONPATH=. python benchmarks/lms_scale.py [--n 20000] [--baseline 70d701b] [--no-baseline]

Simulates n respondents from the shipped spec (``cluster-sem simulate``, seed 1, as benchmarks/scale.py),
prepares them with the fit's data stage and fits the linear structural model once (LMS's start values).
Then, in this one process and back to back, it times the LMS fit with observed-information SEs
(``fit_lms``) of the current tree and of ``--baseline`` (a git revision whose
``cluster_sem/model/interaction/{lms,moments}.py`` are loaded from git as a second copy of the module),
counts likelihood evaluations, and prints wall and CPU seconds, their ratios, and the largest differences
of log-likelihood, estimates and SEs between the two.  The load average is printed before and after:
on a shared machine compare CPU seconds.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
PACKAGE = "cluster_sem.model.interaction"


def load_baseline(rev: str, workdir: Path):
    """``fit_lms`` of revision ``rev``: its lms.py, importing its own moments.py, as a separate module."""
    modules = {}
    saved = sys.modules[f"{PACKAGE}.moments"]
    try:
        for name in ("moments", "lms"):
            path = workdir / f"{name}_{rev}.py"
            path.write_text(subprocess.run(["git", "show", f"{rev}:cluster_sem/model/interaction/{name}.py"],
                                           cwd=ROOT, check=True, capture_output=True, text=True).stdout)
            spec = importlib.util.spec_from_file_location(f"{PACKAGE}.{name}", path)
            modules[name] = importlib.util.module_from_spec(spec)
            sys.modules[f"{PACKAGE}.{name}"] = modules[name]   # the baseline lms imports the baseline moments
            spec.loader.exec_module(modules[name])
    finally:
        sys.modules[f"{PACKAGE}.moments"] = saved
        sys.modules[f"{PACKAGE}.lms"] = importlib.import_module(f"{PACKAGE}.lms")
    return modules["lms"]


def counted(module):
    """Wrap ``module.MixtureLikelihood.value_and_gradient`` to count calls; returns the counter."""
    count = {"n": 0}
    original = module.MixtureLikelihood.value_and_gradient

    def wrapper(self, theta):
        count["n"] += 1
        return original(self, theta)

    module.MixtureLikelihood.value_and_gradient = wrapper
    return count


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def prepare(n: int, workdir: Path):
    """(spec, prepared frame, linear structural fit) for n simulated respondents."""
    from cluster_sem.pipeline import FitOptions, stage_data, stage_fit, stage_spec
    data = workdir / f"sim_{n}.csv"
    subprocess.run([sys.executable, "-m", "cluster_sem.cli", "simulate", str(SPEC), "--n", str(n), "--seed", "1",
                    "--out", str(data)], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    spec, _ = stage_spec(SPEC)
    frame = stage_data(spec, str(data), FitOptions()).frame
    return spec, frame, stage_fit(spec, frame)[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--baseline", default="70d701b", help="git revision to compare with (before the speed-up)")
    ap.add_argument("--no-baseline", action="store_true", help="time the current tree only")
    ap.add_argument("--workers", type=int, default=1, help="threads per evaluation (current tree; --jobs)")
    args = ap.parse_args()
    import numpy as np

    from cluster_sem.blas import one_blas_thread
    from cluster_sem.model.interaction import lms
    from cluster_sem.model.interaction.fit import interaction_syntax
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        spec, frame, linear = prepare(args.n, Path(tmp))
        syntax = interaction_syntax(spec)
        old = None if args.no_baseline else load_baseline(args.baseline, Path(tmp))
        runs = {}
        with one_blas_thread():
            for name, module, extra in (("current", lms, {"workers": args.workers}), (args.baseline, old, {})):
                if module is None:
                    continue
                count = counted(module)
                fit, wall, cpu = timed(lambda: module.fit_lms(syntax, frame, linear_fit=linear, **extra))
                runs[name] = (fit, wall, cpu, count["n"])
                print(f"{name:>10s}: n = {args.n:,}  {wall:7.1f} s wall  {cpu:7.1f} s CPU  {count['n']} evaluations "
                      f"({cpu / count['n']:.3f} s CPU each)  loglik {fit.loglik:.6f}", flush=True)
    print(f"load average after: {os.getloadavg()}")
    if len(runs) == 2:
        (a, wa, ca, _), (b, wb, cb, _) = runs["current"], runs[args.baseline]
        se_a, se_b = np.sqrt(np.diag(a.vcov)), np.sqrt(np.diag(b.vcov))
        print(f"speed-up: {wb / wa:.1f}x wall, {cb / ca:.1f}x CPU")
        print(f"differences: loglik {abs(a.loglik - b.loglik):.2e}, estimates {np.max(np.abs(a.theta - b.theta)):.2e} "
              f"(abs), SEs {np.max(np.abs(se_a / se_b - 1)):.2e} (rel)")


if __name__ == "__main__":
    main()
