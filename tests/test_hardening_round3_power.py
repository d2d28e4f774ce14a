"""`power` on hostile input: replications that cannot converge, damaged or doctored checkpoints, sizes too
large to draw, signals, schedulers (missing dask, malformed addresses, a listener that is not dask) — each
ends in exit 2 and one line naming the option or file and the fix, with nothing partial written, or in
bounded work.  Runs are tiny (tens of replications of a 10-item model)."""
from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from cluster_sem.cli import main
from cluster_sem.errors import ClusterSemError, SpecError
from cluster_sem.power import PowerOptions, run_power
from cluster_sem.power import engine as engine_mod
from cluster_sem.power.checkpoint import DIRNAME

ROOT = Path(__file__).resolve().parents[1]
MM = ROOT / "tests" / "specs" / "mm2002_cfa.yaml"


def one_line(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def cli(argv: list[str]) -> int:
    """Exit code of the command line, argparse's own errors (SystemExit 2) included."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def spec_with(tmp_path: Path, extra: str, name: str = "spec.yaml") -> Path:
    """The Muthén & Muthén CFA spec with ``extra`` lines appended to its population section."""
    path = tmp_path / name
    path.write_text(MM.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


# --- replications that cannot converge -------------------------------------------------------------------

def test_listwise_rows_too_few_for_any_replication_is_exit_2_before_any_work(tmp_path, capsys, monkeypatch):
    spec = spec_with(tmp_path, "  missing_rate: 0.95\n")
    monkeypatch.setattr(engine_mod, "run_tasks" if hasattr(engine_mod, "run_tasks") else "fit_chunk",
                        lambda *a, **k: pytest.fail("replications were fitted"))
    out = tmp_path / "out"
    assert main(["power", str(spec), "--n", "2", "--reps", "10", "--out", str(out), "--quiet"]) == 2
    one_line(capsys, "--n 2", "missing_rate 0.95", "listwise", "Fix:", "--missing fiml")
    assert not out.exists()


def test_a_size_where_nothing_converges_is_exit_2_and_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["power", str(MM), "--n", "2,60", "--reps", "10", "--out", str(out), "--quiet"]) == 2
    one_line(capsys, "--n 2:", "none of the 10 replications converged", "Fix:")
    assert not out.exists()          # not even the checkpoints of n = 60


# --- sizes: declared bounds, checked before any work ---------------------------------------------------------

@pytest.mark.parametrize("argv, fragment", [
    (["--n", "1e9"], "Got 1000000000 instead"),
    (["--n", "1000000000"], "'n' option (--n) of power must be an integer in [2, 100000]"),
    (["--n", "1" + "0" * 39], "'n' option (--n) of power"),
    (["--n", "100,1000000000"], "Got 1000000000 instead"),
    (["--n", "50", "--reps", "1e12"], "'reps' option (--reps)"),
    (["--n", "50", "--reps", "1e400"], "--reps: '1e400' is not a whole number"),
    (["--n", "50", "--reps", "1000000000"], "'reps' option (--reps) of power must be an integer in [2, 100000]"),
    (["--n", "50", "--reps", "1000000000000"], "'reps' option (--reps)"),
])
def test_power_sizes_are_bounded_before_any_work(tmp_path, capsys, monkeypatch, argv, fragment):
    monkeypatch.setattr(engine_mod, "build_core", lambda *a, **k: pytest.fail("work started"))
    out = tmp_path / "out"
    assert cli(["power", str(MM), "--out", str(out), "--quiet"] + argv) == 2
    one_line(capsys, fragment)
    assert not out.exists()


def test_power_bounds_are_rows_of_the_option_table():
    from cluster_sem.options import MAX_POWER_N, MAX_POWER_REPS, POWER_OPTIONS, check_options
    check_options("power", {"n": MAX_POWER_N, "reps": MAX_POWER_REPS}, POWER_OPTIONS)
    with pytest.raises(ClusterSemError, match="Fix:"):
        check_options("power", {"reps": MAX_POWER_REPS + 1}, POWER_OPTIONS)
    with pytest.raises(ClusterSemError):
        run_power(MM, PowerOptions(sizes=(MAX_POWER_N + 1,), reps=10))


# --- population keys -------------------------------------------------------------------------------------------

def _three_outcomes(residual_correlations: list[dict]):
    from cluster_sem.spec.schema import Spec
    items = {k: {"items": [f"{k.lower()}{i}" for i in (1, 2, 3)]} for k in ("X", "A", "B", "C")}
    return Spec.model_validate({
        "spec_version": 1, "scale": {"min": 1, "max": 5}, "constructs": items,
        "population": {"loadings": {f"{k.lower()}{i}": 0.8 for k in items for i in (1, 2, 3)},
                       "paths": {"A": {"X": 0.3}, "B": {"X": 0.3}, "C": {"X": 0.3}},
                       "residual_correlations": residual_correlations}})


@pytest.mark.parametrize("names", [("A", "B", "C"), ("a1", "a2", "a3")])
def test_non_positive_definite_residual_correlations_name_their_key(names):
    """r(1,2) = r(1,3) = .95 and r(2,3) = −.95 cannot occur together, between outcomes' disturbances or
    between items' residuals; the key at fault is residual_correlations, not correlations."""
    from cluster_sem.simulate import build_population
    a, b, c = names
    spec = _three_outcomes([{"between": [a, b], "r": 0.95}, {"between": [a, c], "r": 0.95},
                            {"between": [b, c], "r": -0.95}])
    with pytest.raises(SpecError) as info:
        build_population(spec)
    text = str(info.value)
    assert "key 'population.residual_correlations'" in text and "not positive definite" in text, text
