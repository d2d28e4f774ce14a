"""How a raw group value is written as a group label (spec ``group_levels`` and the data's group column).

Why normalised: a CSV column of codes 1/2/3 with one blank cell is read as floats, and a user who wrote "1"
must see "1", never "1.0"; and "Café" typed on a Mac (e + combining accent) and on Windows (é) print alike
but differ as strings, which would make two groups with one displayed name.  The spec checks
(``validate.py``) and the data layer (``data/groups.py``) read values through this one function.
"""
from __future__ import annotations

import math
import unicodedata


def group_label(value) -> str | None:
    """The text of a raw group value as written; None for a missing value."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


__all__ = ["group_label"]
