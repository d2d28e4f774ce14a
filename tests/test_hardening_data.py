"""Issue 14, data that silently changed the numbers: each case is exit 2 naming the problem, or a fix."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cluster_sem.cli import main
from cluster_sem.data import prepare_data
from cluster_sem.errors import DataError
from cluster_sem.simulate.specfile import load_spec_file

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "data_fixtures"
SPEC = load_spec_file(FIX / "mini_spec.yaml")
ZJ_SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
ZJ_DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"


def data_error(path, spec=SPEC) -> str:
    with pytest.raises(DataError) as info:
        prepare_data(spec, path)
    msg = str(info.value)
    assert "\n" not in msg and "Fix:" in msg
    return msg


def test_duplicate_column_header_is_refused_naming_the_column(tmp_path):
    lines = (FIX / "good.csv").read_text().splitlines()
    lines[0] = lines[0].replace("rq1", "ts1")          # two 'ts1' columns, no 'rq1'
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(lines) + "\n")
    msg = data_error(path)
    assert msg.startswith("dup.csv:") and "'ts1'" in msg and "twice" in msg


def test_duplicate_column_header_in_xlsx(tmp_path):
    df = pd.read_csv(FIX / "good.csv")
    df.columns = [c if c != "rq2" else "ts2" for c in df.columns]
    path = tmp_path / "dup.xlsx"
    df.to_excel(path, index=False)
    msg = data_error(path)
    assert "'ts2'" in msg and "twice" in msg


def test_row_with_one_field_more_than_the_header(tmp_path):
    lines = (FIX / "good.csv").read_text().splitlines()
    lines[1] = "1,Hangzhou,2,93,5,6,5,4,5,2,"                # unquoted decimal comma: one field too many
    path = tmp_path / "shift.csv"
    path.write_text("\n".join(lines) + "\n")
    msg = data_error(path)
    assert "row 2 has 11 fields, the header has 10" in msg


def test_trailing_comma_on_every_row_is_read_correctly(tmp_path):
    lines = (FIX / "good.csv").read_text().splitlines()
    path = tmp_path / "trailing.csv"
    path.write_text("\n".join([lines[0]] + [ln + "," for ln in lines[1:]]) + "\n")
    data = prepare_data(SPEC, path)
    ref = prepare_data(SPEC, FIX / "good.csv")
    pd.testing.assert_frame_equal(data.frame, ref.frame)
    assert any("trailing" in line for line in data.log)


def test_xlsx_formulas_without_cached_values_are_named(tmp_path):
    from openpyxl import Workbook
    df = pd.read_csv(FIX / "good.csv")
    wb = Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in row])
    ws["D3"] = "=D2+1"                                   # ts1 of row 3: a formula openpyxl never evaluated
    path = tmp_path / "formulas.xlsx"
    wb.save(path)
    msg = data_error(path)
    assert "formulas.xlsx" in msg and "D3" in msg and "formula" in msg


def _zhejiang_with(tmp_path, edit) -> Path:
    df = pd.read_csv(ZJ_DATA)
    edit(df)
    path = tmp_path / "zj.csv"
    df.to_csv(path, index=False)
    return path


def test_blank_group_cells_do_not_drop_rows_and_numeric_codes_print_as_written(tmp_path):
    def edit(df):
        codes = {name: i + 1 for i, name in enumerate(sorted(df["region"].unique()))}
        df["region"] = df["region"].map(codes).astype(object)
        df.loc[[3, 10, 50], "region"] = None
    path = _zhejiang_with(tmp_path, edit)
    out = tmp_path / "out"
    assert main(["fit", str(ZJ_SPEC), str(path), "--out", str(out), "--quiet"]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["data"]["n_used"] == 128 and doc["data"]["n_dropped"] == 0
    assert set(doc["data"]["groups"]) == {"1", "2", "3", "4", "5"}
    assert sum(doc["data"]["groups"].values()) == 125
    assert any("no group" in line for line in doc["data"]["log"])


def test_results_json_lists_every_dropped_row(tmp_path):
    spec = load_spec_file(ZJ_SPEC)
    df = pd.read_csv(ZJ_DATA)
    big = pd.concat([df] * 3, ignore_index=True)
    big["firm_id"] = range(1, len(big) + 1)
    big.loc[big.index[:250], "TS2"] = None
    from cluster_sem.pipeline import FitOptions, stage_data
    data = stage_data(spec, big, FitOptions())
    assert data.n_dropped == 250 and len(data.dropped) == 250
    import cluster_sem as cs
    res = cs.fit(spec, big, timestamp="T")
    doc = json.loads(res.to_json())
    assert len(doc["data"]["dropped"]) == 250 and doc["data"]["n_dropped"] == 250
