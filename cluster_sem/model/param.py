"""One parameter row, from the user's syntax to the completed lavaan table.

``parse_syntax`` writes the user's rows (``value`` = a number the user fixed, ``line`` = where it was
written); ``build_partable`` completes them with lavaan's defaults and numbers the free ones (``free``);
``build_group_partable`` copies them per group (``group``, ``unco``).  Each stage fills fields of the same
frozen row with ``dataclasses.replace`` instead of re-describing the row in its own shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Param:
    lhs: str
    op: str
    rhs: str
    label: str = ""
    free: int = -1          # index into the free-parameter vector, -1 when fixed (or not numbered yet)
    value: float | None = None  # fixed value (None: free, or taken from the sample for fixed.x rows)
    user: bool = True
    exo: bool = False        # fixed.x (co)variance (or mean) of observed covariates
    group: int = 0           # block index (0 = first/reference group); single-group tables use 0 only
    unco: int = -1           # index among the free rows *before* equality constraints (lavaan's "unco")
    line: int = field(default=0, compare=False)   # syntax line the user wrote it on (0: a default row)

    @property
    def fixed(self) -> float | None:
        """The value the user fixed in the syntax (``1*x``), None when free: the parser's name for ``value``."""
        return self.value


__all__ = ["Param"]
