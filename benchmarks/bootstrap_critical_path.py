"""Where `fit --bootstrap 5000 --jobs 2` spends its time, from CPU clocks (robust to a busy shared machine).

    python benchmarks/bootstrap_critical_path.py --repeats 3
    python benchmarks/bootstrap_critical_path.py --repeats 3 --baseline /tmp/old   # another checkout

Each run starts ``python -c WRAPPER fit SPEC DATA --bootstrap 5000 --jobs 2 --seed 1`` in the checkout (its
``cluster_sem`` is imported), where WRAPPER records the main process's CPU clock when the worker pool starts,
around the ``meanwhile`` steps run beside the workers (if the checkout has them), when the pool ends and when
the files are written, plus the workers' CPU (``RUSAGE_CHILDREN``).  On an otherwise idle 2-core machine the
wall time is about

    serial main CPU (before the pool + after it) + (workers' CPU + main CPU beside them) / 2

because during the pool both cores are busy and otherwise only the main process runs; on this machine that
estimate gave 3.24 s for the commit whose quiet-machine best was 3.27 s.  Model and data as
``benchmarks/cold_start.py`` (``benchmarks/specs/mediation20.yaml``, ``simulate_mediation(n=128, seed=20260)``).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))   # mediation_demo: the benchmark model's simulator (a test fixture)
SPEC = ROOT / "benchmarks" / "specs" / "mediation20.yaml"

WRAPPER = r'''
import json, os, resource, sys, time
sys.path.insert(0, os.getcwd())
marks = {}
def mark(label):
    marks[label] = time.process_time()
from cluster_sem import cli
from cluster_sem.bootstrap import parallel
run_tasks = parallel.run_tasks
def timed(func, core, tasks, **kw):
    mark("pool start")
    inner = kw.get("meanwhile")
    if inner is not None:
        def meanwhile():
            mark("meanwhile start"); inner(); mark("meanwhile end")
        kw["meanwhile"] = meanwhile
    run_tasks(func, core, tasks, **kw)
    mark("pool end")
parallel.run_tasks = timed
cli.main(sys.argv[1:])
mark("written")
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("MARKS", json.dumps({**marks, "workers": ru.ru_utime + ru.ru_stime}))
'''


def one_run(checkout: Path, args: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=checkout, check=True, capture_output=True,
                         text=True).stdout
    m = json.loads(re.search(r"MARKS (\{.*\})", out).group(1))
    beside = m.get("meanwhile end", 0.0) - m.get("meanwhile start", 0.0)
    serial = m["pool start"] + (m["written"] - m["pool end"])
    return {"estimate": serial + (m["workers"] + beside) / 2, "before pool": m["pool start"],
            "beside workers": beside, "after pool": m["written"] - m["pool end"], "workers": m["workers"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", type=Path, default=None, metavar="DIR", help="another cluster-sem checkout")
    args = ap.parse_args(argv)
    from mediation_demo import simulate_mediation
    checkouts = {"this checkout": ROOT} | ({f"baseline {args.baseline}": args.baseline} if args.baseline else {})
    runs: dict[str, list[dict]] = {k: [] for k in checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "mediation20.csv"
        simulate_mediation(n=128, seed=20260).to_csv(csv, index=False)
        cmd = ["fit", str(SPEC), str(csv), "--out", f"{tmp}/out", "--bootstrap", "5000", "--jobs", "2",
               "--seed", "1", "--quiet"]
        for _ in range(args.repeats):
            for name, checkout in checkouts.items():   # alternating: load hits both alike
                runs[name].append(one_run(checkout, cmd))
    print("fit --bootstrap 5000 --jobs 2, 20-item model: CPU seconds of the main process and its workers, median "
          f"of {args.repeats} runs; estimate = quiet 2-core wall (see the docstring), best and median")
    for name, rs in runs.items():
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        best = min(r["estimate"] for r in rs)
        print(f"  {name}: estimate best {best:.2f} s, median {med['estimate']:.2f} s | main before the pool "
              f"{med['before pool']:.3f}, beside the workers {med['beside workers']:.3f}, after the pool "
              f"{med['after pool']:.3f} | workers {med['workers']:.2f}")
    if args.baseline:
        a, b = (statistics.median(r["estimate"] for r in rs) for rs in runs.values())
        print(f"  ratio this / baseline (median estimates): {a / b:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
