"""Hardening (stress matrix): numbers typed as text in survey exports.

"3 " and "3.0" were already read as 3 and "N/A"/"NA" as blanks (pandas' missing markers); full-width digits
typed with a Chinese input method ("４", "－99", "３．５") were refused as text.  They are the numbers the
respondent meant (Unicode NFKC), so they now read as such, and a missing code typed full-width is a code.
"""
from __future__ import annotations

import pandas as pd

from cluster_sem.data import prepare_data
from cluster_sem.spec import load_spec

SPEC = """spec_version: 1
title: {en: Text cells}
scale: {min: 1, max: 5}
missing_codes: [-99]
constructs:
  A: {items: [a1, a2, a3]}
controls: [size]
paths: []
"""


def test_full_width_and_padded_numbers_are_read_as_numbers(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    rows = [["４", "3 ", "2", "３．５"], ["3.0", "N/A", "4", "2"], ["1", "2", "－99", "7"], ["2", "5", "3", "1.5"]]
    frame = pd.DataFrame(rows, columns=["a1", "a2", "a3", "size"])
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    prepared = prepare_data(load_spec(tmp_path / "spec.yaml"), path, missing="fiml")
    got = prepared.frame
    assert got["a1"].tolist() == [4.0, 3.0, 1.0, 2.0]
    assert got["a2"].isna().tolist() == [False, True, False, False] and got.loc[0, "a2"] == 3.0
    assert pd.isna(got.loc[2, "a3"])                  # -99 typed full-width is the missing code
    assert got["size"].tolist() == [3.5, 2.0, 7.0, 1.5]


def test_an_undeclared_no_answer_code_in_a_control_is_warned_about(tmp_path):
    """firm_age = -99 is range-checked nowhere (controls have no scale): it used to enter the model silently."""
    import warnings

    from cluster_sem.errors import DataWarning
    (tmp_path / "spec.yaml").write_text(SPEC.replace("missing_codes: [-99]", "missing_codes: [99]"), encoding="utf-8")
    frame = pd.DataFrame({"a1": [1, 2, 3, 4], "a2": [2, 3, 4, 5], "a3": [1, 3, 2, 4], "size": [3, -99, 5, -99]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepared = prepare_data(load_spec(tmp_path / "spec.yaml"), frame)
    texts = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert any("column 'size': 2 values -99 (rows 2, 4)" in t and "missing_codes" in t for t in texts), texts
    assert any("-99" in line for line in prepared.log)
    assert prepared.frame["size"].tolist() == [3.0, -99.0, 5.0, -99.0]   # a warning, the data are unchanged


def test_wlsmv_on_continuous_scores_warns_naming_the_items():
    """HS test scores (dozens of distinct values) under WLSMV: every value became a category without a word."""
    import warnings
    from pathlib import Path

    from cluster_sem.data.estimable import note_many_categories
    from cluster_sem.errors import DataWarning
    root = Path(__file__).resolve().parents[1]
    spec = load_spec(root / "tests" / "specs" / "hs_cfa.yaml")
    data = prepare_data(spec, root / "tests" / "reference" / "HolzingerSwineford1939.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        note_many_categories(spec, data)
    texts = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert len(texts) == 1 and "'x1' (" in texts[0] and "--estimator ML" in texts[0]
    ordinal = load_spec(root / "tests" / "specs" / "hs_ordinal.yaml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        note_many_categories(ordinal, prepare_data(ordinal, root / "tests" / "reference" /
                                                   "HolzingerSwineford1939_ordinal.csv"))
    assert not [w for w in caught if issubclass(w.category, DataWarning)]
