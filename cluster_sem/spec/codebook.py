"""Codebook view of the spec: one row per item, in questionnaire order (what a methods appendix lists)."""
from __future__ import annotations

import pandas as pd

from .schema import Spec


def codebook(spec: Spec) -> pd.DataFrame:
    parent = {d: name for name, c in spec.second_order.items() for d in (c.dimensions or ())}
    rows = []
    for name, c in spec.first_order.items():
        for it in c.items or ():
            sc = it.scale or spec.scale
            rows.append({"construct": name, "construct_label_en": c.label.en or "", "construct_label_zh": c.label.zh or "",
                         "second_order": parent.get(name, ""), "item": it.id, "text_en": it.text.en or "",
                         "text_zh": it.text.zh or "", "reverse": it.reverse, "scale_min": sc.min, "scale_max": sc.max})
    return pd.DataFrame(rows)
