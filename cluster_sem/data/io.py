"""Read survey data files (.csv, .xlsx, .sav) into a DataFrame, failing with one clear ``DataError``.

Survey files arrive from Excel, SPSS and hand-edited CSVs; reading is the one place that knows about
formats.  What the reader learned along the way (encoding fallback, SPSS user-missing values, value labels)
is recorded in ``frame.attrs`` (``read_log``: tuple of sentences; ``value_labels``: column -> {code: label})
so the cleaning step can report it.  The index is the 0-based position of the data row in the file (empty
rows are skipped but keep their place), so ``index + 2`` is the spreadsheet row number with the header.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

SUPPORTED = (".csv", ".xlsx", ".sav")


def _fail(path: Path, problem: str, fix: str) -> DataError:
    return DataError(f"{path.name}: {problem}. Fix: {fix}")


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
    # utf-8 (with or without BOM, as Excel writes it) first; Chinese-language survey exports are often GBK.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, encoding=encoding, skipinitialspace=True, skip_blank_lines=False)
            note = [] if encoding == "utf-8-sig" else [f"{path.name} read with encoding {encoding} (not UTF-8)"]
            return frame, note
        except UnicodeDecodeError:
            continue
    raise _fail(path, "the file is neither UTF-8 nor GB18030 text", "save it as 'CSV UTF-8' from Excel")


def _read_sav(path: Path) -> tuple[pd.DataFrame, list[str], dict]:
    import pyreadstat

    # user_missing=True returns SPSS user-missing codes as their values together with their definitions,
    # so they are *recognised* (here) instead of silently read as ordinary answers.
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True, apply_value_formats=False)
    log: list[str] = []
    n_set = 0
    cols: list[str] = []
    ranges = dict(meta.missing_ranges or {})
    for col, user_values in (meta.missing_user_values or {}).items():
        ranges.setdefault(col, [{"lo": v, "hi": v} for v in user_values])
    for col, rngs in ranges.items():
        if col not in frame.columns:
            continue
        values = pd.to_numeric(frame[col], errors="coerce")
        mask = np.zeros(len(frame), dtype=bool)
        for r in rngs:
            lo, hi = r["lo"], r["hi"]
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
                mask |= (values >= lo).to_numpy() & (values <= hi).to_numpy()
            else:  # string user-missing values
                mask |= frame[col].isin([lo, hi]).to_numpy()
        if mask.any():
            frame.loc[mask, col] = np.nan
            n_set += int(mask.sum())
            cols.append(col)
    if n_set:
        log.append(f"{n_set} SPSS user-missing values in {len(cols)} columns set to missing")
    return frame, log, dict(meta.variable_value_labels or {})


def read_table(path: str | Path) -> pd.DataFrame:
    """The data file as a DataFrame (value codes kept numeric; SPSS user-missing values become NaN)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise _fail(path, f"unknown file type '{suffix or '(none)'}'",
                    "save the data as .csv (UTF-8), .xlsx or .sav")
    if not path.exists():
        raise _fail(path, f"file not found ({path})", "check the path")
    if path.is_dir():
        raise _fail(path, "is a directory, not a data file", "give the path of a .csv, .xlsx or .sav file")
    if path.stat().st_size == 0:
        raise _fail(path, "the file is empty (0 bytes)", "export the data again with a header row and one row per firm")
    log: list[str] = []
    labels: dict = {}
    try:
        if suffix == ".csv":
            frame, log = _read_csv(path)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, engine="openpyxl", sheet_name=0)
        else:
            frame, log, labels = _read_sav(path)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise _fail(path, "the file has no columns (empty)",
                    "export the data again with a header row and one row per firm") from None
    except pd.errors.ParserError as exc:
        raise _fail(path, f"not a well-formed CSV file ({' '.join(str(exc).split())})",
                    "check that every row has the same number of comma-separated fields") from None
    except Exception as exc:  # openpyxl / pyreadstat raise their own zoo of exceptions on corrupt files
        raise _fail(path, f"cannot be read as {suffix} ({type(exc).__name__}: {' '.join(str(exc).split())})",
                    f"open it in the program that wrote it and save it again as {suffix}") from None
    if frame.shape[1] == 0:
        raise _fail(path, "the file has no columns (empty)", "export the data again with a header row")
    frame.columns = [str(c).strip() for c in frame.columns]
    # Blank lines are dropped *after* reading so the index still is the row's position in the file, which
    # keeps the row numbers in error messages equal to what the user sees in Excel / a text editor.
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():
        frame = frame.loc[~blank]
        log.append(f"{int(blank.sum())} empty rows skipped")
    frame.attrs["read_log"] = tuple(log)
    frame.attrs["value_labels"] = labels
    return frame
