"""Cold-start speed: whole ``cluster-sem fit`` processes and one in-process fit, beside lavaan's figures.

    python benchmarks/cold_start.py                  # 5 repeats of each process, 20 in-process fits
    python benchmarks/cold_start.py --repeats 3 --no-bootstrap
    python benchmarks/cold_start.py --repeats 5 --baseline /tmp/old   # vs another checkout, same load

``--baseline DIR`` (a checkout of an earlier commit, e.g. ``git worktree add /tmp/old 7af3d79``) also runs the
plain fit and the bootstrap with DIR's ``cluster_sem`` (``python -m cluster_sem.cli`` started in DIR), each
right after this checkout's run, and prints this/baseline ratios of best and median wall and CPU: on a
shared machine the ratio is the figure to trust, the absolute times move with the load.

Bytecode: both checkouts' ``cluster_sem`` are byte-compiled first (``compileall``, as ``pip install`` does),
so no run pays for compiling the package's sources (~0.1-0.2 s CPU when ``PYTHONDONTWRITEBYTECODE`` is set
and nothing is cached, which is not how an installed cluster-sem starts).

Model: the 20-item, 5-construct mediation model of ``tests/mediation_demo.py`` (the one
``benchmarks/bootstrap_speed.py`` uses) as the spec ``benchmarks/specs/mediation20.yaml``, on
``simulate_mediation(n=128, seed=20260)`` written to a temporary CSV.

Timed (wall clock, whole processes started with this Python, run alternately so that machine load hits
all variants alike; best and median of ``--repeats``):
  (a) ``fit SPEC DATA --out DIR --quiet``                        (results.json + report.html + report.md)
  (b) the same with ``--engine semopy``                          (the former start path: the baseline)
  (c) ``fit ... --bootstrap 5000 --jobs 2 --seed 1``
and in this process, after a warm-up: (d) ``fit_model(syntax, data)`` with one BLAS thread, and the same
with ``engine="semopy"``.  With ``--main`` also (e) the README main command on the shipped 42-item example
(``fit ... --bootstrap 5000 --seed 1 --jobs 2``) once on a copy of the spec without its ``interactions:``
block (fit + bootstrap + reports without the LMS interaction model, whose speed issue 12 owns) and once as
shipped (with LMS), one run each.  lavaan's figures are quoted from issues 15 and 25 (Rscript on this 2-core
machine), not measured here: no R on this machine.  The load average is printed because the machine is shared.
CPU is user + system time of the process and everything it waited for (the forked report renderer, the
bootstrap's workers): the figure that a shared machine's load disturbs least.
"""
from __future__ import annotations

import argparse
import compileall
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))   # mediation_demo: the benchmark model's simulator (a test fixture)
sys.path.insert(0, str(ROOT))

SPEC = ROOT / "benchmarks" / "specs" / "mediation20.yaml"
LAVAAN_FIT = 0.37        # s, lavaan fit + summary() in Rscript (quoted from issue 25; 0.46 s in issue 15)
LAVAAN_BOOT = 31.3       # s, lavaan bootstrap = 5000, parallel on 2 cores (quoted from issue 15: 31.3-35.3 s)
# issue 25: a plain fit at >= 0.8x lavaan's speed, the bootstrap >= 15x
TARGET_FIT, TARGET_BOOT, TARGET_INPROC = round(LAVAAN_FIT / 0.8, 2), round(LAVAAN_BOOT / 15, 1), 0.050
MAIN_NO_LMS = "main command, no interactions"
BASE = " [baseline]"


def run_process(args: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system of the process and its workers); ``cwd``'s cluster_sem runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cluster_sem.cli", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(times: list[float]) -> str:
    return f"best {min(times):6.2f} s  median {statistics.median(times):6.2f} s"


def in_process(syntax: str, data, repeats: int, engine: str) -> list[float]:
    from cluster_sem.blas import one_blas_thread
    from cluster_sem.model.fitted import fit_model
    with one_blas_thread():
        fit_model(syntax, data, engine=engine)          # warm-up: imports, caches
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fit_model(syntax, data, engine=engine)
            times.append(time.perf_counter() - t0)
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fits", type=int, default=20, help="in-process fits timed")
    ap.add_argument("--no-bootstrap", action="store_true", help="skip the --bootstrap 5000 processes")
    ap.add_argument("--main", action="store_true",
                    help="also time the README main command on the shipped example (minutes)")
    ap.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                    help="another cluster-sem checkout: time its plain fit and bootstrap alternately with these")
    args = ap.parse_args(argv)
    for checkout in [ROOT] + ([args.baseline] if args.baseline else []):
        compileall.compile_dir(str(checkout / "cluster_sem"), quiet=1)   # as installed: no source compiling

    from mediation_demo import MEDIATION_SYNTAX, simulate_mediation
    data = simulate_mediation(n=128, seed=20260)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average at start "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    print(f"model: {SPEC.relative_to(ROOT)} (20 items, 5 constructs, n = {len(data)})\n")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "mediation20.csv"
        data.to_csv(csv, index=False)
        base = ["fit", str(SPEC), str(csv), "--quiet"]
        variants = {"fit (default engine)": base + ["--out", f"{tmp}/a"],
                    "fit --engine semopy": base + ["--out", f"{tmp}/b", "--engine", "semopy"]}
        if not args.no_bootstrap:
            variants["fit --bootstrap 5000 --jobs 2"] = base + ["--out", f"{tmp}/c", "--bootstrap", "5000",
                                                               "--jobs", "2", "--seed", "1"]
        compared = [k for k in variants if "semopy" not in k] if args.baseline else []
        times: dict[str, list[float]] = {k: [] for k in variants} | {k + BASE: [] for k in compared}
        cpu: dict[str, list[float]] = {k: [] for k in times}
        for _ in range(args.repeats):
            for name, cmd in variants.items():
                for label, cwd in [(name, ROOT)] + ([(name + BASE, args.baseline)] if name in compared else []):
                    wall, used = run_process(cmd, cwd)
                    times[label].append(wall)
                    cpu[label].append(used)
        if args.main:
            shipped = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
            no_lms = Path(tmp) / "zhejiang_without_interactions.yaml"
            text = shipped.read_text(encoding="utf-8")
            no_lms.write_text(re.sub(r"(?m)^interactions:\n(?: +.*\n)*\n", "", text, count=1), encoding="utf-8")
            for name, spec in ((MAIN_NO_LMS, no_lms), ("main command as shipped (LMS)", shipped)):
                wall, used = run_process(["fit", str(spec), "data/zhejiang_128_synthetic.csv", "--bootstrap", "5000",
                                          "--seed", "1", "--jobs", "2", "--quiet", "--out", f"{tmp}/{len(times)}"])
                times[name], cpu[name] = [wall], [used]
    inproc = in_process(MEDIATION_SYNTAX, data, args.fits, "default")
    inproc_semopy = in_process(MEDIATION_SYNTAX, data, max(3, args.fits // 5), "semopy")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3

    print(f"whole processes, {args.repeats} runs each (wall clock | CPU user+system incl. workers):")
    for name, t in times.items():
        print(f"  {name:32s} wall {summary(t)} | CPU {summary(cpu[name])}")
    print("in process (one BLAS thread, after warm-up):")
    print(f"  {'fit_model (default engine)':32s} best {1e3 * min(inproc):6.1f} ms  median "
          f"{1e3 * statistics.median(inproc):6.1f} ms  (n={len(inproc)})")
    print(f"  {'fit_model (engine=semopy)':32s} best {1e3 * min(inproc_semopy):6.1f} ms  median "
          f"{1e3 * statistics.median(inproc_semopy):6.1f} ms  (n={len(inproc_semopy)})")

    if compared:
        print(f"\nthis checkout / baseline {args.baseline} (alternating runs, same load):")
    for name in compared:
        ratio = lambda xs, ys, f: f(xs) / f(ys)  # noqa: E731
        print(f"  {name:32s} wall best {ratio(times[name], times[name + BASE], min):.3f} median "
              f"{ratio(times[name], times[name + BASE], statistics.median):.3f} | CPU best "
              f"{ratio(cpu[name], cpu[name + BASE], min):.3f} median "
              f"{ratio(cpu[name], cpu[name + BASE], statistics.median):.3f}")

    fit_best = min(times["fit (default engine)"])
    semopy_best = min(times["fit --engine semopy"])
    print("\nratios (best of each):")
    print(f"  plain fit: semopy engine / default engine = {semopy_best / fit_best:.1f}x; "
          f"lavaan (quoted {LAVAAN_FIT} s) / default = {LAVAAN_FIT / fit_best:.2f}x")
    print(f"  in-process fit: semopy engine / default = {min(inproc_semopy) / min(inproc):.1f}x")
    verdict = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    print("\ntargets (issue 25):")
    print(f"  plain fit <= {TARGET_FIT} s (0.8x lavaan's speed): {verdict(fit_best <= TARGET_FIT)} ({fit_best:.2f} s best, "
          f"{statistics.median(times['fit (default engine)']):.2f} s median)")
    print(f"  in-process fit < {1e3 * TARGET_INPROC:.0f} ms: {verdict(min(inproc) < TARGET_INPROC)} "
          f"({1e3 * min(inproc):.1f} ms best)")
    if args.main:
        main_wall = times[MAIN_NO_LMS][0]
        print(f"  main command without LMS <= 30 s (480 s with LMS before; 18 s with the 38-item example): "
              f"{verdict(main_wall <= 30)} ({main_wall:.1f} s wall, {cpu[MAIN_NO_LMS][0]:.1f} s CPU)")
    if not args.no_bootstrap:
        boot = times["fit --bootstrap 5000 --jobs 2"]
        print(f"  --bootstrap 5000 <= {TARGET_BOOT} s (15x faster than lavaan's quoted {LAVAAN_BOOT} s): "
              f"{verdict(min(boot) <= TARGET_BOOT)} ({min(boot):.2f} s best = {LAVAAN_BOOT / min(boot):.1f}x "
              f"lavaan; median {statistics.median(boot):.2f} s)")
    print(f"\nload average at end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} — a shared machine: figures "
          "above the targets may be load, compare best-of values")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
