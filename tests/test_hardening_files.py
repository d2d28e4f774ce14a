"""Output is transactional, --out paths are checked up front, signals stop the bootstrap pool promptly,
and an unreachable scheduler is one line, not a 30 s traceback."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cluster_sem import cli
from cluster_sem.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"


def one_line_error(capsys, fragment: str) -> None:
    err = capsys.readouterr().err
    assert fragment in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("kind", ["empty", "file", "below_file"])
def test_bad_out_paths_exit_2_before_fitting(tmp_path, capsys, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    out = {"empty": "", "file": str(a_file), "below_file": str(a_file / "results")}[kind]
    import cluster_sem.api
    monkeypatch.setattr(cluster_sem.api, "fit", lambda *a, **k: pytest.fail("fitted despite a bad --out"))
    assert main(["fit", str(SPEC), str(DATA), "--out", out]) == 2
    one_line_error(capsys, "--out")
    assert a_file.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("kind", ["empty", "dir", "below_file"])
def test_simulate_bad_out_paths_exit_2(tmp_path, capsys, kind):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    out = {"empty": "", "dir": str(tmp_path), "below_file": str(a_file / "sim.csv")}[kind]
    assert main(["simulate", str(SPEC), "--n", "10", "--seed", "1", "--out", out]) == 2
    one_line_error(capsys, "--out")


def test_output_swapped_in_whole_or_not_at_all(tmp_path, monkeypatch):
    out = tmp_path / "res"
    out.mkdir()
    (out / "results.json").write_text("old json")
    (out / "report.html").write_text("old html")
    (out / "report.md").write_text("old md")
    (out / "my_notes.txt").write_text("mine")
    real_write = Path.write_text

    def failing(self, text, *a, **k):
        if self.name == "report.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real_write(self, text, *a, **k)
    monkeypatch.setattr(Path, "write_text", failing)
    with pytest.raises(PermissionError):
        cli._write_atomically(out, {"results.json": "new", "report.html": "new", "report.md": "new"})
    monkeypatch.undo()
    assert (out / "results.json").read_text() == "old json" and (out / "report.html").read_text() == "old html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]          # no temp folder left behind
    cli._write_atomically(out, {"results.json": "new", "report.html": "new", "report.md": "new"})
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "results.json": "new", "report.html": "new", "report.md": "new", "my_notes.txt": "mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def _signals(pid: int, field: str) -> int:
    """The kernel's mask of signals a process ignores (SigIgn) or catches (SigCgt), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1], 16)
    raise LookupError(field)


def _pool_busy(parent, workers) -> bool:
    """The state a signal to a running bootstrap is about, not a guess of when it is reached under load:
    the parent catches SIGINT and SIGTERM (its handlers are installed), every worker has run its
    initializer (SIGINT ignored: the parent alone answers Ctrl-C) and has been fitting blocks for a while
    (so the parent has handed all blocks out and waits for results)."""
    bit = lambda sig: 1 << (sig - 1)   # noqa: E731
    try:
        if _signals(parent.pid, "SigCgt") & (bit(signal.SIGINT) | bit(signal.SIGTERM)) != \
                bit(signal.SIGINT) | bit(signal.SIGTERM):
            return False
        return all(_signals(w.pid, "SigIgn") & bit(signal.SIGINT) and w.cpu_times().user > 0.3 for w in workers)
    except (OSError, LookupError):    # a worker not (or no longer) there
        return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads signal masks from /proc (Linux)")
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_bootstrap_workers_promptly(tmp_path, sig, code):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "cluster_sem.cli", "fit", str(SPEC), str(DATA), "--out",
                             str(out), "--bootstrap", "100000", "--jobs", "2", "--quiet"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # as from an interactive shell: a suite run in the background inherits SIGINT ignored,
                            # and a process started that way rightly keeps ignoring Ctrl-C
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    parent = psutil.Process(proc.pid)
    workers = []
    try:
        deadline = time.time() + 300
        while time.time() < deadline and len(workers) < 2:
            time.sleep(0.3)
            assert proc.poll() is None, proc.stderr.read()
            workers = parent.children(recursive=True)
        assert len(workers) >= 2, "the bootstrap pool never started"
        while time.time() < deadline and not _pool_busy(parent, workers):
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.2)
        assert _pool_busy(parent, workers), "the bootstrap workers never started fitting"
        t0 = time.time()
        proc.send_signal(sig)
        proc.wait(timeout=20)
        elapsed = time.time() - t0
        _, gone_alive = psutil.wait_procs(workers, timeout=5)
    finally:   # a failing run must not leave a 100 000-resample bootstrap behind
        for p in [*workers, parent]:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
    assert proc.returncode == code, proc.stderr.read()
    assert elapsed < 10
    assert not gone_alive, "bootstrap workers survived the signal"
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name != "out"]


def test_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    from cluster_sem.bootstrap import parallel
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")   # the message is the point here, not the wait
    out = tmp_path / "out"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--bootstrap", "200",
                 "--scheduler", "tcp://127.0.0.1:9", "--quiet"]) == 2
    one_line_error(capsys, "--scheduler")
    assert not out.exists()


def test_unreachable_scheduler_gives_up_after_the_connect_timeout(monkeypatch):
    """The connection attempt alone (dask's default retries for 30 s): bounded by CONNECT_TIMEOUT (10 s;
    set to 2 s here, so that a client ignoring it — 30 s — fails the bound below without a 10 s wait)."""
    pytest.importorskip("dask.distributed")
    from cluster_sem.bootstrap import parallel
    from cluster_sem.errors import ClusterSemError
    assert parallel.CONNECT_TIMEOUT == "10s"
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "2s")
    t0 = time.time()
    with pytest.raises(ClusterSemError, match="cannot connect.*2s"):
        parallel._run_dask(parallel.fit_block, None, [(200, 1, 0)], 1, "tcp://127.0.0.1:9", lambda r: None)
    assert time.time() - t0 < 15
