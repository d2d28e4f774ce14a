"""Same seed → identical bootstrap for any jobs / backend; progress output stays off when not wanted."""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.bootstrap import run_bootstrap
from cluster_sem.model.fitted import fit_model

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())
B = 300   # two blocks of 250 + 50, so work is really split


@pytest.fixture(scope="module")
def poldem():
    df = pd.read_csv(REF_DIR / "PoliticalDemocracy.csv")
    return fit_model(REF["poldem_sem"]["model"], df), df


@pytest.fixture(scope="module")
def serial(poldem):
    fit, df = poldem
    return run_bootstrap(fit, df, B=B, seed=99, jobs=1)


def _same(a, b):
    np.testing.assert_array_equal(a.estimates, b.estimates)
    np.testing.assert_array_equal(a.defined_estimates, b.defined_estimates)
    np.testing.assert_array_equal(a.converged, b.converged)
    np.testing.assert_array_equal(a.admissible, b.admissible)
    np.testing.assert_array_equal(a.param_se, b.param_se)
    assert a.defined == b.defined
    assert (a.n_converged, a.n_inadmissible, a.n_fallback) == (b.n_converged, b.n_inadmissible, b.n_fallback)


def test_processes_equal_in_process(poldem, serial):
    fit, df = poldem
    par = run_bootstrap(fit, df, B=B, seed=99, jobs=2)
    assert par.backend == "processes"
    _same(serial, par)


def test_dask_local_cluster_equals_in_process(poldem, serial):
    pytest.importorskip("dask.distributed")
    fit, df = poldem
    res = run_bootstrap(fit, df, B=B, seed=99, jobs=2, scheduler="local-threads")
    assert res.backend == "dask"
    _same(serial, res)


def test_prefix_and_seed(poldem, serial):
    fit, df = poldem
    short = run_bootstrap(fit, df, B=40, seed=99)
    # the same 40 resamples (indices depend on seed and replicate number only), but fitted as a block of 40
    # instead of 250: OpenBLAS may order a sum differently by matrix shape (3.4e-14 seen with 0.3.31), so
    # the estimates agree to rounding, not bit for bit (bit-identity holds for the same blocks: see _same)
    np.testing.assert_array_equal(short.converged, serial.converged[:40])
    np.testing.assert_allclose(short.estimates, serial.estimates[:40], rtol=1e-12, atol=1e-12)
    other = run_bootstrap(fit, df, B=40, seed=100)
    assert not np.array_equal(other.estimates, short.estimates)


def test_quiet_and_non_tty_print_nothing(poldem, capsys):
    fit, df = poldem
    run_bootstrap(fit, df, B=60, seed=1, quiet=False)     # pytest's stderr is not a TTY
    run_bootstrap(fit, df, B=60, seed=1, quiet=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_result_fields(serial):
    r = serial
    assert (r.B, r.seed, r.level) == (B, 99, 0.95)
    assert r.n_converged + r.n_nonconverged == B and r.seconds > 0
    assert {d["name"] for d in r.defined} == {"indirect", "total"}
    for d in r.defined:
        assert set(d) >= {"name", "est", "se", "perc", "bc"}
        assert d["perc"][0] < d["est"] < d["perc"][1]
    with pytest.raises(Exception):
        r.B = 5   # frozen



def test_meanwhile_runs_once_while_workers_fit_and_its_error_stops_them(poldem, serial):
    """``meanwhile`` runs once in this process after the blocks were handed to the worker processes and
    before any result is collected, without changing a number; if it raises, the workers are stopped and
    the error propagates.  In-process it runs once too."""
    import os

    from cluster_sem.bootstrap import parallel
    fit, df = poldem
    calls, collected = [], []
    real_as_completed = parallel.as_completed

    def collecting(futures):
        for fut in real_as_completed(futures):
            collected.append(fut)
            yield fut

    def meanwhile():
        calls.append((os.getpid(), len(collected), len(parallel.mp.active_children())))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parallel, "as_completed", collecting)
        par = run_bootstrap(fit, df, B=B, seed=99, jobs=2, meanwhile=meanwhile)
    assert len(calls) == 1 and len(collected) == 2
    pid, n_collected, n_workers = calls[0]
    assert pid == os.getpid() and n_collected == 0 and n_workers >= 1
    _same(serial, par)
    one = []
    run_bootstrap(fit, df, B=20, seed=99, jobs=1, meanwhile=lambda: one.append(1))
    assert one == [1]

    class Stop(Exception):
        pass

    def fails():
        raise Stop

    stopped = []
    real_stop = parallel._stop_pool

    def recording_stop(pool):
        stopped.extend((pool._processes or {}).values())
        real_stop(pool)

    with pytest.MonkeyPatch.context() as mp, pytest.raises(Stop):
        mp.setattr(parallel, "_stop_pool", recording_stop)
        run_bootstrap(fit, df, B=B, seed=99, jobs=2, meanwhile=fails)
    # The workers were terminated (killed by a signal), not left to finish their blocks and exit with 0.
    # The pool's manager thread may reap a worker before this thread sees its exit code, so wait for it.
    deadline = time.monotonic() + 20
    while any(p.exitcode is None for p in stopped) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stopped and all(p.exitcode in (-signal.SIGTERM, -signal.SIGKILL) for p in stopped), \
        [p.exitcode for p in stopped]
