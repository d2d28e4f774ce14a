"""R² of every endogenous variable, as lavaan's ``lavInspect(fit, "r2")`` (``lav_object_inspect_rsquare``).

The endogenous variables are the indicators (``rhs`` of ``=~``) and the outcomes (``lhs`` of ``~``); each
one's R² is 1 − the standardized (std.all) residual variance of its ``~~`` row, in parameter-table order.
A value above 1 (a negative residual variance, a Heywood case) is not a proportion and is reported as None,
as lavaan reports NA.  The parameter table already carries std.all, so R² needs nothing from the fit itself
and is the same number lavaan's ``summary(fit, rsquare = TRUE)`` prints.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping


def _value(std_all) -> float | None:
    """1 − std.all, None for a missing std.all or an R² above 1."""
    if std_all is None or not math.isfinite(float(std_all)):
        return None
    r2 = 1.0 - float(std_all)
    return None if r2 > 1.0 else r2


def _block(rows: list[Mapping]) -> dict[str, float | None]:
    """R² of one group's rows (lavaan's block)."""
    endogenous = {r["rhs"] for r in rows if r["op"] == "=~"} | {r["lhs"] for r in rows if r["op"] == "~"}
    return {r["lhs"]: _value(r.get("std_all")) for r in rows
            if r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in endogenous}


def r_squared(parameters: Iterable[Mapping]) -> dict:
    """``{variable: R²}``; with a ``group`` column in the rows ``{group: {variable: R²}}`` (groups in order)."""
    rows = list(parameters)
    if not any(r.get("group") is not None for r in rows):
        return _block(rows)
    groups = list(dict.fromkeys(r.get("group") for r in rows))
    return {g: _block([r for r in rows if r.get("group") == g]) for g in groups}


__all__ = ["r_squared"]
