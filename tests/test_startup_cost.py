"""Start-up cost of a plain ``cluster-sem fit`` process: what it loads, how BLAS starts, and the forked
report renderer (``render/forked.py``), which must give the very bytes rendering in-process gives."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "benchmarks" / "specs" / "mediation20.yaml"
STAMP = "2026-01-02T03:04:05+00:00"


def _python(code: str, env: dict | None = None) -> str:
    """stdout of a fresh interpreter running ``code`` with this checkout importable."""
    environ = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    environ.update({"PYTHONPATH": str(ROOT)} | (env or {}))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


BLAS_THREADS = ("from threadpoolctl import threadpool_info; "
                "print(max((i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'), default=1))")


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from mediation_demo import simulate_mediation
    path = tmp_path_factory.mktemp("startup") / "mediation20.csv"
    simulate_mediation(n=128, seed=20260).to_csv(path, index=False)
    return path


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS has one thread anyway")
def test_the_command_line_starts_blas_with_one_thread():
    """Its spinning worker threads cost a plain fit ~0.07 s CPU; ``many_rows`` still gets every core, and a
    thread count the user set wins."""
    assert _python("import cluster_sem.cli, numpy; " + BLAS_THREADS) == "1"
    lifted = _python("import cluster_sem.cli, numpy\nfrom cluster_sem.blas import many_rows\n"
                     "with many_rows(10**6, 100):\n    " + BLAS_THREADS)
    assert lifted == str(os.cpu_count())
    assert _python("import cluster_sem.cli, numpy; " + BLAS_THREADS, {"OPENBLAS_NUM_THREADS": "2"}) == "2"


def test_a_fit_without_reports_loads_neither_the_document_reader_nor_jinja2(data_csv):
    """The forked renderer only saves time if the fitting process itself never needs the report stack."""
    loaded = _python(
        "import sys\nfrom cluster_sem import api\nfrom cluster_sem.results.results import schema_check_elsewhere\n"
        "with schema_check_elsewhere():\n"
        f"    r = api.fit({str(SPEC)!r}, {str(data_csv)!r}, meanwhile=None)\nr.to_json(); r.warnings\n"
        "print(sorted(m for m in ('cluster_sem.results.document', 'jinja2', 'cluster_sem.render.html') "
        "if m in sys.modules))")
    assert loaded == "[]"


def _in_fresh_process(data_csv: Path, body: str) -> str:
    """Run ``body`` in a fresh interpreter after ``fitted = api.fit(...)`` of the benchmark model: the
    renderer forks only in a process without other threads (``ReportProcess.start``), and a test worker may
    hold threads other tests left behind (a progress monitor, an executor)."""
    head = ("import sys\nfrom cluster_sem import api\n"
            f"fitted = api.fit({str(SPEC)!r}, {str(data_csv)!r}, timestamp={STAMP!r})\n")
    return _python(head + body)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the renderer forks on Linux only")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_forked_reports_are_the_in_process_reports(data_csv, lang):
    assert _in_fresh_process(data_csv, f"""
from cluster_sem.cli import _load_report_templates
from cluster_sem.render.forked import ReportProcess
child = ReportProcess.start(_load_report_templates, lang={lang!r}, summary=True)
assert child is not None
try:
    out = child.reports(fitted.to_json())
finally:
    child.close()
assert out == {{"report.html": fitted.to_html(lang={lang!r}), "report.md": fitted.to_markdown(lang={lang!r}),
               "summary": fitted.summary(lang={lang!r})}}
print("same")
""") == "same"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the renderer forks on Linux only")
def test_a_failing_child_means_rendering_here(data_csv):
    assert _in_fresh_process(data_csv, """
from cluster_sem.render.forked import ReportProcess

def broken() -> None:
    raise RuntimeError("templates missing")

child = ReportProcess.start(broken, lang="en", summary=False)
assert child.reports(fitted.to_json()) is None
child.close()                    # nothing left to end: no error
unused = ReportProcess.start(lambda: None, lang="en", summary=False)
unused.close()                   # the fit failed: the waiting child is ended, not left behind
print("fell back")
""") == "fell back"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the renderer forks on Linux only")
def test_the_writer_schema_check_runs_in_the_child_or_here(data_csv, tmp_path):
    """With the reports forked, the writer's schema check (results.schema.check_written) runs in the child:
    a drifted document is refused before anything is written, and so it is when the child does not answer."""
    out = tmp_path / "out"
    assert _in_fresh_process(data_csv, f"""
from types import SimpleNamespace
from cluster_sem.cli import _load_report_templates, _write_results
from cluster_sem.render.forked import ReportProcess
from cluster_sem.results.results import Results
from cluster_sem.results.schema import SchemaDrift
doc = fitted.to_dict()
doc["measurement_model"]["parameters"][0]["est"] = "high"          # a writer gone wrong
drifted = Results.from_document(doc, check=False)
child = ReportProcess.start(_load_report_templates, lang="en", summary=False)
answer = child.reports(drifted.to_json())                             # the child checked, and said so
child.close()
assert list(answer) == ["schema_drift"] and "parameters[0].est" in answer["schema_drift"], answer
args = SimpleNamespace(out={str(out)!r}, lang="en", quiet=True, docx=False)
for prepare in (_load_report_templates, lambda: 1 / 0):              # child answers / child fails
    child = ReportProcess.start(prepare, lang="en", summary=False)
    assert child is not None
    try:
        _write_results(drifted, args, child)
        raise SystemExit("written")
    except SchemaDrift as drift:
        assert "measurement_model.parameters[0].est" in str(drift), drift
    finally:
        child.close()
print("refused")
""") == "refused"
    assert not out.exists()


def test_the_fit_process_writes_the_same_reports_and_summary(data_csv, tmp_path):
    """Whole processes: the summary printed and the reports written come from the child; `cluster-sem
    report` re-renders them from results.json alone, byte for byte."""
    out = tmp_path / "fit"
    done = subprocess.run([sys.executable, "-m", "cluster_sem.cli", "fit", str(SPEC), str(data_csv),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    from cluster_sem.api import load_results
    results = load_results(out / "results.json")
    assert results.summary() in done.stdout
    assert (out / "report.html").read_text(encoding="utf-8") == results.to_html()
    assert (out / "report.md").read_text(encoding="utf-8") == results.to_markdown()
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["meta"]["versions"]["numpy"]


def test_only_the_process_command_line_freezes_the_garbage_collector(data_csv, tmp_path):
    """``gc.freeze`` after the imports and before exit saves a process ~0.1 s CPU, but a Python caller of
    ``main([...])`` (a test suite, a notebook) must keep collecting: nothing is frozen, the collector stays on."""
    import gc
    from cluster_sem.cli import main
    frozen = gc.get_freeze_count()
    assert main(["fit", str(SPEC), str(data_csv), "--out", str(tmp_path / "f"), "--quiet"]) == 0
    assert gc.get_freeze_count() == frozen and gc.isenabled()
    after = _python("import gc, sys\nfrom cluster_sem import cli\nsys.argv = ['cluster-sem', 'fit']\n"
                    "cli._preload('fit')\nprint(gc.isenabled(), gc.get_freeze_count() > 10000, "
                    "'pandas' in sys.modules)")
    assert after == "True True True"


def test_monte_carlo_beside_the_quality_stage_fails_as_it_did_in_sequence():
    """Without a bootstrap the Monte Carlo CIs run in a thread beside the quality stage; their error still
    comes first (they ran first), and both run to the end otherwise."""
    from cluster_sem.pipeline import _beside
    ran = []

    def draws() -> None:
        raise ValueError("Monte Carlo CIs need the covariance matrix of the estimates")

    def quality() -> None:
        ran.append("quality")
        raise KeyError("reliability")

    with pytest.raises(ValueError, match="Monte Carlo"):
        _beside(draws, quality)
    assert ran == ["quality"]
    _beside(lambda: ran.append("draws"), lambda: ran.append("quality"))
    _beside(lambda: ran.append("alone"), None)
    assert sorted(ran[1:3]) == ["draws", "quality"] and ran[3] == "alone"


def test_ctrl_c_or_sigterm_while_the_command_line_imports_is_one_line(monkeypatch, capsys):
    """The heavy imports (``cli._preload``) run inside main's Ctrl-C/SIGTERM handling: a stop there ends
    with the one line and the shell's code (it was a traceback through importlib, or a silent SIGTERM death)."""
    from cluster_sem import cli
    monkeypatch.setattr(sys, "argv", ["cluster-sem", "fit", str(SPEC), "data.csv", "--out", "x"])
    for exc, code, says in ((KeyboardInterrupt(), 130, "interrupted"), (cli._Terminated(), 143, "SIGTERM")):
        def stop(command: str, exc=exc) -> None:
            raise exc
        monkeypatch.setattr(cli, "_preload", stop)
        assert cli.main() == code
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and "nothing was written" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the renderer forks on Linux only")
def test_the_fork_holds_ctrl_c_back_and_restores_the_signal_mask(data_csv):
    """Ctrl-C and SIGTERM are blocked across ``os.fork`` (a KeyboardInterrupt inside fork's at-fork handlers
    is printed and ignored, so the run went on), and the parent's mask is as before afterwards."""
    assert _in_fresh_process(data_csv, """
import signal
from cluster_sem.render.forked import ReportProcess
seen = []
real_fork = __import__("os").fork
def fork():
    seen.append(signal.pthread_sigmask(signal.SIG_BLOCK, []))
    return real_fork()
__import__("os").fork = fork
before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
child = ReportProcess.start(lambda: None, lang="en", summary=False)
after = signal.pthread_sigmask(signal.SIG_BLOCK, [])
child.close()
assert {signal.SIGINT, signal.SIGTERM} <= seen[0] and before == after, (seen, before, after)
print("held")
""") == "held"
