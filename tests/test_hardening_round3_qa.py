"""Hardening round 3, an outside QA pass over the command line (issue #26 section 3 re-created, and the same
hostile inputs applied to the newer commands `new`, `library`, `pls`, `cmb`, `fit --cluster/--weights/--docx`).
Each case here once escaped the contract (a traceback, a line without the fix, a message naming the wrong
thing, or a spec the command itself could not read); now it is exit 2 with one line, or correct work."""
from __future__ import annotations

from pathlib import Path

import pytest

from cluster_sem.cli import main
from cluster_sem.spec import load_spec

from test_hardening_groups import DATA, SPEC   # the three-construct regional spec and its data

MM = Path(__file__).resolve().parent / "specs" / "mm2002_cfa.yaml"
LONG = "x" * 300            # one path component over the 255 bytes Linux file systems allow


def _one_line(capsys, *fragments: str) -> str:
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert "Fix:" in err[0], err[0]
    for fragment in fragments:
        assert fragment in err[0], err[0]
    return err[0]


def _exit(argv: list[str]) -> int:
    """Exit code of the command line, argparse's own errors (SystemExit 2) included."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


@pytest.mark.parametrize("row", ["CE=~CE9", "garbage"])
def test_release_of_an_unknown_row_names_the_option_not_the_data_file(tmp_path, capsys, row):
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["invariance", str(tmp_path / "spec.yaml"), str(DATA), "--out", str(out), "--release", row]) == 2
    line = _one_line(capsys, f"--release {row}: not a parameter of the model", "CE=~CE2")
    assert DATA.name not in line and not out.exists()


@pytest.mark.parametrize("argv", [
    ["validate", LONG + ".yaml"],
    ["validate", str(MM), LONG + ".csv"],
    ["simulate", str(MM), "--n", "50", "--seed", "1", "--out", LONG + ".csv"],
    ["report", LONG],
    ["new", LONG + ".yaml", "--from", "TS,RQ", "--paths", "TS -> RQ"],
], ids=["validate-spec", "validate-data", "simulate-out", "report-dir", "new-spec"])
def test_a_file_name_too_long_for_the_file_system_is_one_line(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    assert _exit(argv) == 2
    _one_line(capsys, "File name too long", "Fix: use a shorter file or folder name")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["s\x1b[2J.yaml", "a\nb.yaml", "c\x85d.yaml", "e\u2028f.yaml"],
                         ids=["esc", "newline", "nel", "line-separator"])
def test_new_with_control_characters_in_the_file_name_writes_a_spec_it_can_read(tmp_path, monkeypatch, name):
    """The command line is copied into the spec's header comment: a raw newline or escape there ended the
    comment, and the spec failed its own parse with a YAML error about a file the user never wrote."""
    monkeypatch.chdir(tmp_path)
    assert main(["new", name, "--from", "TS,RQ", "--paths", "TS -> RQ"]) == 0
    text = (tmp_path / name).read_text(encoding="utf-8")
    (command,) = [ln for ln in text.splitlines() if ln.startswith("# Command:")]
    assert command.endswith('--from TS,RQ --paths "TS -> RQ"') and "\x1b" not in command
    assert load_spec(tmp_path / name).constructs


@pytest.mark.parametrize("argv", [
    ["library", "show", "TS", "--lang", "xx"],
    ["power", str(MM), "--n", "100", "--reps", "2.5", "--out", "o"],
    ["fit", str(MM)],
], ids=["invalid-choice", "bad-number", "missing-argument"])
def test_command_line_syntax_errors_name_the_fix(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    assert _exit(argv) == 2
    _one_line(capsys, "Fix: correct the command line", "--help")
    assert list(tmp_path.iterdir()) == []
