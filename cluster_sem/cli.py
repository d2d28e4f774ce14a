"""``cluster-sem`` command line: a thin layer over the Python API (contract §2).

Every user-input problem ends here as exit code 2 and one line on stderr (the library's ClusterSemError,
or a file the OS cannot read); nothing is written to the output directory unless everything succeeded.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import shlex
import signal
import stat
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from .blas import single_thread_process

single_thread_process()   # before numpy loads: BLAS starts with one thread (see blas.py)

from .atomic import umask as _umask  # noqa: E402 - after the BLAS thread count is set
from .options import DEFAULT_SEED  # noqa: E402

EPILOG = {
    "validate": "examples:\n  cluster-sem validate questionnaires/zhejiang_cluster_growth.yaml\n"
                "  cluster-sem validate questionnaires/zhejiang_cluster_growth.yaml data/zhejiang_128_synthetic.csv",
    "simulate": "example:\n  cluster-sem simulate questionnaires/zhejiang_cluster_growth.yaml --n 128 --seed 1 "
                "--out data/zhejiang_128_synthetic.csv",
    "fit": "examples:\n  cluster-sem fit questionnaires/zhejiang_cluster_growth.yaml data/zhejiang_128_synthetic.csv --out results/\n"
           "  cluster-sem fit SPEC DATA --out results/ --bootstrap 5000 --seed 1 --jobs 2\n"
           "  cluster-sem fit SPEC DATA --out results/ --modindices --compare \"CE~NC = CE~TS\"",
    "invariance": "examples:\n  cluster-sem invariance SPEC DATA --out results-invariance/\n"
                  "  cluster-sem invariance SPEC DATA --out results-invariance/ --release \"CE=~CE3\" --lang zh",
    "library": "examples:\n  cluster-sem library list\n  cluster-sem library list --lang zh\n"
               "  cluster-sem library show TS\n  cluster-sem library show PACAP --lang zh",
    "new": "examples:\n  cluster-sem new study.yaml --from TS,RQ,OL,CG --paths \"TS,RQ -> OL -> CG\"\n"
           "  cluster-sem new study.yaml --from NC,TS,RD,IOL,CE --paths \"NC,TS,RD -> IOL -> CE\" "
           "--controls firm_age,firm_size\n"
           "  cluster-sem new study.yaml --from KA,AC,IP --paths \"KA -> AC -> IP; KA -> IP\" --force\n"
           "  (a second-order scale such as RD, IOL or SC brings its dimensions along)",
    "pls": "examples:\n  cluster-sem pls SPEC DATA --out results-pls/\n"
           "  cluster-sem pls SPEC DATA --out results-pls/ --bootstrap 5000 --seed 1 --jobs 2\n"
           "  cluster-sem pls SPEC DATA --out results-plsc/ --consistent --bootstrap 5000 --lang zh",
    "report": "examples:\n  cluster-sem report results/\n  cluster-sem report results/ --lang zh   "
              "# adds results/report.zh.html and report.zh.md\n  cluster-sem report results/ --out elsewhere/\n"
              "  cluster-sem report results/ --lang zh --docx     (also report.zh.docx: Word, APA three-line tables)",
    "cmb": "examples:\n  cluster-sem cmb questionnaires/zhejiang_cluster_growth.yaml data/zhejiang_128_synthetic.csv "
           "--out results-cmb/\n  cluster-sem cmb SPEC DATA --out results-cmb/ --lang zh",
    "power": "examples:\n  cluster-sem power questionnaires/zhejiang_cluster_growth.yaml --n 100,128,200,300 --reps 1000 "
             "--seed 1 --out power/\n  cluster-sem power SPEC --n 150 --reps 2000 --out power/ --jobs 2 --resume\n"
             "  cluster-sem power SPEC --n 100,200 --out power/ --scheduler tcp://HOST:8786\n"
             "  cluster-sem power SPEC --clusters 20,30,40 --cluster-size 8 --reps 500 --out power/  "
             "(needs population.icc)",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line with exit code 2."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised through the CLI tests
        sys.stderr.write(f"cluster-sem: error: {message}. Fix: correct the command line (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _allowed(option: str) -> list[str]:
    """Choices shown by --help come from the one table of allowed option values (cluster_sem.options); None
    there means "not given" (the spec decides), which is the absent option, not a value to type."""
    from .options import FIT_OPTIONS
    return [v for v in FIT_OPTIONS[option].constraint.values if v is not None]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cluster-sem", description="Structural equation modelling of cluster-firm surveys "
                     "from one YAML questionnaire spec (lavaan conventions).")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"cluster-sem {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    fmt = argparse.RawDescriptionHelpFormatter

    _add_validate_parser(sub, fmt)
    _add_simulate_parser(sub, fmt)
    _add_fit_parser(sub, fmt)
    _add_invariance_parser(sub, fmt)
    _add_pls_parser(sub, fmt)
    _add_power_parser(sub, fmt)
    _add_report_parser(sub, fmt)
    _add_library_parsers(sub, fmt)
    _add_cmb_parser(sub, fmt)
    return parser


def _add_validate_parser(sub, fmt) -> None:
    """Arguments of the `validate` command: a spec, and optionally data checked against it."""
    p = sub.add_parser("validate", help="check a spec (and optionally a data file against it)",
                       epilog=EPILOG["validate"], formatter_class=fmt)
    p.add_argument("spec", help="questionnaire spec (YAML)")
    p.add_argument("data", nargs="?", help="survey data to check against the spec (optional)")


def _add_simulate_parser(sub, fmt) -> None:
    """Arguments of the `simulate` command: synthetic Likert data from the spec's population section."""
    p = sub.add_parser("simulate", help="draw synthetic Likert data from the spec's population section",
                       epilog=EPILOG["simulate"], formatter_class=fmt)
    p.add_argument("spec", help="questionnaire spec (YAML) with a population section")
    p.add_argument("--n", type=int, required=True, help="number of cases")
    p.add_argument("--seed", type=int, required=True, help="random seed (same seed, same data)")
    p.add_argument("--out", required=True, help="output .csv file")
    design = p.add_mutually_exclusive_group()
    design.add_argument("--clusters", type=int, default=None, help="firms in K clusters of nearly equal size, with "
                        "the cluster random effects of population.icc (writes a cluster column)")
    design.add_argument("--cluster-size", type=int, default=None, help="clusters of M firms each (the last ones "
                        "one smaller when M does not divide --n)")


def _add_fit_parser(sub, fmt) -> None:
    """Arguments of the `fit` command: the main job (fit, bootstrap, reports); choices from cluster_sem.options."""
    p = sub.add_parser("fit", help="fit the measurement and structural models; write results.json + reports",
                       epilog=EPILOG["fit"], formatter_class=fmt)
    p.add_argument("spec", help="questionnaire spec (YAML)")
    p.add_argument("data", help="survey data (.csv, .xlsx, .sav, .dta)")
    p.add_argument("--out", required=True, help="output directory (created; files replaced atomically)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B", help="bootstrap resamples (0 = none; 5000 is usual)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=f"random seed of the bootstrap and Monte Carlo CIs (default {DEFAULT_SEED}; same seed, same results.json)")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes for the bootstrap, and threads of "
                                                       "the LMS likelihood (same numbers for any J)")
    p.add_argument("--scheduler", default=None, help="dask.distributed scheduler address, or 'local'")
    p.add_argument("--ci-level", type=float, default=0.95, help="confidence level of every CI (default 0.95)")
    p.add_argument("--ci", choices=_allowed("ci"), default="auto",
                   help="CI reported for indirect effects (auto: percentile bootstrap if --bootstrap > 0, else delta)")
    p.add_argument("--missing", choices=_allowed("missing"), default="listwise",
                   help="listwise (default) or fiml (full-information ML, lavaan missing = \"ml\")")
    p.add_argument("--estimator", choices=_allowed("estimator"), default=None,
                   help="ML (default; WLSMV when the spec says ordinal: true), MLR (robust: sandwich SEs, "
                        "Yuan-Bentler scaled chi2), or WLSMV (every item an ordered category: polychoric "
                        "correlations, DWLS, robust SEs, scaled-shifted chi2)")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="report language")
    _add_docx_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--engine", choices=_allowed("engine"), default="default",
                   help="start values of the ML and MLR fits: default = lavaan's (fast start-up); semopy = "
                        "semopy's solution (same estimates, ~1.5 s slower; a cross-check; not with --missing fiml "
                        "or WLSMV). results.json meta.engine records it")
    p.add_argument("--interaction-method", choices=_allowed("interaction_method"), default="lms",
                   help="estimator of the spec's latent interactions: lms (default), qml, or dblcent "
                        "(double-mean-centred product indicators)")
    p.add_argument("--moderation-ci", choices=_allowed("moderation_ci"), default="monte-carlo",
                   help="CIs of conditional indirect effects and the index of moderated mediation: monte-carlo "
                        "(default) or bootstrap (percentile, B LMS refits with --bootstrap B; ~2 s CPU each on "
                        "the shipped example)")
    p.add_argument("--cluster", default=None, metavar="COLUMN",
                   help="data column naming each firm's cluster: cluster-robust SEs and scaled test (lavaan "
                        "cluster=), ICCs and design effects; overrides the spec's cluster:")
    p.add_argument("--weights", default=None, metavar="COLUMN",
                   help="data column of sampling weights (lavaan sampling.weights=, normalised to sum to n; "
                        "robust SEs); overrides the spec's weights:")
    p.add_argument("--cluster-bootstrap", action="store_true",
                   help="with --cluster and --bootstrap B: resample whole clusters (each firm keeps its weight) "
                        "instead of firms, for percentile/BC CIs that respect the clustering")
    p.add_argument("--modindices", action="store_true",
                   help="lavaan modindices() of both models (mi >= 3.84, largest first; ML, complete rows)")
    p.add_argument("--compare", action="append", default=[], metavar="\"A = B\"",
                   help="test two effects for equality: paths as TO~FROM or indirect effects by name, e.g. "
                        "--compare \"OL~TS = OL~RQ\" (Wald test and constrained-refit LRT; repeatable)")


def _add_cmb_parser(sub, fmt) -> None:
    """Arguments of the `cmb` command: the common-method battery on the spec's items."""
    p = sub.add_parser("cmb", help="common-method battery: Harman (EFA and one-factor CFA), common latent "
                       "factor, ULMC and (with method_marker items) the CFA marker technique",
                       epilog=EPILOG["cmb"], formatter_class=fmt)
    p.add_argument("spec")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="output directory (created; files replaced atomically)")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="report language")
    p.add_argument("--quiet", action="store_true", help="no summary")


def _add_invariance_parser(sub, fmt) -> None:
    """Arguments of the `invariance` command: configural → strict steps across the spec's groups."""
    p = sub.add_parser("invariance", help="measurement invariance across the spec's groups (configural, metric, "
                       "scalar, strict) and path differences; write results.json + reports",
                       epilog=EPILOG["invariance"], formatter_class=fmt)
    p.add_argument("spec", help="questionnaire spec (YAML) naming a group column")
    p.add_argument("data", help="survey data (.csv, .xlsx, .sav, .dta)")
    p.add_argument("--out", required=True, help="output directory (created; files replaced atomically)")
    p.add_argument("--estimator", choices=_allowed("estimator"), default="ML", help="ML (default), MLR (sandwich SEs, Yuan-Bentler chi2, Satorra-Bentler 2001 differences) or WLSMV (items as ordered categories; thresholds equal in the scalar step; scaled-shifted differences)")
    p.add_argument("--missing", choices=_allowed("missing"), default="listwise",
                   help="listwise (default); fiml: full-information ML per group (lavaan missing = \"ml\")")
    p.add_argument("--release", default=None, metavar="ROWS",
                   help="equality constraints to free in every level, e.g. \"CE=~CE3\" or \"CE=~CE3,CE3~1\"")
    p.add_argument("--cluster", default=None, metavar="COLUMN",
                   help="data column of the firms' clusters (overrides the spec's cluster:): cluster-robust SEs, "
                        "Yuan-Bentler tests and Satorra-Bentler differences, clusters nested in the groups")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="report language")
    _add_docx_option(p)
    p.add_argument("--quiet", action="store_true", help="no summary")


def _add_pls_parser(sub, fmt) -> None:
    """Arguments of the `pls` command: PLS-SEM / PLSc of the same spec (seminr conventions)."""
    p = sub.add_parser("pls", help="PLS-SEM (or consistent PLS) of the spec's model; write results.json + reports",
                       epilog=EPILOG["pls"], formatter_class=fmt)
    p.add_argument("spec")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="output directory (created; files replaced atomically)")
    p.add_argument("--consistent", action="store_true", help="PLSc (Dijkstra-Henseler): constructs as common "
                   "factors, correlations corrected by rho_A")
    p.add_argument("--mode", choices=["A", "B"], default="A", help="outer mode of the constructs not marked "
                   "`formative: true` (A = correlation weights, default; B = regression weights)")
    p.add_argument("--scheme", choices=["path", "factorial", "centroid"], default="path",
                   help="inner weighting scheme (default path)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B", help="bootstrap resamples (0 = none; 5000 is usual)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=f"random seed of the resamples and PLSpredict folds (default {DEFAULT_SEED})")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes for the bootstrap")
    p.add_argument("--ci-level", type=float, default=0.95, help="confidence level of the CIs (default 0.95)")
    p.add_argument("--predict", type=int, default=0, metavar="K", help="PLSpredict with K folds (10 is usual): "
                   "Q2_predict, RMSE and MAE of the endogenous items against a linear model")
    p.add_argument("--mga", action="store_true", help="PLS multigroup analysis across the spec's group column "
                   "(Henseler's and the permutation test; needs --bootstrap B)")
    p.add_argument("--cbsem", default=None, metavar="FIT_DIR", help="the --out directory of a `cluster-sem fit` of "
                   "the same spec and data: adds a CB-SEM vs PLS table of the paths and indirect effects")
    p.add_argument("--second-order", choices=["repeated", "two-stage"], default="repeated",
                   help="second-order constructs: repeated indicators (default) or the disjoint two-stage "
                   "approach (dimension scores as indicators; needed for `formative: true` ones)")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="report language")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def cmd_pls(args) -> int:
    from . import api
    _check_out(args.out, directory=True)
    command = "cluster-sem pls " + " ".join(
        [args.spec, args.data, "--out", args.out] + (["--consistent"] if args.consistent else [])
        + ["--mode", args.mode, "--scheme", args.scheme]
        + (["--bootstrap", str(args.bootstrap)] if args.bootstrap else [])
        + (["--predict", str(args.predict)] if args.predict else []) + (["--mga"] if args.mga else [])
        + (["--cbsem", args.cbsem] if args.cbsem else [])
        + (["--second-order", args.second_order] if args.second_order != "repeated" else [])
        + ["--seed", str(args.seed)])
    results = api.pls(args.spec, args.data, consistent=args.consistent, mode=args.mode, scheme=args.scheme,
                      bootstrap=args.bootstrap, seed=args.seed, jobs=args.jobs, ci_level=args.ci_level,
                      predict=args.predict, mga=args.mga, cbsem=args.cbsem, quiet=args.quiet,
                      command=command, second_order=args.second_order)
    return _write_results(results, args)


def _add_report_parser(sub, fmt) -> None:
    """Arguments of the `report` command: re-render the reports from a stored results.json."""
    p = sub.add_parser("report", help="re-render DIR/report.html and DIR/report.md from DIR/results.json",
                       epilog=EPILOG["report"], formatter_class=fmt)
    p.add_argument("dir", help="a directory holding a results.json (the --out of fit or invariance)")
    p.add_argument("--lang", choices=["en", "zh"], default="en",
                   help="report language: en writes report.html/.md, zh writes report.zh.html/.md beside them")
    p.add_argument("--out", default=None, help="write the reports into this directory instead of DIR")
    _add_docx_option(p)


def _add_docx_option(p) -> None:
    p.add_argument("--docx", action="store_true", help="also write the Word report for a manuscript: "
                   "report.docx beside report.html (named as the HTML report: report.zh.docx from `report DIR --lang zh`), "
                   "APA three-line tables and the path diagram")


def _add_library_parsers(sub, fmt) -> None:
    """`library list|show` (the scale library) and `new` (a spec written from it)."""
    p = sub.add_parser("library", help="list the scale library or show one scale's items (en and zh)",
                       epilog=EPILOG["library"], formatter_class=fmt)
    actions = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    lst = actions.add_parser("list", help="key, label, number of items, source and languages of every scale")
    lst.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the labels")
    show = actions.add_parser("show", help="a scale's items, reverse keys, response scale and source")
    show.add_argument("name", help="scale key, e.g. TS (see 'cluster-sem library list')")
    show.add_argument("--lang", choices=["en", "zh"], default=None, help="wording in one language (default: both)")
    p = sub.add_parser("new", help="write a commented spec from library scales and a path model (validate, "
                       "simulate, fit and power run on it unchanged)", epilog=EPILOG["new"], formatter_class=fmt)
    p.add_argument("spec", help="spec file to write (refused if it exists, unless --force)")
    p.add_argument("--from", dest="scales", required=True, metavar="KEYS",
                   help="library scales, comma-separated, e.g. TS,RQ,OL,CG")
    p.add_argument("--paths", required=True, help="the structural model: \"A,B -> M -> Y\" (every name left of "
                   "an arrow predicts every name right of it); several chains separated by ';'")
    p.add_argument("--controls", default=None, metavar="COLUMNS", help="observed covariates, comma-separated, "
                   "e.g. firm_age,firm_size")
    p.add_argument("--force", action="store_true", help="replace an existing SPEC file")


def cmd_library(args) -> int:
    from .library.show import library_table, scale_text
    text = library_table(args.lang) if args.action == "list" else scale_text(args.name, args.lang)
    try:
        print(text, flush=True)
    except BrokenPipeError:   # `library list | head`: the reader has what it wanted; no traceback at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def cmd_new(args) -> int:
    from .library.new import parse_list, write_new_spec
    controls = parse_list(args.controls, "--controls") if args.controls is not None else []
    command = "cluster-sem new " + " ".join(
        [args.spec, "--from", args.scales, "--paths", f'"{args.paths}"']
        + (["--controls", args.controls] if args.controls else []))
    path = write_new_spec(args.spec, parse_list(args.scales, "--from"), args.paths, controls, force=args.force,
                          command=command)
    print(_safe(f"wrote {path}. Next: cluster-sem simulate {path} --n 200 --seed 1 --out data.csv"))
    return 0


def _check_out(value: str, *, directory: bool) -> Path:
    """Refuse an --out that cannot work before any work is done: empty, the wrong kind of existing path,
    or a path below a file."""
    kind = "directory" if directory else "file"
    if not value.strip():
        raise _usage(f"--out is empty. Fix: name an output {kind}, e.g. --out {'results/' if directory else 'data.csv'}")
    path = Path(value)
    if path.exists() and path.is_dir() != directory:
        raise _usage(f"--out {value}: is an existing {'file' if directory else 'directory'}, not a {kind}. "
                     f"Fix: name a new or existing {kind}")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise _usage(f"--out {value}: {parent} is a file, so nothing can be written below it. "
                             f"Fix: name an output {kind} in a directory")
            break
    return path


def _whole(text: str) -> int:
    """An integer, also written as 1e4 or 2000.0 (the option table then checks its bounds and names them)."""
    try:
        return int(text)
    except ValueError:
        value = float(text)      # ValueError for words; 'inf' / 'nan' / 2.5 below
        if not value.is_integer():
            raise ValueError(text) from None
        return int(value)


def _count(text: str) -> int:
    try:
        return _whole(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number, e.g. 1000") from None


def _sizes(text: str) -> list[int]:
    """A comma-separated list of whole numbers; an empty entry ('100,,200', a trailing comma, '') is a typing
    slip, refused rather than silently skipped."""
    try:
        parts = text.split(",")
        if any(not x.strip() for x in parts):
            raise ValueError(text)
        return [_whole(x) for x in parts]
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of sample sizes, e.g. 100,128,200")


def _add_power_parser(sub, fmt) -> None:
    p = sub.add_parser("power", help="Monte Carlo power and sample size from the spec's population section",
                       epilog=EPILOG["power"], formatter_class=fmt)
    p.add_argument("spec", help="questionnaire spec (YAML) with a population section")
    p.add_argument("--n", type=_sizes, default=None, help="sample sizes, comma-separated (e.g. 100,128,200,300)")
    p.add_argument("--clusters", type=_sizes, default=None,
                   help="clustered design instead of --n: numbers of clusters, comma-separated (e.g. 20,30,40), "
                        "each with --cluster-size firms, drawn with population.icc and fitted with cluster-robust "
                        "SEs (one replication at a time)")
    p.add_argument("--cluster-size", type=int, default=None, help="firms per cluster of a clustered design (e.g. 8)")
    p.add_argument("--reps", type=_count, default=1000, help="replications per sample size (default 1000; at "
                                                            "most 100000)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED}; same seed, same power.json)")
    p.add_argument("--out", required=True, help="output directory: power.json, power.html, power.md")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of each test (default 0.05)")
    p.add_argument("--target", type=float, default=0.80, help="target power (default 0.80)")
    p.add_argument("--ci", choices=["monte-carlo", "delta", "bootstrap"], default="monte-carlo",
                   help="test of indirect effects per replication: Monte Carlo CI (default), delta method, or a "
                        "500-resample percentile bootstrap inside every replication (slow)")
    p.add_argument("--estimator", default="ML", help="ML (default, batched) or MLR (robust SEs; one replication "
                                                     "at a time, ~100x slower)")
    p.add_argument("--missing", default="listwise", help="listwise (default) or fiml (the spec's missing_rate "
                                                        "blanks kept; one replication at a time, ~100x slower)")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes")
    p.add_argument("--scheduler", default=None, help="'local' (dask LocalCluster; local processes without the dask "
                                                     "extra) or a dask scheduler address tcp://HOST:PORT")
    p.add_argument("--resume", action="store_true", help="reuse the chunks an interrupted run left in --out")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="report language")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")


def cmd_power(args) -> int:
    import json

    from .power import PowerOptions, check_options, run_power
    from .render.power import render_power_html, render_power_markdown, render_power_summary
    options = PowerOptions(sizes=tuple(args.n or ()), reps=args.reps, seed=args.seed, alpha=args.alpha,
                           target=args.target, ci=args.ci, estimator=args.estimator, missing=args.missing,
                           jobs=args.jobs, scheduler=args.scheduler, resume=args.resume, quiet=args.quiet,
                           clusters=tuple(args.clusters or ()), cluster_size=args.cluster_size)
    check_options(options)
    out = _check_out(args.out, directory=True)
    before = _PowerOut(out)
    try:
        doc = run_power(args.spec, options, out_dir=args.out)
    except (KeyboardInterrupt, _Terminated) as exc:
        return _power_interrupted(args, exc, before)
    except BaseException:
        before.restore()     # an error part-way: no checkpoints (or new folder) left behind
        raise
    text = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    _write_atomically(Path(args.out), {"power.json": text, "power.html": render_power_html(doc, args.lang),
                                       "power.md": render_power_markdown(doc, args.lang)})
    from .power.checkpoint import Checkpoints
    Checkpoints.remove_all(Path(args.out))
    if not args.quiet:
        print(render_power_summary(doc, args.lang))
    print(f"wrote {Path(args.out) / 'power.json'}, power.html, power.md")
    return 0


class _PowerOut:
    """What --out held before a power run, so that a failed run can leave it so."""

    def __init__(self, out: Path):
        from .power.checkpoint import DIRNAME
        self.out = out
        self.checkpoints = out / DIRNAME
        self.had_out = out.exists()
        self.had_checkpoints = self.checkpoints.exists()

    def restore(self) -> None:
        """Remove the checkpoint folder (and the --out folder) this run created."""
        if not self.had_checkpoints and self.checkpoints.is_dir():
            shutil.rmtree(self.checkpoints, ignore_errors=True)
        if not self.had_out and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()


def _power_interrupted(args, exc: BaseException, before: _PowerOut) -> int:
    """Ctrl-C / SIGTERM during power: say what was kept and the exact command that continues from it."""
    store = getattr(exc, "power_checkpoints", None)
    kept = store.saved() if store is not None else []
    how = "terminated (SIGTERM)" if isinstance(exc, _Terminated) else "interrupted"
    if not kept:
        before.restore()
        sys.stderr.write(f"cluster-sem power: {how} before a chunk of replications finished; nothing was written\n")
    else:
        design = ["--clusters", ",".join(map(str, args.clusters)), "--cluster-size", str(args.cluster_size)] \
            if args.clusters else ["--n", ",".join(map(str, args.n))]
        command = ["cluster-sem", "power", args.spec, *design, "--reps", str(args.reps),
                   "--seed", str(args.seed), "--out", args.out]
        for flag, value, default in (("--alpha", args.alpha, 0.05), ("--target", args.target, 0.80),
                                     ("--ci", args.ci, "monte-carlo"), ("--estimator", args.estimator, "ML"),
                                     ("--missing", args.missing, "listwise"), ("--jobs", args.jobs, 1),
                                     ("--scheduler", args.scheduler, None), ("--lang", args.lang, "en")):
            if value != default:
                command += [flag, str(value)]
        command += ["--quiet"] * args.quiet + ["--resume"]
        text = (f"cluster-sem power: {how}; {len(kept)} finished chunk(s) of replications kept in "
                f"{shlex.quote(str(store.dir))}, no report written. Fix: continue with {shlex.join(command)}")
        # printable characters only (no escape sequence, no line break) but no word shortened as _safe does:
        # the command must run as printed
        sys.stderr.write("".join(ch for ch in text if ch.isprintable()) + "\n")
    return 143 if isinstance(exc, _Terminated) else 130


def _write_atomically(out_dir: Path, files: dict[str, str | bytes]) -> None:
    """Build the complete new output folder beside the old one, then swap it in by renaming, so DIR never
    mixes two runs: a failure before the swap leaves DIR as it was.  Other files already in DIR are kept
    (hard-linked into the new folder).  When DIR is the working directory (``--out .``) or holds it, the
    files are written first and then each is renamed into place instead."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    old = None
    cwd = Path.cwd()
    in_place = out_dir == cwd or out_dir in cwd.parents
    try:
        if out_dir.is_dir() and not in_place:
            for entry in out_dir.iterdir():
                if entry.name in files:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.copytree(entry, tmp / entry.name, symlinks=True, copy_function=_link_or_copy)
                else:
                    _link_or_copy(entry, tmp / entry.name)
        for name, text in files.items():
            if isinstance(text, bytes):     # report.docx
                (tmp / name).write_bytes(text)
            else:
                (tmp / name).write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())
        if in_place:
            # renaming the shell's working directory away would leave the user in a deleted folder:
            # here the files are replaced one by one (each atomically), after all were written
            for name in files:
                os.replace(tmp / name, out_dir / name)
        elif out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / "previous")
            try:
                os.replace(tmp, out_dir)
            except OSError:
                os.replace(old / "previous", out_dir)   # put the old folder back
                raise
        else:
            os.replace(tmp, out_dir)
    finally:
        _remove_tree(tmp)
        if old is not None:
            _remove_tree(old)


def _remove_tree(path: Path) -> None:
    """Delete a folder this run made (the temp folder, or the renamed previous DIR) even when it holds a
    read-only sub-folder of the user's (copied with its mode): such a folder keeps its entries until it is
    made writable, and a plain ``rmtree(ignore_errors=True)`` left ``.DIR.old-XXXX/previous/`` behind."""
    shutil.rmtree(path, ignore_errors=True)
    if not os.path.lexists(path):
        return
    _owner_rwx(path)
    for root, dirs, _ in os.walk(path):          # top-down: a folder is opened after it was made writable
        for d in dirs:
            _owner_rwx(os.path.join(root, d))
    shutil.rmtree(path, ignore_errors=True)


def _owner_rwx(folder) -> None:
    if os.path.isdir(folder) and not os.path.islink(folder):
        try:
            os.chmod(folder, os.stat(folder).st_mode | stat.S_IRWXU)
        except OSError:
            pass   # not ours to change: rmtree then leaves it, nothing else can be done


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _write_results(results, args, renderer=None) -> int:
    """results.json + report.html + report.md into --out (atomically), then the terminal summary.
    ``renderer``: a ``render.forked.ReportProcess`` that renders the reports from results.json's text (they
    are rendered here if it does not deliver)."""
    files = {"results.json": results.to_json()}
    forked = renderer.reports(files["results.json"]) if renderer is not None else None
    if renderer is not None and forked is None:     # the child did not check the document: check it here
        from .results.schema import check_written
        check_written(results.to_dict())
    if forked is not None and "schema_drift" in forked:
        from .results.schema import SchemaDrift
        raise SchemaDrift(forked["schema_drift"])
    files.update(_rendered(results, args.lang) if forked is None else
                 {name: forked[name] for name in ("report.html", "report.md")})
    files.update(_docx(results, args))
    _write_atomically(Path(args.out), files)
    if not args.quiet:
        print(forked["summary"] if forked and "summary" in forked else results.summary(lang=args.lang))
    print(f"wrote {Path(args.out) / 'results.json'}, report.html, report.md")
    _print_docx(args.out, files)
    return 0


def _print_docx(out_dir: str, files: dict) -> None:
    for name in (n for n in files if n.endswith(".docx")):
        print(f"wrote {Path(out_dir) / name}")


def _rendered(results, lang: str) -> dict[str, str]:
    return {"report.html": results.to_html(lang=lang), "report.md": results.to_markdown(lang=lang)}


def _docx(results, args) -> dict[str, bytes]:
    """{report.docx: bytes} with --docx (report.<lang>.docx for another language), else {}."""
    if not getattr(args, "docx", False):
        return {}
    return {"report.docx": results.to_docx(lang=args.lang)}


def cmd_validate(args) -> int:
    from .spec import load_spec
    spec = load_spec(args.spec)
    msg = f"{args.spec}: valid spec ({len(spec.first_order)} first-order and {len(spec.second_order)} " \
          f"second-order constructs, {len(spec.items)} items, {len(spec.paths)} path statements)"
    if args.data:
        from .data import validate_data
        from .data.estimable import check_estimable
        data = validate_data(spec, args.data)
        check_estimable(spec, data)
        msg += f"; {args.data}: {data.n_used} of {data.n_raw} rows usable"
        for line in data.log:
            print(f"  - {_safe(line)}")
    print(_safe(msg))
    return 0


def cmd_simulate(args) -> int:
    from .options import SIMULATE_OPTIONS, check_options
    from .simulate import simulate_to_csv
    values = {"n": args.n, "seed": args.seed, "clusters": args.clusters, "cluster_size": args.cluster_size}
    check_options("simulate", {k: v for k, v in values.items() if v is not None}, SIMULATE_OPTIONS)
    _check_out(args.out, directory=False)
    simulate_to_csv(args.spec, args.n, args.seed, args.out, clusters=args.clusters, cluster_size=args.cluster_size)
    design = _simulated_design(args)
    print(f"wrote {args.out} ({args.n} simulated cases{design}, seed {args.seed})")
    return 0


def _simulated_design(args) -> str:
    """', in K clusters of M firms' for the confirmation line of a clustered simulation ('' otherwise)."""
    from .simulate.simulator import design_sizes
    sizes = design_sizes(args.n, args.clusters, args.cluster_size)
    if sizes is None:
        return ""
    m = f"{sizes.min()}" if sizes.min() == sizes.max() else f"{sizes.min()}-{sizes.max()}"
    return f" in {len(sizes)} clusters of {m} firms"


def cmd_fit(args) -> int:
    from . import api  # option values are checked once, by the API (cluster_sem.options)
    _check_out(args.out, directory=True)
    if args.docx:
        from .render.docx import require_docx
        require_docx()
    command = "cluster-sem " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("cluster-sem") else \
        "cluster-sem fit " + " ".join([args.spec, args.data, "--out", args.out] +
                                      (["--bootstrap", str(args.bootstrap)] if args.bootstrap else []) +
                                      ["--seed", str(args.seed)] +
                                      (["--cluster", args.cluster] if args.cluster else []) +
                                      (["--weights", args.weights] if args.weights else []) +
                                      (["--cluster-bootstrap"] if args.cluster_bootstrap else []) +
                                      _estimation_flags(args))
    from .results.results import schema_check_elsewhere
    renderer = _report_process(args)
    try:
        with schema_check_elsewhere() if renderer is not None else contextlib.nullcontext():
            results = api.fit(args.spec, args.data, bootstrap=args.bootstrap, seed=args.seed, jobs=args.jobs,
                              ci_level=args.ci_level, missing=args.missing, estimator=args.estimator, ci=args.ci,
                              scheduler=args.scheduler, quiet=args.quiet, command=command, engine=args.engine,
                              interaction_method=args.interaction_method, moderation_ci=args.moderation_ci,
                              cluster=args.cluster, weights=args.weights,
                              meanwhile=_load_report_templates if renderer is None else None,
                              modindices=args.modindices, compare=args.compare,
                              cluster_bootstrap=args.cluster_bootstrap)
        return _write_results(results, args, renderer)
    finally:
        if renderer is not None:
            renderer.close()


def _report_process(args):
    """A forked process that loads the report renderers while this one fits (``render.forked``); None with
    --bootstrap (the templates then load while the bootstrap's workers run), with --docx (rendered here), or
    where forking is not safe."""
    if args.bootstrap or args.docx:
        return None
    from .render.forked import ReportProcess
    return ReportProcess.start(_load_report_templates, lang=args.lang, summary=not args.quiet)


def _estimation_flags(args) -> list[str]:
    """The options that change results.json, as typed (defaults left out), for ``meta.command`` when it is
    rebuilt from ``args`` (``python -m cluster_sem.cli``, ``main([...])``): without them the recorded command
    would rerun another model (e.g. ML for an MLR fit, no comparisons)."""
    flags: list[str] = []
    for flag, value, default in (("--estimator", args.estimator, None), ("--missing", args.missing, "listwise"),
                                 ("--ci", args.ci, "auto"), ("--ci-level", args.ci_level, 0.95),
                                 ("--engine", args.engine, "default"),
                                 ("--interaction-method", args.interaction_method, "lms"),
                                 ("--moderation-ci", args.moderation_ci, "monte-carlo")):
        if value != default:
            flags += [flag, str(value)]
    flags += ["--modindices"] * bool(args.modindices)
    for text in args.compare:
        flags += ["--compare", shlex.quote(text)]
    return flags


def _load_report_templates() -> None:
    """Import the report renderers and compile/load their templates (~0.15 s CPU of every `fit`), called
    while the bootstrap's workers run: rendering afterwards then only fills the templates in."""
    from .render import html, markdown
    html.environment().get_template("report.html.j2")
    markdown.environment().get_template("report.md.j2")


def cmd_invariance(args) -> int:
    from .invariance import InvarianceOptions, run_invariance
    from .invariance.document import parse_release
    command = "cluster-sem invariance " + " ".join(
        [args.spec, args.data, "--out", args.out, "--estimator", args.estimator, "--missing", args.missing]
        + (["--release", f'"{args.release}"'] if args.release else [])
        + (["--cluster", args.cluster] if args.cluster else []))
    results = run_invariance(args.spec, args.data, InvarianceOptions(
        estimator=args.estimator, missing=args.missing, release=parse_release(args.release), command=command,
        cluster=args.cluster))
    return _write_results(results, args)


def cmd_cmb(args) -> int:
    from .cmb import run_cmb
    _check_out(args.out, directory=True)
    results = run_cmb(args.spec, args.data, command=" ".join(["cluster-sem cmb", args.spec, args.data, "--out", args.out]))
    return _write_results(results, args)


def cmd_report(args) -> int:
    from .api import load_results
    from .errors import ClusterSemError
    path = Path(args.dir) / "results.json"
    if not path.is_file():
        raise ClusterSemError(f"{path}: no results.json here. Fix: run 'cluster-sem fit SPEC DATA --out {args.dir}' first")
    from .results.schema import document_problem
    try:  # results.json is a file anyone can edit: anything unexpected in it is a user-input problem
        results = load_results(path)
        problem = document_problem(results.to_dict())
        if problem:
            raise ClusterSemError(f"{path}: {problem}. Fix: correct that key (docs/contract.md, section 3) "
                                  "or re-run the command that wrote it")
        rendered = {**_rendered(results, args.lang), **_docx(results, args)}
        files = {report_name(name, args.lang): text for name, text in rendered.items()}
    except ClusterSemError:     # already one line with its fix (--docx without python-docx)
        raise
    except Exception as exc:  # noqa: BLE001 - wrong types, a list, deep nesting (RecursionError), ...
        raise ClusterSemError(f"{path}: not a cluster-sem results.json ({type(exc).__name__}: "
                              f"{str(exc)[:120]}). Fix: re-run cluster-sem fit to write it again") from None
    target = Path(args.dir) if args.out is None else _check_out(args.out, directory=True)
    _write_atomically(target, files)
    html, md = (report_name(name, args.lang) for name in ("report.html", "report.md"))
    print(f"wrote {target / html} and {md} ({args.lang})")
    _print_docx(str(target), files)
    return 0


def report_name(name: str, lang: str) -> str:
    """The file a re-rendered report is written to: ``report.html`` in English, ``report.zh.html`` in
    Chinese, so `report DIR --lang zh` adds the translation beside the English report instead of replacing it."""
    stem, _, ext = name.rpartition(".")
    return name if lang == "en" else f"{stem}.{lang}.{ext}"


MAX_LISTED = 50   # problems `validate` lists before it counts the rest


def _safe(text) -> str:
    """One line of user-influenced text for the terminal: no escape sequences, no overlong names."""
    from .render.plain_text import terminal_safe
    return terminal_safe(" ".join(str(text).split()))


def _usage(message: str):
    from .errors import ClusterSemError
    return ClusterSemError(message)


class _Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so the bootstrap pool is stopped and nothing is written."""


def _stopped(exc: BaseException) -> int:
    """Ctrl-C (130) or SIGTERM (143) before anything was written: one line, the shell's exit code."""
    if isinstance(exc, _Terminated):
        sys.stderr.write("cluster-sem: terminated (SIGTERM); nothing was written\n")
        return 143
    sys.stderr.write("cluster-sem: interrupted; nothing was written\n")
    return 130


def _on_sigterm(signum, frame) -> None:
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        if argv is None:     # the process's own command line (not a call from Python)
            try:
                _preload(args.command)
            except (KeyboardInterrupt, _Terminated) as exc:     # stopped while importing: nothing written
                return _stopped(exc)
        return _run(args)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        if argv is None:     # the process's own command line (not a call from Python): it ends now
            _before_exit()


# what a command imports first (numpy, pandas, pydantic, the spec, ...)
_PRELOADED = {"fit": "cluster_sem.api", "pls": "cluster_sem.api", "report": "cluster_sem.api",
              "cmb": "cluster_sem.cmb", "invariance": "cluster_sem.invariance", "power": "cluster_sem.power",
              "simulate": "cluster_sem.simulate"}


def _preload(command: str) -> None:
    """Import the command's heavy modules with the garbage collector off, then ``gc.freeze`` what they built.
    Why: importing numpy, pandas and pydantic creates ~10^5 objects, and the collector's passes over them
    while they are created cost a plain fit ~0.03-0.05 s; frozen, later collections skip them too.  A
    failing import is left to the command, which reports it as usual."""
    name = _PRELOADED.get(command)
    if name is None:
        return
    import gc
    import importlib
    gc.disable()
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - the command imports it again and fails in its usual way
        pass
    finally:
        gc.freeze()
        gc.enable()


def _before_exit() -> None:
    """Exempt every object from the interpreter's final garbage collections (``gc.freeze``).  Why: at exit
    Python collects over all the objects numpy, pandas and pydantic built, which cost a plain fit ~0.1 s
    CPU (more wall on a busy machine) for memory the operating system reclaims anyway.  Files are closed
    and atexit handlers still run; only cyclic garbage is left uncollected."""
    import gc
    gc.freeze()


def _run(args) -> int:
    from .errors import ClusterSemError
    handler = {"validate": cmd_validate, "simulate": cmd_simulate, "fit": cmd_fit, "report": cmd_report,
               "invariance": cmd_invariance, "pls": cmd_pls, "power": cmd_power, "library": cmd_library,
               "new": cmd_new, "cmb": cmd_cmb}[args.command]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = handler(args)
        for w in caught:
            if issubclass(w.category, UserWarning):
                sys.stderr.write(f"warning: {_safe(w.message)}\n")
        return code
    except ClusterSemError as exc:
        problems = getattr(exc, "problems", None)
        if args.command == "validate" and problems and len(problems) > 1:
            for line in problems[:MAX_LISTED]:  # validate lists the problems, one per line
                sys.stderr.write(f"cluster-sem validate: error: {_safe(line)}\n")
            if len(problems) > MAX_LISTED:      # 40 000 unknown keys printed 40 000 lines
                sys.stderr.write(f"cluster-sem validate: error: ... and {len(problems) - MAX_LISTED} more problems "
                                 f"(the first {MAX_LISTED} are listed). Fix: correct these and run validate again\n")
        else:
            sys.stderr.write(f"cluster-sem {args.command}: error: {_safe(exc)}\n")
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        sys.stderr.write(f"cluster-sem {args.command}: error: {_safe(exc.filename)}: {exc.strerror}. "
                         "Fix: check the path\n")
        return 2
    except OSError as exc:    # a name too long for the file system, a full disk, ...: one line, not a traceback
        where = f"{_safe(exc.filename)}: " if exc.filename else ""
        fix = ("use a shorter file or folder name (the file system allows 255 bytes per name)"
               if exc.errno == errno.ENAMETOOLONG else "check the path and the free disk space")
        sys.stderr.write(f"cluster-sem {args.command}: error: {where}{exc.strerror or exc}. Fix: {fix}\n")
        return 2
    except (KeyboardInterrupt, _Terminated) as exc:
        return _stopped(exc)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
