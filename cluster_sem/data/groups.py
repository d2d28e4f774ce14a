"""Analysis groups from the spec's ``group`` column and optional ``group_levels`` map.

Why labels are normalised: a CSV column of codes 1/2/3 with one blank cell is read as floats, and a user
who wrote "1" must see "1", never "1.0"; and "Café" typed on a Mac (e + combining accent) and on Windows
(é) print alike but differ as strings, which would make two groups with one displayed name.  ``group_label``
(``spec/groups.py``, shared with the spec's checks of ``group_levels``) turns every raw value into the text as written (integral floats lose the ".0"), in Unicode NFKC form
(composed accents, full-width letters and digits as ASCII — the data cleaning reads the group column the
same way); ``analysis_groups`` merges raw values into the analysis groups of
``group_levels`` in the spec's order (the first is the reference group) or, without the map, keeps every
value as its own group in order of first appearance (lavaan's ``unique(data[[group]])``).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import DataError
from ..spec.groups import group_label


@dataclass(frozen=True)
class AnalysisGroups:
    column: str
    names: tuple[str, ...]                      # analysis groups, reference first
    values: dict[str, tuple[str, ...]]          # analysis group -> raw values (labels as written)
    labels: pd.Series                           # analysis group of every row (None where missing)
    n_missing: int                              # rows without a group value

    def counts(self) -> dict[str, int]:
        return {g: int((self.labels == g).sum()) for g in self.names}


def analysis_groups(frame: pd.DataFrame, column: str, levels: dict | None = None, *,
                    source: str = "data") -> AnalysisGroups:
    """Map every row to its analysis group (see module docstring); unlisted raw values are an error."""
    raw = frame[column].map(group_label)
    n_missing = int(raw.isna().sum())
    seen = list(dict.fromkeys(v for v in raw if v is not None))
    if levels:
        mapping = {group_label(v): name for name, vals in levels.items() for v in vals}
        unlisted = [v for v in seen if v not in mapping]
        if unlisted:
            shown = ", ".join(f"'{v}'" for v in unlisted[:5]) + (", ..." if len(unlisted) > 5 else "")
            raise DataError(f"{source}: {column}: value(s) {shown} are not in the spec's group_levels. "
                            "Fix: add each value to one of the groups in group_levels")
        names = tuple(levels)
        values = {name: tuple(group_label(v) for v in vals) for name, vals in levels.items()}
        labels = raw.map(lambda v: None if v is None else mapping[v])
    else:
        names = tuple(seen)
        values = {v: (v,) for v in seen}
        labels = raw
    return AnalysisGroups(column, names, values, labels, n_missing)
