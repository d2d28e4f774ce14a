"""Observed categories of ordinal items: coding answers as 0…K−1 over the categories somebody chose.

Why "observed": lavaan turns an ordered item into an R factor whose levels are the values present in the
data, so a category nobody chose simply does not exist — an item answered only with 1, 2, 4, 5 has three
thresholds (between 1|2, 2|4, 4|5), not four.  We do the same.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import FitError


def threshold_names(items, n_categories) -> list[tuple[str, str]]:
    """(item, "t1"…"t{K−1}") of every threshold in lavaan's order: what the sample statistics and the
    multigroup layout both name their thresholds by."""
    return [(item, f"t{t}") for item, k in zip(items, n_categories) for t in range(1, k)]


@dataclass(frozen=True)
class Coding:
    """Integer codes (n × p, 0-based) and the observed category values of each item."""

    items: tuple[str, ...]
    levels: tuple[tuple[float, ...], ...]
    codes: np.ndarray

    @property
    def n_categories(self) -> np.ndarray:
        return np.array([len(lv) for lv in self.levels])

    @property
    def k_max(self) -> int:
        return int(self.n_categories.max())

    def counts(self) -> np.ndarray:
        """Category counts, shape (p, k_max)."""
        out = np.zeros((len(self.items), self.k_max))
        for v in range(len(self.items)):
            out[v] = np.bincount(self.codes[:, v], minlength=self.k_max)
        return out


def code_items(frame: pd.DataFrame, items: list[str] | tuple[str, ...]) -> Coding:
    """Code each item's answers by rank among its observed values (lavaan's ``ordered()`` levels)."""
    levels, cols = [], []
    for item in items:
        x = frame[item].to_numpy(dtype=float)
        lv = np.unique(x)
        if len(lv) < 2:
            raise FitError(f"item '{item}' has a single observed category ({lv[0]:g}); an ordinal item needs "
                           "at least two. Fix: drop the item from the model")
        levels.append(tuple(float(v) for v in lv))
        cols.append(np.searchsorted(lv, x))
    return Coding(tuple(items), tuple(levels), np.column_stack(cols).astype(int))


def category_counts(frame: pd.DataFrame, items) -> dict[str, dict[float, int]]:
    """Observed count of every answer value of every item (for the estimator-choice note)."""
    return {i: {float(k): int(v) for k, v in frame[i].value_counts().sort_index().items()} for i in items}


def check_group_categories(frame: pd.DataFrame, items, group: str, source: str = "data") -> None:
    """Multigroup WLSMV needs every category of an item in every group (thresholds are per group and,
    under invariance, equal across groups; a category nobody in one group chose has no threshold there).

    Raises a one-line ``DataError`` naming item, group and category of the first empty cell, how many
    more there are, and one ``recode:`` that collapses all of them (each into its nearest used category).
    """
    from ...errors import DataError
    empty: list[tuple[str, str, float, float]] = []
    for item in items:
        used = np.unique(frame[item].dropna().to_numpy(dtype=float))
        for g, part in frame.groupby(group, sort=True):
            present = set(np.unique(part[item].dropna().to_numpy(dtype=float)))
            for v in (u for u in used if u not in present):
                near = used[np.argmin([abs(u - v) if u != v else np.inf for u in used])]
                empty.append((item, str(g), float(v), float(near)))
    if not empty:
        return
    item, g, v, _ = empty[0]
    fix: dict[str, dict[float, float]] = {}
    for it, _, cat, near in empty:
        fix.setdefault(it, {})[cat] = near
    recode = ", ".join(f"{it}: {{{', '.join(f'{a:g}: {b:g}' for a, b in m.items())}}}" for it, m in fix.items())
    more = f" ({len(empty) - 1} more empty item/group categories)" if len(empty) > 1 else ""
    raise DataError(
        f"{source}: {item}: category {v:g} is used in other groups but nobody in group '{g}' chose it{more} "
        f"(WLSMV estimates thresholds per group). Fix: collapse it into a neighbouring category in the spec, "
        f"e.g. recode: {{{recode}}}")
