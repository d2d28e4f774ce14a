"""Time and peak memory of each command against the number of respondents, with log-log growth exponents.

    PYTHONPATH=. python benchmarks/scale.py [--sizes 10000 100000] [--only fit FIML ...] [--timeout S] [--readme]

Each command runs as ``python -m cluster_sem.cli ...`` in a fresh child under ``/usr/bin/time`` (wall time,
peak RSS of the child and its descendants; ``nice -n 10``; a run past ``--timeout`` is killed and reported,
and the larger sizes of that command are skipped) on data simulated from the shipped spec (``cluster-sem
simulate``, seed 1; simulation not timed).  Commands:

* ``fit``        the shipped spec without its latent interaction, ``--bootstrap 0``
* ``fit+LMS``    the shipped spec as shipped (LMS for IOL × DF and its LRT refit), ``--bootstrap 0``
* ``FIML``       ``--missing fiml`` on data with 5 % of item answers missing (no interaction)
* ``WLSMV``      ``--estimator WLSMV`` (no interaction)
* ``invariance`` ``cluster-sem invariance`` over the spec's two analysis groups (no interaction)
* ``bootstrap``  ``--bootstrap 200 --jobs 1`` (no interaction)

The exponent is the least-squares slope of log(time) and of log(peak RSS) on log(n): 1 = linear growth.
Peak RSS includes ~150 MB of imports and report templates, so its exponent understates the data part.
``--readme`` writes the table into benchmarks/README.md under "## Scale" (the section is replaced).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
README = Path(__file__).with_name("README.md")
COMMANDS = {   # name: (spec variant, arguments after the data file)
    "fit": ("plain", ["--bootstrap", "0"]),
    "fit+LMS": ("shipped", ["--bootstrap", "0"]),
    "FIML": ("missing", ["--bootstrap", "0", "--missing", "fiml"]),
    "WLSMV": ("plain", ["--bootstrap", "0", "--estimator", "WLSMV"]),
    "invariance": ("plain", []),
    "bootstrap": ("plain", ["--bootstrap", "200", "--jobs", "1", "--seed", "1"]),
}


def spec_variants(workdir: Path) -> dict[str, Path]:
    """The shipped spec; without its interaction; and without it with 5 % missing answers."""
    shipped = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    plain = {k: v for k, v in shipped.items() if k != "interactions"}
    missing = {**plain, "population": {**plain["population"], "missing_rate": 0.05}}
    out = {"shipped": SPEC}
    for name, spec in (("plain", plain), ("missing", missing)):
        out[name] = workdir / f"{name}.yaml"
        out[name].write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cluster_sem.cli", *args]


def measure(cmd: list[str], timeout: float | None = None) -> tuple[float, float] | None:
    """(wall seconds, peak RSS in MiB) of one child process, from GNU time; None past ``timeout`` seconds.

    The child runs in its own process group, so a timeout ends the ``cluster-sem`` process under
    ``/usr/bin/time`` too (and only it)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        proc = subprocess.Popen(["nice", "-n", "10", "/usr/bin/time", "-o", out.name, "-f", "%e %M", *cmd],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
        wall, kb = Path(out.name).read_text().split()[-2:]
    return float(wall), float(kb) / 1024


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y on log x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def run(sizes: list[int], names: list[str], workdir: Path,
        timeout: float | None = None) -> dict[str, dict[int, tuple[float, float]]]:
    specs = spec_variants(workdir)
    data: dict[tuple[str, int], Path] = {}
    results: dict[str, dict[int, tuple[float, float]]] = {}
    for name in names:
        variant, extra = COMMANDS[name]
        results[name] = {}
        for n in sizes:
            key = ("missing" if variant == "missing" else "plain", n)
            if key not in data:   # the shipped spec simulates the same data as "plain" (same population)
                data[key] = workdir / f"{key[0]}_{n}.csv"
                subprocess.run(_cli("simulate", str(specs[key[0]]), "--n", str(n), "--seed", "1", "--out",
                                    str(data[key])), cwd=ROOT, check=True, capture_output=True)
            out = workdir / f"out_{name}_{n}"
            command = "invariance" if name == "invariance" else "fit"
            got = measure(_cli(command, str(specs[variant]), str(data[key]), "--out", str(out), "--quiet", *extra),
                          timeout)
            if got is None:
                print(f"{name:11s} n={n:>7,d}  not finished within {timeout:.0f} s", flush=True)
                break                  # larger n would not finish either
            results[name][n] = got
            print(f"{name:11s} n={n:>7,d}  {got[0]:8.1f} s  {got[1]:7.0f} MiB", flush=True)
    return results


def table(results: dict[str, dict[int, tuple[float, float]]], sizes: list[int]) -> str:
    head = ["command"] + [f"n = {n:,}" for n in sizes] + ["time exponent", "RSS exponent"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, by_n in results.items():
        ns = [n for n in sizes if n in by_n]
        cells = [f"{by_n[n][0]:.1f} s, {by_n[n][1]:.0f} MiB" if n in by_n else "—" for n in sizes]
        if len(ns) >= 2:
            exps = [f"{slope(ns, [by_n[n][0] for n in ns]):.2f}", f"{slope(ns, [by_n[n][1] for n in ns]):.2f}"]
        else:
            exps = ["—", "—"]
        lines.append("| " + " | ".join([name] + cells + exps) + " |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    """Replace (or append) the "## Scale" section of benchmarks/README.md, leaving other sections alone."""
    old = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    section = f"## Scale\n\n{text.strip()}\n"
    pattern = re.compile(r"^## Scale\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: section + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + section
    README.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--only", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    ap.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per command run (default 1800)")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        results = run(sorted(args.sizes), args.only, Path(tmp), args.timeout)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[2]:.1f} (15 min)")
    text = table(results, sorted(args.sizes))
    print(text)
    if args.readme:
        write_readme(text)


if __name__ == "__main__":
    main()
