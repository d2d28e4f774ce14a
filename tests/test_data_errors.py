"""Bad data files: every problem is one DataError line naming file, column, rows and the fix."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cluster_sem.data import prepare_data, read_table, validate_data
from cluster_sem.errors import DataError
from cluster_sem.simulate.specfile import load_spec_file

FIX = Path(__file__).parent / "data_fixtures"
SPEC = load_spec_file(FIX / "mini_spec.yaml")


def good() -> pd.DataFrame:
    return pd.read_csv(FIX / "good.csv")


def write(tmp_path: Path, df: pd.DataFrame, name: str = "survey.csv") -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def error_of(path, spec=SPEC, **kw) -> str:
    with pytest.raises(DataError) as info:
        prepare_data(spec, path, **kw)
    msg = str(info.value)
    assert "\n" not in msg, "a DataError must be one line"
    assert "Fix:" in msg
    return msg


def test_out_of_range_value_names_file_column_rows_and_scale(tmp_path):
    df = good()
    df.loc[[2, 4], "rq2"] = [8, 0]       # data rows 3 and 5 -> spreadsheet rows 4 and 6
    msg = error_of(write(tmp_path, df, "wave1.csv"))
    assert msg.startswith("wave1.csv: column 'rq2':")
    assert "outside the scale 1-7" in msg
    assert "rows 4, 6" in msg and "row 1 = header" in msg
    assert "8" in msg and "missing_codes" in msg


def test_out_of_range_in_several_columns_lists_the_others(tmp_path):
    df = good()
    df.loc[0, "ts1"] = 9
    df.loc[1, "rq1"] = 12
    msg = error_of(write(tmp_path, df))
    assert "column 'ts1'" in msg and "also in 'rq1'" in msg


def test_text_in_item_column(tmp_path):
    df = good().astype({"ts2": object})
    df.loc[1, "ts2"] = "agree"
    df.loc[3, "ts2"] = "n/a?"
    msg = error_of(write(tmp_path, df, "text.csv"))
    assert msg.startswith("text.csv: column 'ts2':")
    assert "row 3 'agree'" in msg and "row 5 'n/a?'" in msg
    assert "rows 3, 5" in msg
    assert "as numbers" in msg


def test_missing_column_suggests_close_match(tmp_path):
    df = good().rename(columns={"ts3": "TS3"})
    msg = error_of(write(tmp_path, df, "renamed.csv"))
    assert msg.startswith("renamed.csv: column 'ts3': required by the spec (an item of TS)")
    assert "closest column: 'TS3'" in msg
    assert "rename column 'TS3' to 'ts3'" in msg


def test_several_missing_columns_are_all_named(tmp_path):
    df = good().drop(columns=["firm_age", "rq1"]).rename(columns={"region": "regoin"})
    msg = error_of(write(tmp_path, df))
    assert "column 'region'" in msg and "closest column: 'regoin'" in msg
    assert "also missing: 'firm_age', 'rq1'" in msg


def test_duplicate_ids_listed_with_rows(tmp_path):
    df = good()
    df.loc[[1, 4], "firm_id"] = [1, 3]
    msg = error_of(write(tmp_path, df, "dups.csv"))
    assert msg.startswith("dups.csv: column 'firm_id': 2 duplicate ids")
    assert "1 (rows 2, 3)" in msg and "3 (rows 4, 6)" in msg
    assert "own id" in msg


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    msg = error_of(path)
    assert msg.startswith("empty.csv: the file is empty")


def test_header_only_file(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(",".join(good().columns) + "\n")
    msg = error_of(path)
    assert msg.startswith("header.csv: no data rows")


def test_unknown_extension(tmp_path):
    path = tmp_path / "survey.json"
    path.write_text("{}")
    msg = error_of(path)
    assert msg.startswith("survey.json: unknown file type '.json'")
    assert ".csv" in msg and ".xlsx" in msg and ".sav" in msg


def test_file_not_found(tmp_path):
    msg = error_of(tmp_path / "nope.csv")
    assert msg.startswith("nope.csv: file not found")


def test_ragged_csv_is_reported(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("firm_id,ts1\n1,2\n2,3,4,5\n")
    with pytest.raises(DataError, match=r"^ragged\.csv: not a well-formed CSV"):
        read_table(path)


def test_corrupt_xlsx(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match=r"^broken\.xlsx: cannot be read as \.xlsx"):
        read_table(path)


def test_sav_user_missing_values_are_honoured(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    df = good().drop(columns=["note", "region"])
    df["region"] = [1.0, 2.0, 1.0, 3.0, 2.0, 3.0]
    df = df.astype(float)
    df.loc[2, "ts1"] = 9          # SPSS user-missing code 9: outside 1-7, an error if it were read as a value
    df.loc[4, "rq2"] = 8          # user-missing range 8..9 on rq2
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(df, str(path), missing_ranges={"ts1": [9], "rq2": [{"lo": 8, "hi": 9}]},
                         variable_value_labels={"region": {1.0: "Hangzhou", 2.0: "Ningbo", 3.0: "Wenzhou"}})
    with pytest.warns(Warning, match="2 of 6 rows dropped"):
        data = prepare_data(SPEC, path)
    assert data.n_raw == 6 and data.n_used == 4
    assert data.dropped == [(3, "missing ts1"), (5, "missing rq2")]   # cases counted from 1
    assert any("2 SPSS user-missing values in 2 columns set to missing" in line for line in data.log)
    assert data.value_labels["region"][1.0] == "Hangzhou"
    assert data.frame["region"].tolist() == [1.0, 2.0, 3.0, 3.0]    # numeric codes kept


def test_sav_out_of_range_uses_case_numbers(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    df = good().drop(columns=["note"])
    df.loc[1, "ts1"] = 9
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(df, str(path))
    msg = error_of(path)
    assert msg.startswith("survey.sav: column 'ts1':") and "row 2; cases counted from 1" in msg


def test_xlsx_reads_like_csv(tmp_path):
    df = good()
    path = tmp_path / "survey.xlsx"
    df.to_excel(path, index=False)
    from_xlsx = prepare_data(SPEC, path)
    from_csv = prepare_data(SPEC, FIX / "good.csv")
    pd.testing.assert_frame_equal(from_xlsx.frame, from_csv.frame)
    assert from_xlsx.source == "survey.xlsx"


def test_xlsx_error_rows_match_spreadsheet_rows(tmp_path):
    df = good()
    df.loc[3, "rq1"] = 70                  # 4th data row = spreadsheet row 5
    path = tmp_path / "survey.xlsx"
    df.to_excel(path, index=False)
    msg = error_of(path)
    assert "column 'rq1'" in msg and "row 5; row 1 = header" in msg


def test_reverse_recode_is_min_plus_max_minus_v():
    data = prepare_data(SPEC, FIX / "good.csv")
    raw = good()
    assert data.frame["rq3"].tolist() == (8 - raw["rq3"]).astype(float).tolist()
    assert data.frame["rq2"].tolist() == raw["rq2"].astype(float).tolist()
    assert "reverse-keyed rq3 recoded as 8 \u2212 v" in data.log


def test_listwise_drop_is_logged_with_rows_and_reasons(tmp_path):
    df = good()
    df.loc[1, "ts2"] = 99        # missing code
    df.loc[4, "rq1"] = None      # empty cell
    df.loc[4, "rq2"] = 99
    df.loc[5, "firm_age"] = None
    with pytest.warns(Warning, match="3 of 6 rows dropped"):
        data = prepare_data(SPEC, write(tmp_path, df))
    assert (data.n_raw, data.n_used, data.n_dropped) == (6, 3, 3)
    assert data.dropped == [(3, "missing ts2"), (6, "missing rq1, rq2"), (7, "missing firm_age")]
    assert "2 values coded 99 in 2 columns set to missing" in data.log
    line = [entry for entry in data.log if "rows dropped" in entry][0]
    assert line.startswith("3 rows dropped (listwise) because of missing values in")
    assert "ts2 (1)" in line and "firm_age (1)" in line
    assert data.missing_by_item["rq1"] == pytest.approx(1 / 6)
    assert data.frame["firm_id"].tolist() == [1, 3, 4]


def test_fiml_keeps_partially_answered_rows(tmp_path):
    df = good()
    df.loc[1, "ts2"] = 99
    df.loc[2, ["ts1", "ts2", "ts3", "rq1", "rq2", "rq3"]] = 99
    df.loc[3, "region"] = None
    with pytest.warns(Warning):
        data = prepare_data(SPEC, write(tmp_path, df), missing="fiml")
    assert data.n_used == 4
    assert data.dropped == [(4, "no item answered"), (5, "missing region")]
    assert data.frame["ts2"].isna().sum() == 1
    assert any("1 missing item values kept" in line for line in data.log)


def test_all_rows_unusable(tmp_path):
    df = good()
    df["rq1"] = 99
    msg = error_of(write(tmp_path, df, "allgone.csv"))
    assert msg.startswith("allgone.csv: column 'rq1': no usable rows")


def test_all_rows_unusable_without_a_single_culprit(tmp_path):
    df = good()
    df.loc[[0, 2, 4], "ts1"] = 99
    df.loc[[1, 3, 5], "rq1"] = None
    msg = error_of(write(tmp_path, df, "allgone.csv"))
    assert msg.startswith("allgone.csv: no usable rows: all 6 rows have missing values")


def test_blank_lines_keep_file_row_numbers(tmp_path):
    path = tmp_path / "blank.csv"
    lines = (FIX / "good.csv").read_text().splitlines()
    lines.insert(2, "")                       # blank line after the first data row
    lines[5] = lines[5].replace("Wenzhou,3,2,", "Wenzhou,3,20,")   # ts1 = 20 in file line 6
    path.write_text("\n".join(lines) + "\n")
    msg = error_of(path)
    assert "column 'ts1'" in msg and "row 6; row 1 = header" in msg


def test_gbk_encoded_csv_is_read(tmp_path):
    df = good()
    df["region"] = ["杭州", "宁波", "杭州", "温州", "宁波", "温州"]
    path = tmp_path / "gbk.csv"
    df.to_csv(path, index=False, encoding="gbk")
    data = prepare_data(SPEC, path)
    assert data.frame["region"].iloc[0] == "杭州"
    assert any("gb18030" in line for line in data.log)


def test_dataframe_input_and_columns_all():
    df = good()
    a = prepare_data(SPEC, df, source="mine")
    b = prepare_data(SPEC, df.copy())
    assert a.sha256 == b.sha256 and a.source == "mine" and b.source == "<DataFrame>"
    assert "note" not in a.frame.columns
    assert list(a.frame.columns) == ["firm_id", "region", "firm_age", "ts1", "ts2", "ts3", "rq1", "rq2", "rq3"]
    assert "note" in prepare_data(SPEC, df, columns="all").frame.columns


def test_non_integer_items_are_allowed_and_logged(tmp_path):
    df = good().astype({"ts1": float})
    df.loc[0, "ts1"] = 4.5
    data = prepare_data(SPEC, write(tmp_path, df))
    assert data.frame["ts1"].iloc[0] == 4.5
    assert any("non-integer" in line for line in data.log)


def test_validate_data_accepts_spec_path():
    data = validate_data(FIX / "mini_spec.yaml", FIX / "good.csv")
    assert data.n_used == 6 and data.n_dropped == 0 and len(data.sha256) == 64
    assert data.sha256 == __import__("hashlib").sha256((FIX / "good.csv").read_bytes()).hexdigest()
