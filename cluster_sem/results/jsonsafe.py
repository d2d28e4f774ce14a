"""Numbers as results.json / power.json hold them: the one conversion every document writer uses.

Why: JSON has no NaN or ±inf (``Results.to_json`` writes with ``allow_nan=False``), and numpy scalars are
not JSON types.  A value lavaan would print as NA is therefore written as null, and numpy scalars become
the Python bool / int / float they stand for, so the same numbers always serialise to the same bytes.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def json_float(x: Any) -> float | None:
    """``x`` as a float, or None for None, NaN and ±inf (an integer count becomes a float too)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def json_value(x: Any) -> Any:
    """Numpy scalars → Python (bool, int, float); NaN/±inf → None; anything else unchanged (ints stay ints)."""
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return json_float(x)
    return x


def json_safe(value: Any) -> Any:
    """Nested dicts/lists with every number through ``json_value`` (keys as text): for blocks built as nested
    records (modification indices, comparisons, the common-method battery)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return json_value(value)


def json_mapping(d: Mapping) -> dict:
    """A flat record with every value through ``json_value``."""
    return {k: json_value(v) for k, v in d.items()}


def json_records(df: pd.DataFrame) -> list[dict]:
    """A table as one JSON record per row (column → value)."""
    return [json_mapping(row) for row in df.to_dict(orient="records")]


def json_fit(fit: Mapping, number=json_value) -> dict:
    """A fit-measure dictionary: scalars through ``number``, list values (e.g. the RMSEA CI) element-wise."""
    return {k: ([number(v) for v in val] if isinstance(val, list) else number(val)) for k, val in fit.items()}


__all__ = ["json_float", "json_value", "json_safe", "json_mapping", "json_records", "json_fit"]
