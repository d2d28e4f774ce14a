"""``cluster-sem`` command line: a thin layer over the Python API (contract §2).

Every user-input problem ends here as exit code 2 and one line on stderr (the library's ClusterSemError,
or a file the OS cannot read); nothing is written to the output directory unless everything succeeded.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

EPILOG = {
    "validate": "examples:\n  cluster-sem validate questionnaires/zhejiang_cluster_growth.yaml\n"
                "  cluster-sem validate questionnaires/zhejiang_cluster_growth.yaml data/zhejiang_128_synthetic.csv",
    "simulate": "example:\n  cluster-sem simulate questionnaires/zhejiang_cluster_growth.yaml --n 128 --seed 1 "
                "--out data/zhejiang_128_synthetic.csv",
    "fit": "examples:\n  cluster-sem fit questionnaires/zhejiang_cluster_growth.yaml data/zhejiang_128_synthetic.csv --out results/\n"
           "  cluster-sem fit SPEC DATA --out results/ --bootstrap 5000 --seed 1 --jobs 2",
    "invariance": "examples:\n  cluster-sem invariance SPEC DATA --out results-invariance/\n"
                  "  cluster-sem invariance SPEC DATA --out results-invariance/ --release \"CE=~CE3\" --lang zh",
    "report": "examples:\n  cluster-sem report results/\n  cluster-sem report results/ --lang zh",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line with exit code 2."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised through the CLI tests
        sys.stderr.write(f"cluster-sem: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cluster-sem", description="Structural equation modelling of cluster-firm surveys "
                     "from one YAML questionnaire spec (lavaan conventions).")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"cluster-sem {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("validate", help="check a spec (and optionally a data file against it)",
                       epilog=EPILOG["validate"], formatter_class=fmt)
    p.add_argument("spec")
    p.add_argument("data", nargs="?")

    p = sub.add_parser("simulate", help="draw synthetic Likert data from the spec's population section",
                       epilog=EPILOG["simulate"], formatter_class=fmt)
    p.add_argument("spec")
    p.add_argument("--n", type=int, required=True, help="number of cases")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True, help="output .csv file")

    p = sub.add_parser("fit", help="fit the measurement and structural models; write results.json + reports",
                       epilog=EPILOG["fit"], formatter_class=fmt)
    p.add_argument("spec")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="output directory (created; files replaced atomically)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B", help="bootstrap resamples (0 = none; 5000 is usual)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--jobs", type=int, default=1, help="local worker processes for the bootstrap")
    p.add_argument("--scheduler", default=None, help="dask.distributed scheduler address, or 'local'")
    p.add_argument("--ci-level", type=float, default=0.95)
    p.add_argument("--ci", choices=["auto", "percentile", "bc", "delta", "monte-carlo"], default="auto",
                   help="CI reported for indirect effects (auto: percentile bootstrap if --bootstrap > 0, else delta)")
    p.add_argument("--missing", choices=["listwise", "fiml"], default="listwise",
                   help="listwise (default); fiml is not implemented in this version")
    p.add_argument("--estimator", choices=["ML", "MLR", "WLSMV"], default=None,
                   help="ML (default), or WLSMV: every item an ordered category (polychoric correlations, "
                        "DWLS, robust SEs, scaled-shifted chi2; default when the spec says ordinal: true); "
                        "MLR is not implemented in this version")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="report language")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    p = sub.add_parser("invariance", help="measurement invariance across the spec's groups (configural, metric, "
                       "scalar, strict) and path differences; write results.json + reports",
                       epilog=EPILOG["invariance"], formatter_class=fmt)
    p.add_argument("spec")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="output directory (created; files replaced atomically)")
    p.add_argument("--estimator", choices=["ML", "MLR"], default="ML", help="ML (default); MLR: not in this build")
    p.add_argument("--missing", choices=["listwise", "fiml"], default="listwise",
                   help="listwise (default); fiml: not in this build")
    p.add_argument("--release", default=None, metavar="ROWS",
                   help="equality constraints to free in every level, e.g. \"CE=~CE3\" or \"CE=~CE3,CE3~1\"")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="report language")
    p.add_argument("--quiet", action="store_true", help="no summary")

    p = sub.add_parser("report", help="re-render DIR/report.html and DIR/report.md from DIR/results.json",
                       epilog=EPILOG["report"], formatter_class=fmt)
    p.add_argument("dir")
    p.add_argument("--lang", choices=["en", "zh"], default="en")
    return parser


def _write_atomically(out_dir: Path, files: dict[str, str]) -> None:
    """Write all files to a temporary sibling directory first, then move them into place."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        out_dir.mkdir(exist_ok=True)
        for name in files:
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _rendered(results, lang: str) -> dict[str, str]:
    return {"report.html": results.to_html(lang=lang), "report.md": results.to_markdown(lang=lang)}


def cmd_validate(args) -> int:
    from .spec import load_spec
    spec = load_spec(args.spec)
    msg = f"{args.spec}: valid spec ({len(spec.first_order)} first-order and {len(spec.second_order)} " \
          f"second-order constructs, {len(spec.items)} items, {len(spec.paths)} path statements)"
    if args.data:
        from .data import validate_data
        data = validate_data(spec, args.data)
        msg += f"; {args.data}: {data.n_used} of {data.n_raw} rows usable"
        for line in data.log:
            print(f"  - {line}")
    print(msg)
    return 0


def cmd_simulate(args) -> int:
    from .simulate import simulate_to_csv
    if args.n < 1:
        raise _usage("--n must be a positive number of cases. Fix: e.g. --n 128")
    simulate_to_csv(args.spec, args.n, args.seed, args.out)
    print(f"wrote {args.out} ({args.n} simulated cases, seed {args.seed})")
    return 0


def cmd_fit(args) -> int:
    from .api import fit
    if args.bootstrap < 0:
        raise _usage("--bootstrap must be 0 or a positive number of resamples")
    if not 0 < args.ci_level < 1:
        raise _usage("--ci-level must be between 0 and 1, e.g. 0.95")
    if args.jobs < 1:
        raise _usage("--jobs must be at least 1")
    command = "cluster-sem " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("cluster-sem") else \
        "cluster-sem fit " + " ".join([args.spec, args.data, "--out", args.out] +
                                      (["--bootstrap", str(args.bootstrap)] if args.bootstrap else []) +
                                      ["--seed", str(args.seed)])
    results = fit(args.spec, args.data, bootstrap=args.bootstrap, seed=args.seed, jobs=args.jobs,
                  ci_level=args.ci_level, missing=args.missing, estimator=args.estimator, ci=args.ci,
                  scheduler=args.scheduler, quiet=args.quiet, command=command)
    files = {"results.json": results.to_json()}
    files.update(_rendered(results, args.lang))
    _write_atomically(Path(args.out), files)
    if not args.quiet:
        print(results.summary(lang=args.lang))
    print(f"wrote {Path(args.out) / 'results.json'}, report.html, report.md")
    return 0


def cmd_invariance(args) -> int:
    from .invariance import InvarianceOptions, run_invariance
    from .invariance.document import parse_release
    command = "cluster-sem invariance " + " ".join(
        [args.spec, args.data, "--out", args.out, "--estimator", args.estimator, "--missing", args.missing]
        + (["--release", f'"{args.release}"'] if args.release else []))
    results = run_invariance(args.spec, args.data, InvarianceOptions(
        estimator=args.estimator, missing=args.missing, release=parse_release(args.release), command=command))
    files = {"results.json": results.to_json()}
    files.update(_rendered(results, args.lang))
    _write_atomically(Path(args.out), files)
    if not args.quiet:
        print(results.summary(lang=args.lang))
    print(f"wrote {Path(args.out) / 'results.json'}, report.html, report.md")
    return 0


def cmd_report(args) -> int:
    from .api import load_results
    from .errors import ClusterSemError
    path = Path(args.dir) / "results.json"
    if not path.is_file():
        raise ClusterSemError(f"{path}: no results.json here. Fix: run 'cluster-sem fit SPEC DATA --out {args.dir}' first")
    try:
        results = load_results(path)
    except (ValueError, KeyError) as exc:
        raise ClusterSemError(f"{path}: not a cluster-sem results.json ({exc}). Fix: re-run cluster-sem fit") from None
    _write_atomically(Path(args.dir), _rendered(results, args.lang))
    print(f"wrote {Path(args.dir) / 'report.html'} and report.md ({args.lang})")
    return 0


def _usage(message: str):
    from .errors import ClusterSemError
    return ClusterSemError(message)


def main(argv: list[str] | None = None) -> int:
    from .errors import ClusterSemError
    args = build_parser().parse_args(argv)
    handler = {"validate": cmd_validate, "simulate": cmd_simulate, "fit": cmd_fit, "report": cmd_report,
               "invariance": cmd_invariance}[args.command]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = handler(args)
        for w in caught:
            if issubclass(w.category, UserWarning):
                sys.stderr.write(f"warning: {w.message}\n")
        return code
    except ClusterSemError as exc:
        problems = getattr(exc, "problems", None)
        if args.command == "validate" and problems and len(problems) > 1:
            for line in problems:  # validate lists every problem, one per line
                sys.stderr.write(f"cluster-sem validate: error: {' '.join(line.split())}\n")
        else:
            sys.stderr.write(f"cluster-sem {args.command}: error: {' '.join(str(exc).split())}\n")
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        sys.stderr.write(f"cluster-sem {args.command}: error: {exc.filename}: {exc.strerror}. "
                         "Fix: check the path\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("cluster-sem: interrupted; nothing was written\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
