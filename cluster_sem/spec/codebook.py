"""Codebook view of the spec: one row per item, in questionnaire order (what a methods appendix lists).

``second_order`` names the parent of the item's construct ("" for none) so the table keeps the
hierarchy without adding rows that are not data columns.
"""
from __future__ import annotations

import pandas as pd

from .schema import Spec

COLUMNS = ["construct", "construct_label_en", "construct_label_zh", "item", "text_en", "text_zh",
           "reverse", "scale_min", "scale_max", "second_order"]


def codebook(spec: Spec) -> pd.DataFrame:
    """One row per item: construct, labels, wording, reverse key, the item's effective scale, parent."""
    parent = {d: name for name, c in spec.second_order.items() for d in (c.dimensions or ())}
    rows = []
    for name, c in spec.first_order.items():
        for it in c.items or ():
            sc = it.scale or spec.scale
            rows.append([name, c.label.en or "", c.label.zh or "", it.id, it.text.en or "", it.text.zh or "",
                         it.reverse, sc.min, sc.max, parent.get(name, "")])
    return pd.DataFrame(rows, columns=COLUMNS)
