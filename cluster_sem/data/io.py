"""Read survey data files (.csv, .xlsx, .sav) into a DataFrame, failing with one clear ``DataError``.

Survey files arrive from Excel, SPSS and hand-edited CSVs; reading is the one place that knows about
formats.  What the reader learned along the way (encoding fallback, SPSS user-missing values, value labels)
is returned beside the frame in a ``TableFile`` (``log``: tuple of sentences; ``value_labels``: column ->
{code: label}; for .xlsx ``sheet`` (the sheet read: the one Excel shows on opening), ``other_sheets``:
sheet name -> header and ``sheets_with_rows``, to point at data on another sheet) so the cleaning step can
report it — a typed record, not ``DataFrame.attrs`` (which pandas drops or merges on many operations).
The index is the 0-based position of the data row in the file (empty rows are skipped but keep their
place), so ``index + 2`` is the spreadsheet row number with the header.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import DataError

SUPPORTED = (".csv", ".xlsx", ".sav")


@dataclass(frozen=True)
class TableFile:
    """A data file as read: the frame and what the reader learned on the way."""

    frame: pd.DataFrame
    log: tuple[str, ...] = ()
    value_labels: Mapping = field(default_factory=dict)
    sheet: str | None = None                                        # .xlsx: the sheet that was read
    other_sheets: Mapping[str, list[str]] = field(default_factory=dict)   # .xlsx: sheet name -> header
    sheets_with_rows: tuple[str, ...] = ()                          # .xlsx: other sheets holding data rows


# there is no sheet option: the sheet Excel shows on opening is the one read, so that is how to pick another
SHEET_FIX = "open the workbook, click sheet '{}' and save it (the sheet shown on opening is the one read)"


def other_sheet_rows(sheets) -> str:
    """'; sheet 'X' holds data rows' (for messages about an empty sheet), or ''."""
    if not sheets:
        return ""
    names = ", ".join(f"'{s}'" for s in sheets[:3]) + (", ..." if len(sheets) > 3 else "")
    return f"; sheet{'s' if len(sheets) > 1 else ''} {names} hold{'' if len(sheets) > 1 else 's'} data rows"


def _fail(path: Path, problem: str, fix: str) -> DataError:
    return DataError(f"{path.name}: {problem}. Fix: {fix}")


CHUNK = 1 << 20   # bytes decoded at a time: a 200 MB export is checked without holding its text


def _encoding(path: Path) -> tuple[str, list[str]]:
    """The file's encoding: UTF-8 (with or without BOM, as Excel writes it), UTF-16 (Excel's "Unicode
    text"), or GB18030 (Chinese-language survey exports).  Checked by decoding the file in chunks, so no
    copy of its text is held (a str of the whole file, and a StringIO of it at 4 bytes a character, made
    reading a CSV cost 6× its size before pandas even started)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
        encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else \
            ("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be")
        if not _decodes(path, encoding):
            raise _fail(path, "the file holds NUL bytes but is not UTF-16 text (a binary file?)",
                        "save the data as 'CSV UTF-8' from Excel")
        return encoding, [f"{path.name} read as UTF-16 text (not UTF-8)"]
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(path, encoding):
            return encoding, ([] if encoding == "utf-8-sig" else
                              [f"{path.name} read with encoding {encoding} (not UTF-8)"])
    raise _fail(path, "the file is neither UTF-8 nor GB18030 text", "save it as 'CSV UTF-8' from Excel")


def _decodes(path: Path, encoding: str) -> bool:
    import codecs
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _check_header(path: Path, header: list, where: str = "") -> None:
    """Refuse a header naming one column twice (pandas would silently rename the second 'x.1')."""
    names = [str(h).strip() for h in header]
    seen: dict[str, int] = {}
    for pos, name in enumerate(names, start=1):
        if name and name in seen:
            raise _fail(path, f"{where}column '{name}' appears twice in the header (columns {seen[name]} and {pos})",
                        "rename or delete one of them so every column name is unique")
        seen.setdefault(name, pos)


def _check_fields(path: Path, encoding: str) -> tuple[int | None, int]:
    """Count the fields of every CSV row.  A row with more fields than the header (an unquoted decimal comma,
    '2,93') would make pandas use the first column as the index and shift every column, so it is refused;
    extra fields that are empty on *every* row (a trailing comma on each line) are ignored.  Returns (number of
    header fields to keep or None, rows with trailing empty fields).  The file is streamed, row by row."""
    import csv
    with path.open(encoding=encoding, newline="") as fh:
        try:
            return _count_fields(path, csv.reader(fh, skipinitialspace=True))
        except csv.Error as exc:
            if "field limit" not in str(exc):
                raise
    raise _oversized_field(path, encoding)


def _oversized_field(path: Path, encoding: str) -> DataError:
    """The csv module refuses a field over 131072 characters: find which row and column hold it (a free-text
    answer pasted whole, or a stray quote that swallowed the lines after it) instead of echoing the limit."""
    import csv
    limit = csv.field_size_limit()
    csv.field_size_limit(path.stat().st_size + 1)     # no cell has more characters than the file has bytes
    try:
        with path.open(encoding=encoding, newline="") as fh:
            rows = csv.reader(fh, skipinitialspace=True)
            header = next(rows, [])
            for number, row in enumerate(rows, start=2):
                for pos, value in enumerate(row):
                    if len(value) > limit:
                        return _oversized_cell(path, number, header, pos, value, limit)
    finally:
        csv.field_size_limit(limit)
    return _fail(path, f"a cell is longer than {limit:,} characters", "remove or shorten it")


def _oversized_cell(path: Path, number: int, header: list[str], pos: int, value: str, limit: int) -> DataError:
    name = header[pos].strip() if pos < len(header) else f"number {pos + 1} (beyond the header)"
    quote = " (a stray quote \" makes everything up to the next quote one cell)" if "\n" in value else ""
    return _fail(path, f"row {number}, column '{name}': a cell of {len(value):,} characters{quote} (row 1 = "
                 f"header; the limit is {limit:,})",
                 "remove or shorten that cell (free-text answers belong in another file), or close the quote")


def _count_fields(path: Path, reader) -> tuple[int | None, int]:
    """``_check_fields`` on an open csv reader (see there)."""
    header = next(reader, [])
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in header[0])
        shown = {";": "';'", "\t": "tab", "|": "'|'"}[sep]
        raise _fail(path, f"the header is one single column '{header[0][:60]}': the file is separated by {shown}, "
                    "not by commas (Excel in many European locales writes ';')",
                    "save it again as 'CSV UTF-8 (comma delimited)', or as .xlsx")
    _check_header(path, header)
    m = len(header)
    longer: list[tuple[int, int, bool]] = []   # (row number, fields, extra fields all empty)
    n_rows = 0
    for number, row in enumerate(reader, start=2):
        n_rows += bool(row)
        if len(row) > m:
            longer.append((number, len(row), not any(str(v).strip() for v in row[m:])))
    if longer and len(longer) == n_rows and all(empty for _, _, empty in longer):
        return m, n_rows                        # a trailing comma on every row: nothing is shifted
    if longer:
        number, k, _ = longer[0]
        more = f" (and {len(longer) - 1} more rows)" if len(longer) > 1 else ""
        raise _fail(path, f"not a well-formed CSV file: row {number} has {k} fields, the header has {m}{more} (row 1 = header; an unquoted "
                    "decimal comma such as 2,93, or a stray comma?)",
                    "use a decimal point, or quote that field, so every row has as many fields as the header")
    return None, 0


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
    encoding, note = _encoding(path)
    keep, trailing = _check_fields(path, encoding)
    frame = pd.read_csv(path, encoding=encoding, skipinitialspace=True, skip_blank_lines=False, index_col=False,
                        usecols=range(keep) if keep else None)
    if trailing:
        note.append(f"{trailing} rows end with empty extra fields (a trailing comma); ignored")
    return frame, note


def _read_xlsx(path: Path) -> tuple[pd.DataFrame, str, dict[str, list[str]], tuple[str, ...]]:
    """The sheet Excel shows on opening (the active sheet, or the first visible one if that is hidden) —
    not simply the first, which is often a hidden lookup or a cover sheet; refuses a duplicate header and
    formula cells without a cached value (openpyxl cannot evaluate formulas, and pandas would read them as
    blanks).  Returns the frame, the sheet's name, the other sheets' headers and which of those hold rows."""
    from openpyxl import load_workbook
    formulas = load_workbook(path, read_only=True, data_only=False)
    cached = load_workbook(path, read_only=True, data_only=True)
    try:
        ws_f = _shown_sheet(formulas)
        ws_v = cached[ws_f.title]
        _check_cells(path, ws_f, ws_v)
        others = [ws for ws in formulas.worksheets if ws.title != ws_f.title]
        headers = {ws.title: [str(h).strip() for h in next(ws.iter_rows(max_row=1, values_only=True), ())
                              if h is not None] for ws in others}
        with_rows = tuple(ws.title for ws in others
                          if any(any(v is not None for v in row) for row in ws.iter_rows(min_row=2, values_only=True)))
    finally:
        formulas.close()
        cached.close()
    frame = pd.read_excel(path, engine="openpyxl", sheet_name=ws_f.title)
    return frame, ws_f.title, headers, with_rows


def _shown_sheet(workbook):
    """The active sheet if visible, else the first visible sheet (a workbook always has one)."""
    active = workbook.active
    if active is not None and active.sheet_state == "visible":
        return active
    return next((ws for ws in workbook.worksheets if ws.sheet_state == "visible"), workbook.worksheets[0])


def _check_cells(path: Path, ws_f, ws_v) -> None:
    """Duplicate header names and formulas without a computed value on the sheet that is read."""
    from openpyxl.utils import get_column_letter
    sheet = f"sheet '{ws_f.title}': "
    uncached: list[str] = []
    for r, (row_f, row_v) in enumerate(zip(ws_f.iter_rows(values_only=True), ws_v.iter_rows(values_only=True)), 1):
        if r == 1:
            _check_header(path, [h for h in row_f if h is not None], sheet)
        for c, (f, v) in enumerate(zip(row_f, row_v), 1):
            if isinstance(f, str) and f.startswith("=") and v is None:
                uncached.append(f"{get_column_letter(c)}{r}")
    if uncached:
        shown = ", ".join(uncached[:5]) + (f", ... ({len(uncached)} in all)" if len(uncached) > 5 else "")
        raise _fail(path, f"{sheet}cells {shown} hold formulas without a computed value (the file was "
                    "written by a program that does not calculate formulas)",
                    "open the file in Excel/LibreOffice and save it again, or paste the cells as values")


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
    return read_file(path).frame


def read_file(path: str | Path) -> TableFile:
    """The data file and what reading it learned (``TableFile``); one ``DataError`` line if it cannot be read."""
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
    sheet, other_sheets, with_rows = None, {}, ()
    try:
        if suffix == ".csv":
            frame, log = _read_csv(path)
        elif suffix == ".xlsx":
            frame, sheet, other_sheets, with_rows = _read_xlsx(path)
            if other_sheets:   # which sheet was analysed is a data decision: recorded in the cleaning log
                names = ", ".join(f"'{name}'" for name in list(other_sheets)[:5])
                names += ", ..." if len(other_sheets) > 5 else ""
                log.append(f"sheet '{sheet}' read (the sheet shown on opening); the workbook also has {names}")
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
        if with_rows:
            raise _fail(path, f"sheet '{sheet}' is empty{other_sheet_rows(with_rows)}", SHEET_FIX.format(with_rows[0]))
        raise _fail(path, "the file has no columns (empty)", "export the data again with a header row")
    frame.columns = [str(c).strip() for c in frame.columns]
    # Blank lines are dropped *after* reading so the index still is the row's position in the file, which
    # keeps the row numbers in error messages equal to what the user sees in Excel / a text editor.
    blank = frame.isna().all(axis=1).to_numpy()
    if blank.any():
        frame = frame.loc[~blank]
        log.append(f"{int(blank.sum())} empty rows skipped")
    return TableFile(frame, tuple(log), labels, sheet, other_sheets, with_rows)
