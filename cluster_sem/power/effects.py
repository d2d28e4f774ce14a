"""What the power study measures: every structural path ``TO~FROM`` and every named indirect effect.

Each effect knows where its estimate lives (a free parameter, or a ``:=`` row), its population value on the
fitted model's scale (see :mod:`.population`), its standardized population value and the direction the
spec hypothesises (a path's ``expect``; an indirect effect's sign is the product of its paths' signs).
Interactions are not simulated by this version's population model, so none are listed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.partable import ParTable
from ..spec.schema import Spec

SIGNS = {"positive": 1, "negative": -1, "nonzero": 0}


@dataclass(frozen=True)
class Effect:
    name: str                  # "CE~IOL" or the indirect effect's name
    kind: str                  # "path" | "indirect" | "interaction"
    index: int                 # free-parameter index (path) or defined-parameter index (indirect)
    direction: int             # +1, -1, or 0 (either sign counts)
    population: float
    population_std: float
    hypothesis: str | None


def list_effects(spec: Spec, pt: ParTable, theta_pop: np.ndarray, defined_pop: np.ndarray,
                 std_rows: np.ndarray, defined_std: np.ndarray) -> list[Effect]:
    rows = {(p.lhs, p.op, p.rhs): (r, p) for r, p in enumerate(pt.params)}
    out: list[Effect] = []
    direction: dict[tuple[str, str], int] = {}
    for path in spec.paths:
        for x in path.from_:
            r, p = rows[(path.to, "~", x)]
            sign = SIGNS[path.expect]
            direction[(x, path.to)] = sign
            out.append(Effect(f"{path.to}~{x}", "path", p.free, sign, float(theta_pop[p.free]), float(std_rows[r]),
                              path.hypothesis_for(x)))
    names = [row.lhs for row in pt.defined]
    for ind in spec.indirect:
        d = names.index(ind.name)
        sign = int(np.prod([direction.get((a, b), 0) for a, b in zip(ind.path, ind.path[1:])]))
        out.append(Effect(ind.name, "indirect", d, sign, float(defined_pop[d]), float(defined_std[d]),
                          ind.hypothesis))
    return out
