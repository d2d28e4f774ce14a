"""Hardening round 3, spec / data / file cases: each used to be silently wrong, a traceback or an unclear
message; now it is exit 2 with one line naming the file, key or column and the fix (nothing written), or
correct work.  Every test here runs in a few seconds (refusals happen before any model is fitted)."""
from __future__ import annotations

import copy
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem import cli
from cluster_sem.cli import main
from cluster_sem.errors import SpecError

from test_hardening_groups import DATA, ROOT, SPEC   # the three-construct regional spec and its data

ITEMS = [f"{c}{i}" for c in ("NC", "TS", "CE") for i in range(1, 5)]


def _files(tmp_path: Path, spec: str = SPEC, edit=None, name: str = "data.csv") -> tuple[str, str]:
    frame = pd.read_csv(DATA)
    if edit is not None:
        frame = edit(frame)
    (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
    if name.endswith(".csv"):
        frame.to_csv(tmp_path / name, index=False)
    return str(tmp_path / "spec.yaml"), str(tmp_path / name)


def _refused(capsys, argv: list[str], *fragments: str) -> str:
    """exit 2, one stderr line holding every fragment and a fix, no traceback, no --out written."""
    assert main(argv) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1, err
    assert "Fix:" in err[0] and "Traceback" not in err[0], err[0]
    for fragment in fragments:
        assert fragment in err[0], err[0]
    if "--out" in argv:
        assert not Path(argv[argv.index("--out") + 1]).exists()
    return err[0]


def _spec_error(tmp_path: Path, text: str, *fragments: str) -> str:
    from cluster_sem.spec import load_spec
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = "\n".join(str(p) for p in info.value.problems)
    for fragment in fragments:
        assert fragment in message, message
    return message


# -- silently wrong ------------------------------------------------------------------------------------

def test_an_interaction_outcome_listed_twice_is_refused(tmp_path):
    text = SPEC + "interactions:\n  - {name: NCxTS, between: [NC, TS], to: [CE, CE]}\n"
    _spec_error(tmp_path, text, "interactions[0].to[1]", "'CE' is listed twice", "Fix: list each outcome once")


def _workbook(path: Path, active: str, hidden_first: bool = True, data_rows: bool = True) -> None:
    from openpyxl import Workbook
    frame = pd.read_csv(DATA)
    wb = Workbook()
    lookup = wb.active
    lookup.title = "lookup"
    lookup.append(list(frame.columns))               # the same header, different (wrong) rows
    lookup.append([1, "Hangzhou"] + [1] * (frame.shape[1] - 2))
    if hidden_first:
        lookup.sheet_state = "hidden"
    data = wb.create_sheet("survey")
    data.append(list(frame.columns))
    if data_rows:
        for row in frame.itertuples(index=False):
            data.append(list(row))
    wb.active = wb.sheetnames.index(active)
    wb.save(path)


def test_xlsx_reads_the_active_visible_sheet_not_a_hidden_first_one(tmp_path):
    from cluster_sem.data import prepare_data
    from cluster_sem.spec import load_spec
    spec, _ = _files(tmp_path)
    book = tmp_path / "book.xlsx"
    _workbook(book, active="survey")
    data = prepare_data(load_spec(spec), book)
    assert data.n_raw == 128
    assert "sheet 'survey' read (the sheet shown on opening); the workbook also has 'lookup'" in data.log
    ref = prepare_data(load_spec(spec), DATA)
    pd.testing.assert_frame_equal(data.frame, ref.frame, check_dtype=False)


def test_xlsx_with_a_hidden_active_sheet_reads_the_first_visible_one(tmp_path):
    from openpyxl import load_workbook
    from cluster_sem.data.io import read_file
    book = tmp_path / "book.xlsx"
    _workbook(book, active="survey", hidden_first=False)
    wb = load_workbook(book)
    wb.active = 0
    wb["lookup"].sheet_state = "visible"
    wb["survey"].sheet_state = "hidden"
    wb.active = 0
    wb.save(book)
    assert read_file(book).sheet == "lookup"


def test_xlsx_no_data_rows_names_the_sheet_that_holds_them(tmp_path, capsys):
    spec, _ = _files(tmp_path)
    book = tmp_path / "book.xlsx"
    from openpyxl import Workbook
    frame = pd.read_csv(DATA)
    wb = Workbook()
    wb.active.title = "empty"
    wb.active.append(list(frame.columns))
    full = wb.create_sheet("responses")
    full.append(list(frame.columns))
    full.append(list(next(frame.itertuples(index=False))))
    wb.save(book)
    _refused(capsys, ["validate", spec, str(book)], "book.xlsx", "sheet 'empty' has no data rows",
             "sheet 'responses' holds data rows", "click sheet 'responses' and save")


def test_the_reference_group_without_data_is_refused(tmp_path, capsys):
    spec, data = _files(tmp_path, SPEC.replace("group_levels: {north:", "group_levels: {east: [Lishui], north:"))
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out)], "data.csv", "region",
             "reference group 'east'", "no rows", "group_levels")


def test_a_later_group_without_data_is_dropped_with_a_warning(tmp_path):
    from cluster_sem.data import prepare_data
    from cluster_sem.data.groups import analysis_groups
    from cluster_sem.invariance.document import _empty_level_notes
    from cluster_sem.spec import load_spec
    spec_path, data = _files(tmp_path, SPEC.replace("Taizhou]}", "Taizhou], east: [Lishui]}"))
    spec = load_spec(spec_path)
    prepared = prepare_data(spec, data, by_group=True)
    groups = analysis_groups(prepared.frame, "region", spec.group_levels)
    notes = _empty_level_notes(spec, groups, "data.csv")
    assert len(notes) == 1 and "'east'" in notes[0] and "left out" in notes[0]


def test_a_value_listed_twice_in_one_level_is_refused(tmp_path):
    text = SPEC.replace("north: [Hangzhou, Ningbo, Shaoxing]", "north: [Hangzhou, Ningbo, Hangzhou, Shaoxing]")
    _spec_error(tmp_path, text, "group_levels.north", "value 'Hangzhou' is already in this group",
                "list each raw value once")


def test_group_names_in_two_unicode_forms_are_one_group(tmp_path):
    """'Café' composed (é) and decomposed (e + U+0301) print alike: one group, not two of one name."""
    from cluster_sem.data import prepare_data
    from cluster_sem.data.groups import analysis_groups
    from cluster_sem.spec import load_spec
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"

    def edit(f):
        f["region"] = np.where(np.arange(len(f)) % 2 == 0, composed, decomposed)
        f.loc[f.index[::3], "region"] = "Ｎｉｎｇｂｏ"          # full-width, as typed with a Chinese IME
        return f
    text = SPEC.replace("{north: [Hangzhou, Ningbo, Shaoxing], south: [Wenzhou, Taizhou]}",
                        f"{{north: [Ningbo], south: [{decomposed}]}}")
    spec_path, data = _files(tmp_path, text, edit)
    spec = load_spec(spec_path)
    prepared = prepare_data(spec, data, by_group=True)
    groups = analysis_groups(prepared.frame, "region", spec.group_levels)
    assert groups.counts() == {"north": 43, "south": 85}
    assert any("Unicode form" in line for line in prepared.log)
    fit_groups = analysis_groups(prepared.frame, "region")          # without group_levels: values as groups
    assert sorted(fit_groups.names) == sorted([composed, "Ningbo"])
    twice = SPEC.replace("south: [Wenzhou, Taizhou]}", f"south: [Wenzhou, Taizhou], {composed}: [x], "
                                                         f"{decomposed}: [y]}}")
    _spec_error(tmp_path, twice, "the group name is written twice")


@pytest.mark.parametrize("row, fragment", [("TS=~TS1", "marker loading"), ("TS~1", "latent mean of TS"),
                                           ("TS~~TS", "no invariance level constrains it")])
def test_release_of_a_row_no_level_constrains_is_refused(tmp_path, capsys, monkeypatch, row, fragment):
    import cluster_sem.invariance.document as document
    monkeypatch.setattr(document, "prepare_data", lambda *a, **k: pytest.fail("read the data despite --release"))
    spec, data = _files(tmp_path)
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out), "--release", f"TS=~TS2,{row}"],
             f"--release {row}", fragment, "nothing to release")


def test_release_of_constrained_rows_is_accepted():
    from cluster_sem.invariance.document import check_release
    from cluster_sem.spec.syntax import measurement_syntax
    from cluster_sem.spec.loader import parse_spec
    syntax = measurement_syntax(parse_spec(SPEC))
    check_release(syntax, ("TS=~TS2", "TS1~1", "CE3~~CE3", "TS1|t2"), "ML")
    check_release(syntax, ("TS=~TS2",), "WLSMV")


@pytest.mark.parametrize("mapping, fragment", [("{TS1: {1: 2.5}}", "2.5 (1: 2.5) is not a whole answer code"),
                                               ("{all: {1.5: 2}}", "1.5 (1.5: 2) is not a whole answer code")])
def test_non_integer_recode_codes_are_refused(tmp_path, mapping, fragment):
    _spec_error(tmp_path, SPEC + f"ordinal: true\nrecode: {mapping}\n", fragment, "recode.")


# -- raw control bytes in report files ---------------------------------------------------------------------

EVIL = "\x1b]0;pwned\x07\x1b[2J\x1b[31mRegion\x9b1m\x00\u202e"


def _assert_clean(text: str) -> None:
    for bad in ("\x1b", "\x07", "\x9b", "\x00", "\u202e", "pwned"):
        assert bad not in text, repr(bad)


@pytest.fixture(scope="module")
def fit_doc() -> dict:
    import cluster_sem as cs
    spec = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
    return cs.fit(spec, DATA, seed=1, timestamp="T").to_dict()


def test_report_files_strip_control_characters_from_user_text(fit_doc):
    from cluster_sem.render.html import render_html
    from cluster_sem.render.markdown import render_markdown
    d = copy.deepcopy(fit_doc)
    d["meta"]["title"]["en"] = EVIL + " survey\tone"
    d["spec"]["constructs"]["TS"]["label"]["en"] = "Tie\x1b[8m strength\x7f"
    d["data"]["groups"] = {EVIL: 64, "south": 64}
    for text in (render_markdown(d), render_html(d)):
        _assert_clean(text)
        assert "Region" in text and "Tie strength" in text and "survey" in text and "\x7f" not in text


def test_power_files_strip_control_characters():
    from cluster_sem.power import PowerOptions, run_power
    from cluster_sem.render.power import render_power_html, render_power_markdown
    doc = run_power(ROOT / "tests" / "specs" / "mm2002_cfa.yaml", PowerOptions(sizes=(100,), reps=2, seed=1))
    doc = copy.deepcopy(doc)
    doc["labels"]["__title__"] = {"en": EVIL + " power"}
    doc["effects"][0]["name"] = "F1\x1b[2J~x2"
    for text in (render_power_markdown(doc), render_power_html(doc)):
        _assert_clean(text)
        assert "Region" in text


# -- tracebacks --------------------------------------------------------------------------------------------

def _one_item_blank_per_row(f):
    f[ITEMS] = f[ITEMS].astype(float)
    for i in range(len(f)):
        f.loc[i, ITEMS[i % len(ITEMS)]] = np.nan
    return f


def test_fiml_without_a_complete_row_takes_harman_from_em_moments(tmp_path):
    """No row answered every item: Harman's test used to crash on the NaN correlations of zero rows."""
    import cluster_sem as cs
    spec, data = _files(tmp_path, edit=_one_item_blank_per_row)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = cs.fit(spec, data, missing="fiml", seed=1, timestamp="T").to_dict()
    share = doc["common_method"]["harman_first_factor_share"]
    assert share is not None and 0 < share < 1
    assert any("Harman" in w and "EM" in w for w in doc["warnings"])
    assert doc["estimator_choice"]["min_categories"] >= 4   # every answer, not the zero complete rows


def test_harman_uses_complete_rows_when_there_are_enough():
    from cluster_sem.quality import harman_single_factor, harman_test
    frame = pd.read_csv(DATA)[ITEMS].astype(float)
    result, note = harman_test(frame, np.eye(len(ITEMS)))
    assert note is None and result == harman_single_factor(frame)


def test_two_items_never_answered_together_are_named(tmp_path, capsys):
    def edit(f):
        f[ITEMS] = f[ITEMS].astype(float)
        f.loc[:63, "NC1"] = np.nan
        f.loc[64:, "TS1"] = np.nan
        return f
    spec, data = _files(tmp_path, edit=edit)
    out = tmp_path / "out"
    _refused(capsys, ["fit", spec, data, "--out", str(out), "--missing", "fiml"], "data.csv",
             "'NC1' and 'TS1' are never answered in the same row")


# -- unclear or partial ------------------------------------------------------------------------------------

def test_a_megabyte_text_cell_names_its_row_and_column(tmp_path, capsys):
    def edit(f):
        f["comment"] = ""
        f.loc[4, "comment"] = "x" * 1_000_000
        return f
    spec, data = _files(tmp_path, edit=edit)
    line = _refused(capsys, ["validate", spec, data], "data.csv", "row 6, column 'comment'",
                    "1,000,000 characters")
    assert "field larger than field limit" not in line


def test_a_stray_quote_swallowing_the_file_is_named(tmp_path, capsys):
    spec, data = _files(tmp_path)
    lines = Path(data).read_text(encoding="utf-8").splitlines()
    lines = lines + lines[1:] * 40                     # a file long enough to pass the csv module's limit
    fields = lines[3].split(",")
    fields[1] = '"' + fields[1]                        # an opening quote never closed
    lines[3] = ",".join(fields)
    Path(data).write_text("\n".join(lines) + "\n", encoding="utf-8")
    _refused(capsys, ["validate", spec, data], "row 4, column 'region'", "stray quote")


def test_an_all_blank_column_under_fiml_is_called_blank(tmp_path, capsys):
    def edit(f):
        f["TS2"] = np.nan
        return f
    spec, data = _files(tmp_path, edit=edit)
    out = tmp_path / "out"
    line = _refused(capsys, ["fit", spec, data, "--out", str(out), "--missing", "fiml"], "column 'TS2'",
                    "all blank")
    assert "zero variance" not in line


def _emulate_permissions(monkeypatch) -> None:
    """Running as root, the kernel lets unlink work in a read-only folder; emulate the rule every other user
    meets (no entry removed from a folder without its write bit)."""
    if os.geteuid() != 0:
        return
    real_unlink, real_rmdir = os.unlink, os.rmdir

    def guarded(real):
        def call(path, *, dir_fd=None):
            parent = os.stat(dir_fd) if dir_fd is not None else os.stat(os.path.dirname(os.path.abspath(path)))
            if not parent.st_mode & stat.S_IWUSR:
                raise PermissionError(13, "Permission denied", path)
            return real(path, dir_fd=dir_fd)
        return call
    monkeypatch.setattr(os, "unlink", guarded(real_unlink))
    monkeypatch.setattr(os, "rmdir", guarded(real_rmdir))


def test_rerun_into_a_folder_with_a_read_only_subfolder_leaves_nothing_behind(tmp_path, monkeypatch):
    out = tmp_path / "res"
    cli._write_atomically(out, {"results.json": "old", "report.md": "old"})
    notes = out / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("mine")
    notes.chmod(0o555)
    _emulate_permissions(monkeypatch)
    try:
        cli._write_atomically(out, {"results.json": "new", "report.md": "new"})
        assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
        assert (out / "results.json").read_text() == "new" and (out / "notes" / "a.txt").read_text() == "mine"
    finally:
        monkeypatch.undo()
        for p in tmp_path.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)


def test_a_huge_spec_is_refused_at_once(tmp_path, capsys):
    import time
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC + "# " + "x" * 1_100_000 + "\n", encoding="utf-8")
    t0 = time.time()
    _refused(capsys, ["validate", str(spec)], "spec.yaml", "too large", "limit 1 MB")
    assert time.time() - t0 < 2
    from cluster_sem.spec.loader import parse_spec
    with pytest.raises(SpecError, match="too large"):
        parse_spec(SPEC + "#" + "x" * 1_100_000, "text.yaml")


MEASURE = """
import resource, sys, warnings
warnings.simplefilter("ignore")
from cluster_sem.data import validate_data
from cluster_sem.data.estimable import check_estimable
from cluster_sem.spec import load_spec
spec = load_spec(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
check_estimable(spec, validate_data(spec, sys.argv[2]))
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def test_validate_holds_a_large_csv_a_few_times_not_sixteen(tmp_path):
    """`validate` of a large CSV: peak memory above the loaded interpreter, as a multiple of the file size.
    It held the text twice (a str and a StringIO at 4 bytes a character), the file's columns beside their
    float copies, the model frame twice and an n x p copy for the collinearity check: 17x the file (1.87 GB
    for 109 MB); now the pandas parser's peak is the largest term (about 8x)."""
    import subprocess
    import sys
    frame = pd.read_csv(DATA)
    big = pd.concat([frame] * 1500, ignore_index=True)
    big["firm_id"] = np.arange(1, len(big) + 1)
    path = tmp_path / "big.csv"
    big.to_csv(path, index=False)
    spec = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
    out = subprocess.run([sys.executable, "-c", MEASURE, str(spec), str(path)], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    ratio = int(out.stdout.split()[-1]) / path.stat().st_size
    assert ratio < 11, f"peak {ratio:.1f} x the file size"


def test_two_items_never_answered_together_in_one_group_are_named(tmp_path, capsys):
    """Pooled, NC1 and TS1 are answered together (north); in group south never: multigroup FIML estimates
    their covariance per group."""
    south = ["Wenzhou", "Taizhou"]

    def edit(f):
        f[ITEMS] = f[ITEMS].astype(float)
        rows = f.index[f["region"].isin(south)]
        f.loc[rows[::2], "NC1"] = np.nan
        f.loc[rows[1::2], "TS1"] = np.nan
        return f
    spec, data = _files(tmp_path, edit=edit)
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out), "--missing", "fiml"], "data.csv",
             "'NC1' and 'TS1' are never answered in the same row of group 'south' of 'region'")
