"""`power` on hostile input: replications that cannot converge, damaged or doctored checkpoints, sizes too
large to draw, signals, schedulers (missing dask, malformed addresses, a listener that is not dask) — each
ends in exit 2 and one line naming the option or file and the fix, with nothing partial written, or in
bounded work.  Runs are tiny (tens of replications of a 10-item model)."""
from __future__ import annotations

import json
import os
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
    monkeypatch.setattr(engine_mod, "fit_chunk", lambda *a, **k: pytest.fail("replications were fitted"))
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


# --- checkpoints -----------------------------------------------------------------------------------------------

SMALL = ["--n", "40,50", "--reps", "20", "--seed", "5", "--quiet"]


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """An --out folder left by a run stopped after its first chunk (n = 40), and the uninterrupted result."""
    base = tmp_path_factory.mktemp("ck")
    whole = base / "whole"
    assert main(["power", str(MM), "--out", str(whole)] + SMALL) == 0
    real = engine_mod.fit_chunk
    calls = {"n": 0}

    def stop_at_second(core, n, start, stop):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(core, n, start, stop)

    engine_mod.fit_chunk = stop_at_second
    try:
        assert main(["power", str(MM), "--out", str(base / "cut")] + SMALL) == 130
    finally:
        engine_mod.fit_chunk = real
    (chunk,) = (base / "cut" / DIRNAME).rglob("*.npz")
    return base / "cut", chunk.relative_to(base / "cut"), (whole / "power.json").read_text(encoding="utf-8")


def _copy(interrupted, tmp_path) -> tuple[Path, Path]:
    """A copy of the interrupted folder as the relative path ``out`` (messages shorten long paths)."""
    src, rel, _ = interrupted
    out = Path("out")
    shutil.copytree(src, out)
    return out, out / rel


def _rewrite(path: Path, change) -> None:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def test_resume_reuses_a_sound_checkpoint(interrupted, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, chunk = _copy(interrupted, tmp_path)
    assert main(["power", str(MM), "--out", str(out), "--resume"] + SMALL) == 0
    assert (out / "power.json").read_text(encoding="utf-8") == interrupted[2]
    assert not (out / DIRNAME).exists()


def _double(a: dict) -> None:
    for k in list(a):
        if a[k].ndim:
            a[k] = np.concatenate([a[k], a[k]])


def _halve(a: dict) -> None:
    for k in list(a):
        if a[k].ndim:
            a[k] = a[k][: len(a[k]) // 2]


DAMAGE = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "npy_bytes": lambda p: np.save(open(p, "wb"), np.arange(3.0)),
    "pickled": lambda p: np.save(open(p, "wb"), np.array([{"x": 1}], dtype=object), allow_pickle=True),
    "float_mask": lambda p: _rewrite(p, lambda a: a.update(converged=a["converged"].astype(float))),
    "doubled": lambda p: _rewrite(p, _double),
    "halved": lambda p: _rewrite(p, _halve),
    "other_settings": lambda p: _rewrite(p, lambda a: a.update(key=np.str_("0123456789abcdef"))),
    "other_chunk": lambda p: _rewrite(p, lambda a: a.update(n=np.int64(50))),
    "missing_array": lambda p: _rewrite(p, lambda a: a.pop("se")),
    "a_directory": lambda p: (p.unlink(), p.mkdir()),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_resume_refuses_a_damaged_checkpoint_in_one_line(interrupted, tmp_path, capsys, monkeypatch, damage):
    monkeypatch.chdir(tmp_path)
    out, chunk = _copy(interrupted, tmp_path)
    DAMAGE[damage](chunk)
    before = sorted(p.name for p in out.rglob("*"))
    assert main(["power", str(MM), "--out", str(out), "--resume"] + SMALL) == 2
    one_line(capsys, chunk.name, "not a usable checkpoint", f"Fix: delete the folder {out / DIRNAME}",
             "without --resume")
    assert sorted(p.name for p in out.rglob("*")) == before and not (out / "power.json").exists()


def test_a_damaged_checkpoint_is_not_read_without_resume(interrupted, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out, chunk = _copy(interrupted, tmp_path)
    DAMAGE["doubled"](chunk)
    assert main(["power", str(MM), "--out", str(out)] + SMALL) == 0
    assert (out / "power.json").read_text(encoding="utf-8") == interrupted[2]


@pytest.mark.parametrize("resume", [[], ["--resume"]])
def test_a_file_named_like_the_checkpoint_folder_is_one_line_before_any_work(tmp_path, capsys, monkeypatch, resume):
    monkeypatch.chdir(tmp_path)
    out = Path("out")
    out.mkdir()
    (out / DIRNAME).write_text("not a folder")
    monkeypatch.setattr(engine_mod, "fit_chunk", lambda *a: pytest.fail("replications were fitted"))
    assert main(["power", str(MM), "--out", str(out)] + SMALL + resume) == 2
    one_line(capsys, str(out / DIRNAME), "is a file", "Fix: delete it")
    assert (out / DIRNAME).read_text() == "not a folder" and sorted(p.name for p in out.iterdir()) == [DIRNAME]


# --- signals ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stop_at, kept", [(1, 0), (2, 1)])
def test_sigterm_message_tells_what_was_kept_and_the_resume_command(interrupted, tmp_path, capsys, monkeypatch,
                                                                     stop_at, kept):
    import shlex

    from cluster_sem import cli as cli_mod
    monkeypatch.chdir(tmp_path)
    real = engine_mod.fit_chunk
    calls = {"n": 0}

    def terminated_at(core, n, start, stop):
        calls["n"] += 1
        if calls["n"] == stop_at:
            raise cli_mod._Terminated()
        return real(core, n, start, stop)

    monkeypatch.setattr(engine_mod, "fit_chunk", terminated_at)
    out = tmp_path / ("a folder with spaces and a long name " + "x" * 90) / "out"   # printed whole, quoted
    assert main(["power", str(MM), "--out", str(out), "--alpha", "0.05"] + SMALL) == 143
    err = one_line(capsys, "terminated (SIGTERM)")
    if not kept:
        assert "nothing was written" in err and not out.exists()
        return
    assert "1 finished chunk(s)" in err and "nothing was written" not in err
    command = shlex.split(err.split("continue with ", 1)[1])
    assert command[:2] == ["cluster-sem", "power"] and command[-1] == "--resume"
    monkeypatch.setattr(engine_mod, "fit_chunk", real)
    assert main(command[1:]) == 0
    assert (out / "power.json").read_text(encoding="utf-8") == interrupted[2]


def test_real_sigterm_keeps_checkpoints_and_names_the_resume_command(tmp_path):
    """A real signal to a real run, sent once its first chunk is on disk (not after a guessed delay)."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "cluster_sem.cli", "power", str(MM), "--n", "50",
                             "--reps", "100000", "--out", str(out), "--quiet"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(out.rglob("*.npz")):
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    saved = len(list(out.rglob("*.npz")))
    assert saved >= 1 and f"{saved} finished chunk(s)" in err and "--resume" in err, err


# --- schedulers ------------------------------------------------------------------------------------------------

def _without_dask(tmp_path: Path, argv: list[str]) -> subprocess.CompletedProcess:
    """The command line in a Python where dask and distributed cannot be imported (the extra not installed)."""
    hide = tmp_path / "hide_dask"
    hide.mkdir(exist_ok=True)
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['dask'] = None\nsys.modules['distributed'] = None\n")
    env = {**os.environ, "PYTHONPATH": f"{hide}{os.pathsep}{ROOT}"}
    return subprocess.run([sys.executable, "-m", "cluster_sem.cli"] + argv, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_scheduler_local_works_without_dask(interrupted, tmp_path):
    run = _without_dask(tmp_path, ["power", str(MM), "--out", "out", "--scheduler", "local", "--jobs", "2"] + SMALL)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "power.json").read_text(encoding="utf-8") == interrupted[2]


@pytest.mark.parametrize("argv", [
    ["power", str(MM), "--out", "out", "--scheduler", "tcp://127.0.0.1:8786"] + SMALL,
    ["power", str(MM), "--out", "out", "--scheduler", "local-threads"] + SMALL,
    ["fit", str(ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"),
     str(ROOT / "data" / "zhejiang_128_synthetic.csv"), "--out", "out", "--bootstrap", "200", "--quiet",
     "--scheduler", "tcp://127.0.0.1:8786"],
], ids=["power-address", "power-local-threads", "fit-address"])
def test_a_dask_scheduler_without_dask_names_the_extra(tmp_path, argv):
    run = _without_dask(tmp_path, argv)
    assert run.returncode == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr, run.stderr
    assert 'pip install "cluster-sem[dask]"' in run.stderr and "--scheduler" in run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["garbage", "", "tcp://", "file:///tmp/sched", "http://127.0.0.1:8786",
                                     "inproc://x", "tcp://127.0.0.1", "tcp://127.0.0.1:99999"])
def test_malformed_scheduler_addresses_are_one_line_before_any_work(tmp_path, capsys, monkeypatch, address):
    pytest.importorskip("distributed")
    monkeypatch.setattr(engine_mod, "build_core", lambda *a, **k: pytest.fail("work started"))
    out = tmp_path / "out"
    assert main(["power", str(MM), "--out", str(out), "--scheduler", address] + SMALL) == 2
    one_line(capsys, "'scheduler' option (--scheduler) of power", "Fix:")
    assert not out.exists()
    import cluster_sem as cs
    with pytest.raises(ClusterSemError, match="'scheduler' option"):
        cs.fit("does-not-exist.yaml", "nor-this.csv", bootstrap=200, scheduler=address)


class _Listener:
    """A TCP listener on 127.0.0.1 that is not a dask scheduler: it sends ``reply`` (or nothing) and holds
    the connection open."""

    def __init__(self, reply: bytes):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.reply = reply
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.reply:
                try:
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        for conn in [*self.conns, self.sock]:
            conn.close()


@pytest.mark.parametrize("reply", [b"\xff" * 64, b"HTTP/1.1 400 Bad Request\r\n\r\n", b""],
                         ids=["garbage", "http", "silent"])
def test_a_listener_that_is_not_dask_is_one_line_within_the_connect_timeout(tmp_path, capsys, monkeypatch, reply):
    pytest.importorskip("distributed")
    from cluster_sem.bootstrap import parallel
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "1s")
    listener = _Listener(reply)
    out = tmp_path / "out"
    try:
        t0 = time.time()
        assert main(["power", str(MM), "--out", str(out), "--scheduler", listener.address] + SMALL) == 2
        elapsed = time.time() - t0
    finally:
        listener.close()
    one_line(capsys, f"--scheduler {listener.address}: cannot connect to a dask scheduler", "Fix:")
    assert elapsed < 15 and not out.exists()


def test_a_real_dask_scheduler_address_passes_the_probe():
    """The probe answers for a dask scheduler at a tcp:// address, and the run equals the serial one."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        doc = run_power(MM, PowerOptions(sizes=(40, 50), reps=20, seed=5, scheduler=cluster.scheduler_address))
    serial = run_power(MM, PowerOptions(sizes=(40, 50), reps=20, seed=5))
    assert doc == serial


def test_ctrl_c_with_a_dask_local_cluster_is_one_line_from_the_parent(tmp_path):
    """Ctrl-C reaches the whole foreground process group — the dask workers too — and only the parent
    may speak.  Sent once the first chunk is on disk."""
    pytest.importorskip("distributed")
    out = tmp_path / "out"

    def interactive_session() -> None:   # its own process group, Ctrl-C not ignored (as from a terminal)
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen([sys.executable, "-m", "cluster_sem.cli", "power", str(MM), "--n", "50", "--reps",
                             "100000", "--out", str(out), "--quiet", "--scheduler", "local", "--jobs", "2"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interactive_session)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(out.rglob("*.npz")):
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "--resume" in err, err


def test_bootstrap_scheduler_local_without_dask_runs_and_says_processes(monkeypatch):
    """The same fallback for `fit --bootstrap`: 'local' without dask is local processes, and says so."""
    import pandas as pd

    from cluster_sem.bootstrap import parallel, run_bootstrap
    from cluster_sem.model.fitted import fit_model
    ref = json.loads((ROOT / "tests" / "reference" / "lavaan_reference.json").read_text())
    df = pd.read_csv(ROOT / "tests" / "reference" / "PoliticalDemocracy.csv")
    fit = fit_model(ref["poldem_sem"]["model"], df)
    monkeypatch.setattr(parallel, "_has_dask", lambda: False)
    local = run_bootstrap(fit, df, B=20, seed=3, jobs=2, scheduler="local")
    assert local.backend == "processes"
    np.testing.assert_array_equal(local.estimates, run_bootstrap(fit, df, B=20, seed=3).estimates)
    with pytest.raises(ClusterSemError, match='pip install "cluster-sem\\[dask\\]"'):
        run_bootstrap(fit, df, B=20, seed=3, scheduler="tcp://127.0.0.1:8786")
