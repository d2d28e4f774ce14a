"""Hardening round 3, an outside QA pass over the command line (issue #26 section 3 re-created, and the same
hostile inputs applied to the newer commands `new`, `library`, `pls`, `cmb`, `fit --cluster/--weights/--docx`).
Each case here once escaped the contract (a traceback, a line without the fix, a message naming the wrong
thing, or a spec the command itself could not read); now it is exit 2 with one line, or correct work."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
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


# --- the newer commands: pls, cmb, report --docx, fit --cluster/--weights -----------------------------------

PLS_SPEC = Path(__file__).resolve().parent / "specs" / "pls_mobi.yaml"
MOBI = Path(__file__).resolve().parent / "reference" / "pls" / "mobi.csv"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e]")


def _pls_spec(tmp_path: Path, replace: dict[str, str] | None = None) -> Path:
    text = PLS_SPEC.read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "pls.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pls_dir(tmp_path_factory) -> Path:
    """A PLS run whose title and a construct label hold a window-title change, clear-screen, a colour, NEL
    and a bidi override."""
    tmp = tmp_path_factory.mktemp("pls")
    spec = _pls_spec(tmp, {'title: {en: "ECSI mobile phone customers (seminr mobi)"}':
                           'title: {en: "ECSI\\e]0;pwned\\a\\e[2J mobile\\u0085"}',
                           "Image: {items": 'Image: {label: {en: "Im\\e[31mage\\u202e"}, items'})
    out = tmp / "out"
    assert main(["pls", str(spec), str(MOBI), "--out", str(out), "--quiet"]) == 0
    return out


def test_pls_reports_strip_control_characters_from_user_text(pls_dir, tmp_path):
    assert main(["report", str(pls_dir), "--lang", "zh", "--out", str(tmp_path)]) == 0
    for path in [pls_dir / "report.md", pls_dir / "report.html", tmp_path / "report.zh.md", tmp_path / "report.zh.html"]:
        text = path.read_text(encoding="utf-8")
        assert not CONTROL.search(text), (path.name, CONTROL.findall(text)[:5])
        assert "Image" in text and "mobile" in text


def test_report_docx_of_a_pls_document_is_one_line_naming_the_option(pls_dir, capsys):
    before = sorted(p.name for p in pls_dir.iterdir())
    assert main(["report", str(pls_dir), "--docx"]) == 2
    _one_line(capsys, "--docx", "cluster-sem pls", "Fix: drop --docx")
    assert sorted(p.name for p in pls_dir.iterdir()) == before


def test_report_docx_of_a_cmb_document_is_refused_not_an_empty_fit_report(tmp_path, capsys):
    """Read as a fit document, a cmb results.json gave a Word file of headings over empty sections."""
    (tmp_path / "spec.yaml").write_text(SPEC + "method_marker: [AF1, AF2, AF3]\n", encoding="utf-8")
    out = tmp_path / "cmb"
    assert main(["cmb", str(tmp_path / "spec.yaml"), str(DATA), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--docx"]) == 2
    _one_line(capsys, "--docx", "cluster-sem cmb", "Fix: drop --docx")
    assert not (out / "report.docx").exists()


@pytest.mark.parametrize("case", ["five-rows", "duplicated-items"])
def test_pls_with_a_singular_item_block_runs_with_null_vifs(tmp_path, case):
    """An item block whose correlation matrix is singular (fewer rows than items, or an item copied into
    another column) ended in a LinAlgError traceback from the outer VIFs."""
    frame = pd.read_csv(MOBI)
    if case == "five-rows":
        frame = frame.head(5)
    else:
        frame["CUSL2"] = frame["CUSL1"]
    frame.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "out"
    assert main(["pls", str(PLS_SPEC), str(tmp_path / "data.csv"), "--out", str(out), "--quiet"]) == 0
    vif = json.loads((out / "results.json").read_text(encoding="utf-8"))["pls"]["vif"]["outer"]
    singular = vif["Quality"] if case == "five-rows" else vif["Loyalty"]     # 7 items on 5 rows; CUSL1 = CUSL2
    assert set(singular.values()) == {None}
    assert all(v is not None and v >= 1 for v in vif["Image"].values()) or case == "five-rows"


@pytest.mark.parametrize("options,fragment", [
    (["--cluster", "NC1"], "--cluster NC1: 'NC1' is an item of the model"),
    (["--weights", "CE"], "--weights CE: 'CE' is a construct of the model"),
    (["--cluster", "firm_age"], "--cluster firm_age: 'firm_age' is a control of the model"),
    (["--cluster", "cl", "--weights", "cl"], "--weights cl: the same column would be the clusters and the sampling"),
], ids=["item", "construct", "control", "cluster-is-weights"])
def test_design_options_naming_a_model_column_are_one_line(tmp_path, capsys, options, fragment):
    """The spec's cluster:/weights: keys had these checks; the options that override them did not (an item
    as --cluster was a KeyError traceback; the cluster column as --weights was refused as zero weights)."""
    frame = pd.read_csv(DATA)
    frame["cl"] = np.arange(len(frame)) % 25
    frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["fit", str(tmp_path / "spec.yaml"), str(tmp_path / "data.csv"), "--out", str(out), *options]) == 2
    _one_line(capsys, fragment)
    assert not out.exists()


def test_validate_lists_at_most_fifty_problems_of_a_spec_of_many_unknown_keys(tmp_path, capsys):
    """A spec under the 1 MB limit holding 40 000 unknown keys printed 40 000 lines (and took ~30 s)."""
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC + "".join(f"k{i}: {i}\n" for i in range(5000)), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 51 and all(ln.startswith("cluster-sem validate: error: ") for ln in err)
    assert "unknown key 'k0'" in err[0]
    assert "... and 4950 more problems (the first 50 are listed). Fix:" in err[-1]


@pytest.mark.parametrize("args, words", [
    (["invariance", str(SPEC), str(DATA), "--release", ""], ["--release", "empty row", "Fix:"]),
    (["invariance", str(SPEC), str(DATA), "--release", "CE=~CE3,,"], ["--release", "empty row", "Fix:"]),
    (["power", str(SPEC), "--n", "100,,200", "--reps", "10"], ["100,,200", "sample sizes"]),
    (["power", str(SPEC), "--n", "100,", "--reps", "10"], ["100,", "sample sizes"]),
])
def test_an_empty_entry_in_a_list_option_is_refused_not_skipped(tmp_path, capsys, args, words):
    """'--release ""' released nothing and '--n 100,,200' dropped the empty size without a word."""
    out = tmp_path / "o"
    try:
        code = main(args + ["--out", str(out)])
    except SystemExit as stop:          # a command-line error, reported by the argument parser
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert all(w in err for w in words), err
    assert not out.exists()
