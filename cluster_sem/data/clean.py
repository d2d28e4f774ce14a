"""Check survey data against the spec and turn it into the numeric frame the model is fitted to.

Every decision that changes the data (missing codes, reverse keys, deleted rows) is written to
``SurveyData.log`` and ``dropped`` so the report can show *what was analysed*, and every problem that the
user must fix is one ``DataError`` line of the form

    {file}: column '{col}': {problem} (rows 4, 9, 17, ...; row 1 = header). Fix: {fix}

Row numbers are what the user sees when opening the file: for .csv/.xlsx the spreadsheet row (header is
row 1, first data row is row 2); for .sav files and DataFrames the 1-based case number.
"""
from __future__ import annotations

import difflib
import hashlib
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ClusterSemError, DataError, DataWarning
from ..spec.loader import as_spec
from ..spec.schema import Spec
from .io import SHEET_FIX, TableFile, other_sheet_rows, read_file

MAX_LISTED = 5  # rows / values quoted in one message
MAX_ABS = 1e15  # beyond this a covariance overflows or loses all precision


@dataclass(frozen=True)
class SurveyData:
    """Cleaned survey data plus the record of how it was cleaned.

    ``frame``: id (if any), group (if any), controls, items (recoded; floats), only the rows used, index
    0..n_used-1.  ``dropped``: (row number as in the file, reason).  ``missing_by_item``: fraction of rows
    with the item missing *before* deletion.  ``raw_items``: the items of all rows after missing codes and
    reverse keys, before deletion (for descriptives).  ``value_labels``: SPSS value labels, if any.
    """

    frame: pd.DataFrame
    source: str
    sha256: str
    n_raw: int
    n_used: int
    n_dropped: int
    dropped: list[tuple[int, str]]
    log: tuple[str, ...]
    missing_by_item: dict[str, float]
    missing: str = "listwise"
    raw_items: pd.DataFrame | None = None
    value_labels: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Rows:
    """How data-row positions are shown to the user."""

    offset: int   # added to the 0-based position
    note: str     # appended after the list of rows

    def number(self, pos: int) -> int:
        return int(pos) + self.offset

    def listing(self, positions, total: int | None = None) -> str:
        positions = list(positions)
        shown = ", ".join(str(self.number(p)) for p in positions[:MAX_LISTED])
        more = f", ... ({len(positions)} in all)" if len(positions) > MAX_LISTED else ""
        word = "row" if len(positions) == 1 else "rows"
        return f"{word} {shown}{more}{self.note}"


def _err(source: str, col: str | None, problem: str, fix: str) -> DataError:
    where = f"column '{col}': " if col else ""
    return DataError(f"{source}: {where}{problem}. Fix: {fix}")


def _fmt(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v) if isinstance(v, str) else str(v)


def _code_text(codes) -> str:
    return "/".join(_fmt(float(c)) for c in codes)


def _load(data, source: str | None) -> tuple[TableFile, str, str, _Rows]:
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        canonical = frame.to_csv(index=False, lineterminator="\n", float_format="%.17g").encode("utf-8")
        frame.index = pd.RangeIndex(len(frame))
        return TableFile(frame), source or "<DataFrame>", hashlib.sha256(canonical).hexdigest(), _Rows(1, "")
    path = Path(data)
    table = read_file(path)
    with path.open("rb") as fh:   # streamed: a second copy of a large file's bytes is not needed
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    rows = _Rows(1, "; cases counted from 1") if path.suffix.lower() == ".sav" else _Rows(2, "; row 1 = header")
    return table, source or path.name, digest, rows


def _required(spec: Spec) -> dict[str, str]:
    """column -> what the spec uses it for (ordered: id, group, controls, items)."""
    need: dict[str, str] = {}
    if spec.id:
        need[spec.id] = "the id column"
    if spec.group:
        need[spec.group] = "the group column"
    for c in spec.controls:
        need[c] = "a control variable"
    if spec.cluster:
        need.setdefault(spec.cluster, "the cluster column")
    if spec.weights:
        need.setdefault(spec.weights, "the weights column")
    for construct in spec.first_order:
        for item in spec.items_of(construct):
            need[item] = f"an item of {construct}"
    return need


def _suggest(name: str, columns: list[str]) -> str | None:
    folded = [c for c in columns if c.casefold() == name.casefold()]
    if folded:
        return folded[0]
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    if not close:
        lower = {c.lower(): c for c in columns}
        close = [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)]
    return close[0] if close else None


def _check_columns(spec: Spec, table: TableFile, source: str) -> None:
    frame = table.frame
    need = _required(spec)
    columns = list(frame.columns)
    missing = [c for c in need if c not in frame.columns]
    if not missing:
        return
    first = missing[0]
    hint = _suggest(first, [c for c in columns if c not in need])
    problem = f"required by the spec ({need[first]}) but not in the data"
    problem += f"; closest column: '{hint}'" if hint else f"; the data has {len(columns)} columns"
    if len(missing) > 1:
        others = ", ".join(f"'{c}'" for c in missing[1:1 + MAX_LISTED])
        more = ", ..." if len(missing) > 1 + MAX_LISTED else ""
        problem += f" (also missing: {others}{more}; {len(missing)} in all)"
    fix = (f"rename column '{hint}' to '{first}' (names are case-sensitive) or change the name in the spec"
           if hint else f"add column '{first}' to the data or correct the name in the spec")
    on_sheet = [name for name, header in table.other_sheets.items() if first in header]
    if on_sheet:
        problem += f" of sheet '{table.sheet}' (the sheet shown on opening), but sheet '{on_sheet[0]}' has it"
        fix = SHEET_FIX.format(on_sheet[0])
    raise _err(source, first, problem, fix)


def _check_ids(spec: Spec, frame: pd.DataFrame, source: str, rows: _Rows) -> None:
    if not spec.id:
        return
    ids = frame[spec.id]
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if dup.empty:
        return
    parts = []
    for value, where in dup.groupby(dup, sort=False).groups.items():
        parts.append(f"{_fmt(value)} (rows {', '.join(str(rows.number(p)) for p in where)})")
    shown = "; ".join(parts[:MAX_LISTED]) + ("; ..." if len(parts) > MAX_LISTED else "")
    raise _err(source, spec.id, f"{len(parts)} duplicate ids: {shown}{rows.note}",
               "give every firm its own id, or delete the repeated rows")


def _to_numeric(frame: pd.DataFrame, col: str, source: str, rows: _Rows, role: str) -> pd.Series:
    s = frame[col]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    # NFKC: full-width digits, minus and point typed with a Chinese input method ("４", "－99", "３．５") are
    # the ASCII numbers the respondent meant
    text = s.map(lambda v: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v)
    text = text.map(lambda v: np.nan if isinstance(v, str) and v == "" else v)
    num = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & num.isna()
    if bad.any():
        where = list(bad[bad].index)
        examples = ", ".join(f"row {rows.number(p)} {text[p]!r}" for p in where[:MAX_LISTED])
        fix = ("enter answers as numbers, and leave the cell empty (or use a missing code) for no answer"
               if role == "item" else "enter numbers only; leave the cell empty if unknown")
        raise _err(source, col, f"text where a number is expected: {examples} ({rows.listing(where)})", fix)
    return num.astype(float)


def prepare_data(spec: Spec, data: str | Path | pd.DataFrame, *, source: str | None = None,
                 missing: str = "listwise", columns: str = "model", by_group: bool = True) -> SurveyData:
    """Read (if a path), check and clean survey data for ``spec``.

    ``missing="listwise"`` drops every row with a missing item, control or group; ``missing="fiml"`` keeps
    rows with at least one answered item (rows with no answered item, or a missing control/group, are
    still dropped).  ``columns="model"`` keeps id, group, controls and items; ``"all"`` also keeps the
    data's other columns unchanged.  Rows without a group value are dropped only when ``by_group`` (a
    multigroup analysis; the single-group ``fit`` pipeline passes False and keeps them); ``groups.analysis_groups`` turns the raw values into group labels.

    The steps, in the order a methods section reports them: read, check columns and ids, numeric values,
    missing codes, finite values, scale ranges, recodes, reverse keys, group column, case deletion.
    """
    if missing not in ("listwise", "fiml"):
        raise ClusterSemError(f"missing='{missing}' is not known. Fix: use 'listwise' or 'fiml'")
    if columns not in ("model", "all"):
        raise ClusterSemError(f"columns='{columns}' is not known. Fix: use 'model' or 'all'")
    table, source, digest, rows = _load(data, source)
    frame = table.frame
    log: list[str] = list(table.log)
    if frame.shape[1] == 0:
        raise _err(source, None, "no columns", "export the data again with a header row and one row per firm")
    if len(frame) == 0:
        where = f"sheet '{table.sheet}' has " if table.sheet else ""
        if table.sheets_with_rows:
            raise _err(source, None, f"{where}no data rows (only the header){other_sheet_rows(table.sheets_with_rows)}",
                       SHEET_FIX.format(table.sheets_with_rows[0]))
        raise _err(source, None, f"{where}no data rows (only the header)", "add one row per responding firm")
    _check_columns(spec, table, source)
    _check_ids(spec, frame, source, rows)
    n_raw = len(frame)

    values = {col: _to_numeric(frame, col, source, rows, "control") for col in spec.controls}
    values.update({col: _to_numeric(frame, col, source, rows, "item") for col in spec.items})
    value_labels = dict(table.value_labels)
    # the converted columns now live in `values`: keep a copy of the rest only, so the file's own (int)
    # columns are freed before the model frame is built (a large file was held 3-4 times over)
    frame = frame[[c for c in frame.columns if c not in values]].copy()
    del table
    codes = _apply_missing_codes(spec, values, log)
    _note_sentinels(spec, values, codes, source, rows, log)
    _check_finite(values, source, rows)
    _check_scales(spec, values, codes, source, rows)
    _note_fractional(list(spec.items), values, log)
    _recode(spec, values, log)
    _reverse_keys(spec, values, log)
    group = _group_column(spec, frame, by_group, log)
    design = _design_columns(spec, frame, source, rows)
    missing_by_item = {c: float(values[c].isna().mean()) for c in spec.items}

    keep, dropped = _delete_cases(spec, frame, values, group if by_group else None, missing, rows, log)
    n_used = int(keep.sum())
    if n_used == 0:
        _refuse_empty(spec, values, dropped, missing, source, n_raw)
    result = _model_frame(spec, frame, values, group, columns, keep.to_numpy(), design)
    # all rows kept: the items before deletion are the frame's own columns (a lazy selection, not a copy)
    raw_items = result[list(spec.items)] if not dropped else \
        pd.DataFrame({c: values[c] for c in spec.items}).reset_index(drop=True)
    if dropped:
        warnings.warn(f"{source}: {len(dropped)} of {n_raw} rows dropped ({missing}) because of missing values",
                      DataWarning, stacklevel=2)
    return SurveyData(frame=result, source=source, sha256=digest, n_raw=n_raw, n_used=n_used,
                      n_dropped=len(dropped), dropped=dropped, log=tuple(log), missing_by_item=missing_by_item,
                      missing=missing, raw_items=raw_items, value_labels=value_labels)


def _apply_missing_codes(spec: Spec, values: dict[str, pd.Series], log: list[str]) -> list[float]:
    """Missing codes (e.g. 99) become NaN in items and controls; returns the codes."""
    codes = [float(c) for c in spec.missing_codes]
    n_coded, cols_coded = 0, 0
    if codes:
        for col, s in values.items():
            hit = s.isin(codes)
            if hit.any():
                n_coded += int(hit.sum())
                cols_coded += 1
                values[col] = s.mask(hit)
        if n_coded:
            log.append(f"{n_coded} values coded {_code_text(codes)} in {cols_coded} columns set to missing")
    return codes


SENTINELS = (-9.0, -99.0, -999.0, -9999.0, 999.0, 9999.0)   # usual "no answer" codes of survey exports


def _note_sentinels(spec: Spec, values: dict[str, pd.Series], codes: list[float], source: str, rows: _Rows,
                    log: list[str]) -> None:
    """Warn when a control holds a usual "no answer" code that is not in ``missing_codes`` (firm_age = -99):
    items are range-checked against their scale, but a control has no range, so the code would silently
    enter the model as a value.  A warning, not a refusal: 999 employees is a possible answer."""
    for col in spec.controls:
        s = values[col]
        hit = s.isin([c for c in SENTINELS if c not in codes])
        if hit.any():
            where = list(hit[hit].index)
            shown = "/".join(_fmt(float(v)) for v in sorted(s[hit].unique()))
            text = (f"{source}: column '{col}': {len(where)} values {shown} ({rows.listing(where)}) look like a "
                    f"'no answer' code but are not in missing_codes; they are used as numbers. Fix: if they mean "
                    f"no answer, add them to missing_codes in the spec")
            log.append(text)
            warnings.warn(text, DataWarning, stacklevel=3)


def _check_finite(values: dict[str, pd.Series], source: str, rows: _Rows) -> None:
    """Refuse values no computation survives: inf, or so large that squares overflow (1e300)."""
    for col, s in values.items():
        bad = s.notna() & ~(s.abs() <= MAX_ABS)
        if bad.any():
            where = list(bad[bad].index)
            shown = ", ".join(_fmt(float(v)) for v in s[bad].unique()[:MAX_LISTED])
            raise _err(source, col, f"infinite or too large values ({shown}; |x| must stay below {MAX_ABS:g}) "
                       f"({rows.listing(where)})", "correct these values, or rescale the column (e.g. revenue "
                       "in millions instead of yuan)")


def _check_scales(spec: Spec, values: dict[str, pd.Series], codes: list[float], source: str, rows: _Rows) -> None:
    """Refuse item answers outside the item's scale (naming the first column, and how many others)."""
    offenders: list[tuple[str, list, pd.Series]] = []
    for col in spec.items:
        sc = spec.scale_of(col)
        s = values[col]
        out = s.notna() & ((s < sc.min) | (s > sc.max))
        if out.any():
            offenders.append((col, list(out[out].index), s[out]))
    if not offenders:
        return
    col, where, bad = offenders[0]
    sc = spec.scale_of(col)
    shown = ", ".join(_fmt(float(v)) for v in bad.unique()[:MAX_LISTED])
    also = ""
    if len(offenders) > 1:
        also = " (also in " + ", ".join(f"'{c}'" for c, _, _ in offenders[1:1 + MAX_LISTED]) + \
               (", ..." if len(offenders) > 1 + MAX_LISTED else "") + ")"
    codes_now = f"missing_codes (now {_code_text(codes)})" if codes else "missing_codes"
    raise _err(source, col, f"{len(where)} values outside the scale {sc.min}-{sc.max}: {shown} "
               f"({rows.listing(where)}){also}",
               f"correct these values, or add the code to {codes_now} in the spec if it means 'no answer'")


def _note_fractional(items: list[str], values: dict[str, pd.Series], log: list[str]) -> None:
    fractional = [c for c in items if not np.allclose(values[c].dropna() % 1, 0)]
    if fractional:
        log.append(f"{len(fractional)} item columns hold non-integer values ({', '.join(fractional[:MAX_LISTED])}"
                   f"{', ...' if len(fractional) > MAX_LISTED else ''}); used as continuous scores")


def _recode(spec: Spec, values: dict[str, pd.Series], log: list[str]) -> None:
    """Collapsed categories (spec ``recode:``), on the raw answer codes, before reverse keys."""
    for col in spec.items:
        mapping = {**spec.recode.get("all", {}), **spec.recode.get(col, {})}
        if mapping:
            hit = values[col].isin(list(mapping))
            values[col] = values[col].replace(mapping)
            shown = ", ".join(f"{a:g}\u2192{b:g}" for a, b in mapping.items())
            log.append(f"recoded {col}: {shown} ({int(hit.sum())} answers changed; spec recode)")


def _reverse_keys(spec: Spec, values: dict[str, pd.Series], log: list[str]) -> None:
    for col, item in spec.items.items():
        if item.reverse:
            sc = spec.scale_of(col)
            values[col] = (sc.min + sc.max) - values[col]
            log.append(f"reverse-keyed {col} recoded as {sc.min + sc.max} \u2212 v")


def _group_column(spec: Spec, frame: pd.DataFrame, by_group: bool, log: list[str]) -> pd.Series | None:
    """The group column with blanks as missing (None without ``spec.group``)."""
    if not spec.group:
        return None
    # NFKC (as groups.group_label): one group name typed in two Unicode forms is one group; normalised once
    # per distinct value (a million rows hold a handful of group names)
    raw = frame[spec.group]
    counts = raw.value_counts()
    normal = {v: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v for v in counts.index}
    group = raw.map(normal)
    respelled = sum(int(k) for v, k in counts.items() if isinstance(v, str) and v.strip() != normal[v])
    if respelled:
        log.append(f"{respelled} values in '{spec.group}' written in another Unicode form (decomposed accents, "
                   "full-width characters) read as their standard (NFKC) form")
    group = group.map(lambda v: np.nan if isinstance(v, str) and v == "" else v)
    coded = group.map(lambda v: _is_missing_code(v, spec.missing_codes))
    if coded.any():   # "99 = no answer" holds for the group question too: such a row has no group
        group = group.mask(coded)
        log.append(f"{int(coded.sum())} values coded {_code_text(spec.missing_codes)} in '{spec.group}' set to "
                   "missing (no group)")
    n_blank = int(group.isna().sum())
    if n_blank and not by_group:
        log.append(f"{n_blank} rows have no group in '{spec.group}'; kept (the group column is only used "
                   "by multigroup analyses)")
    return group


def _is_missing_code(value, codes) -> bool:
    """Whether a raw group value (number or text such as "99") is one of the spec's missing codes."""
    if value is None or isinstance(value, bool) or not codes:
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return number in {float(c) for c in codes}


def _delete_cases(spec: Spec, frame: pd.DataFrame, values: dict[str, pd.Series], group: pd.Series | None,
                  missing: str, rows: _Rows, log: list[str]) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Listwise (or FIML's: no answered item, missing control/group) deletion: (rows kept, (row, reason))."""
    items, controls = list(spec.items), list(spec.controls)
    item_na = pd.DataFrame({c: values[c].isna() for c in items}, index=frame.index)
    other_na = pd.DataFrame({c: values[c].isna() for c in controls}, index=frame.index)
    if group is not None:
        other_na[spec.group] = group.isna()
    item_mat = item_na.to_numpy()
    other_mat = other_na.to_numpy()
    other_cols = list(other_na.columns)
    if missing == "listwise":
        drop_mask = item_mat.any(axis=1) | other_mat.any(axis=1)
    else:
        drop_mask = item_mat.all(axis=1) | other_mat.any(axis=1)
    dropped: list[tuple[int, str]] = []
    counts: dict[str, int] = {}
    for i in np.flatnonzero(drop_mask):  # only the dropped rows are visited
        miss_other = [c for c, m in zip(other_cols, other_mat[i]) if m]
        miss_items = [c for c, m in zip(items, item_mat[i]) if m]
        if missing == "listwise":
            gone = miss_other + miss_items
            reason = "missing " + ", ".join(gone[:8]) + (", ..." if len(gone) > 8 else "")
        elif miss_other:
            gone = miss_other
            reason = "missing " + ", ".join(miss_other)
        else:
            gone = ["all items"]
            reason = "no item answered"
        dropped.append((rows.number(frame.index[i]), reason))
        for c in gone:
            counts[c] = counts.get(c, 0) + 1
    keep = pd.Series(~drop_mask, index=frame.index)
    if dropped:
        top = sorted(counts.items(), key=lambda kv: -kv[1])
        detail = ", ".join(f"{c} ({k})" for c, k in top[:6]) + (", ..." if len(top) > 6 else "")
        rule = "listwise" if missing == "listwise" else "FIML: rows without any answered item or with a missing control/group"
        log.append(f"{len(dropped)} rows dropped ({rule}) because of missing values in {detail}")
    if missing == "fiml":
        remaining = int(item_na[keep].to_numpy().sum())
        if remaining:
            log.append(f"{remaining} missing item values kept for full-information ML")
    return keep, dropped


def _refuse_empty(spec: Spec, values: dict[str, pd.Series], dropped: list[tuple[int, str]], missing: str,
                  source: str, n_raw: int) -> None:
    """No row survived deletion: name the column that is missing everywhere, or the first dropped row."""
    empty = [c for c in list(spec.controls) + list(spec.items) if values[c].isna().all()]
    if empty and missing == "listwise":
        raise _err(source, empty[0], f"no usable rows: this column is missing in all {n_raw} rows"
                   + (f" (so are {', '.join(empty[1:4])}{', ...' if len(empty) > 4 else ''})" if len(empty) > 1 else ""),
                   "check that the column holds the answers and that its values are not all missing codes")
    raise _err(source, None, f"no usable rows: all {n_raw} rows have missing values ({dropped[0][1]} in row "
               f"{dropped[0][0]}, ...)", "check the missing codes in the spec and that the right file was given")


def _design_columns(spec: Spec, frame: pd.DataFrame, source: str, rows: _Rows) -> dict[str, pd.Series]:
    """The cluster and weights columns, checked: every case needs its cluster and a positive finite weight
    (a blank would silently drop the case from one cluster's sum or make the weighted likelihood wrong)."""
    out: dict[str, pd.Series] = {}
    if spec.cluster:
        col = frame[spec.cluster]
        blank = col.isna() | col.map(lambda v: isinstance(v, str) and v.strip() == "")
        if blank.any():
            raise _err(source, spec.cluster, f"no cluster in {rows.listing(list(blank[blank].index))}",
                       "give every firm its cluster, or delete those rows")
        out[spec.cluster] = col
    if spec.weights:
        w = _to_numeric(frame, spec.weights, source, rows, "weights")
        bad = ~(np.isfinite(w) & (w > 0))
        if bad.any():
            raise _err(source, spec.weights, f"weights must be positive numbers; blank, zero, negative or "
                       f"infinite in {rows.listing(list(bad[bad].index))}",
                       "enter each firm's sampling weight (> 0), or delete those rows")
        out[spec.weights] = w
    return out


def _model_frame(spec: Spec, frame: pd.DataFrame, values: dict[str, pd.Series], group: pd.Series | None,
                 columns: str, keep: np.ndarray, design: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """id, group, cluster/weights, controls and items (float) of the kept rows, index 0..n-1; with
    ``columns="all"`` the data's other columns too.  Each column is cut to the kept rows as it is placed (one
    copy, not a frame of all rows and then its kept part)."""
    def kept(s: pd.Series) -> pd.Series:
        return (s if keep.all() else s[keep]).reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    if spec.id:
        out[spec.id] = kept(frame[spec.id])
    if group is not None:
        out[spec.group] = kept(group)
    out.update({name: kept(column) for name, column in (design or {}).items()})
    for c in list(spec.controls) + list(spec.items):
        out[c] = kept(values[c].astype(float))
    result = pd.DataFrame(out)
    if columns == "all":
        extra = [c for c in frame.columns if c not in result.columns]
        result = pd.concat([result, frame[extra][keep].reset_index(drop=True)], axis=1)
    return result


def validate_data(spec: Spec | str | Path, path: str | Path, *, missing: str = "listwise") -> SurveyData:
    """``cluster-sem validate SPEC DATA``: everything ``prepare_data`` checks, for one data file."""
    return prepare_data(as_spec(spec), path, missing=missing, by_group=False)
