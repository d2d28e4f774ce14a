"""What the power study measures: every structural path ``TO~FROM``, every named indirect effect and every
latent interaction.

Each effect knows where its estimate lives (a free parameter of the linear model, a ``:=`` row, or the
product coefficient of the interaction model), its population value on the fitted model's scale (see
:mod:`.population` and :mod:`.interaction`), its standardized population value and the direction tested.

Direction (what "significant" means):
* a path counts as hypothesised in a direction when its predictor names a hypothesis, or the path
  statement sets ``expect`` explicitly; then the two-sided Wald test at ``alpha`` must be significant
  *with the expected sign* (``expect: nonzero``: either sign);
* a path without either (e.g. a control-like direct effect DF → CE written only to be estimated) is tested
  two-sided: either sign counts.  The spec's default ``expect: positive`` is a default for judging
  hypotheses, not a claim about an unhypothesised path — taking it would give a negative population path
  a "power" of ≈ 0;
* an indirect effect: the product of its paths' directions (two-sided as soon as one path is);
* an interaction: its ``expect`` (default nonzero, i.e. two-sided).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.partable import ParTable
from ..spec.schema import Path, Spec

SIGNS = {"positive": 1, "negative": -1, "nonzero": 0}


@dataclass(frozen=True)
class Effect:
    name: str                  # "CE~IOL", the indirect effect's name or the interaction's name
    kind: str                  # "path" | "indirect" | "interaction"
    index: int                 # free-parameter index (path, interaction) or defined-parameter index (indirect)
    direction: int             # +1, -1, or 0 (either sign counts)
    population: float
    population_std: float
    hypothesis: str | None


def path_direction(path: Path, predictor: str) -> int:
    """+1/−1 when the path to ``predictor`` is hypothesised in that direction, 0 (two-sided) otherwise."""
    if path.hypothesis_for(predictor) is None and "expect" not in path.model_fields_set:
        return 0
    return SIGNS[path.expect]


def interaction_directions(spec: Spec) -> dict[str, int]:
    return {it.name: SIGNS[it.expect] for it in spec.interactions}


def list_effects(spec: Spec, pt: ParTable, theta_pop: np.ndarray, defined_pop: np.ndarray,
                 std_rows: np.ndarray, defined_std: np.ndarray, interactions: tuple = ()) -> list[Effect]:
    """Paths and indirect effects of the linear model, then ``interactions`` (``ProductTerm`` records)."""
    rows = {(p.lhs, p.op, p.rhs): (r, p) for r, p in enumerate(pt.params)}
    out: list[Effect] = []
    direction: dict[tuple[str, str], int] = {}
    for path in spec.paths:
        for x in path.from_:
            r, p = rows[(path.to, "~", x)]
            sign = path_direction(path, x)
            direction[(x, path.to)] = sign
            out.append(Effect(f"{path.to}~{x}", "path", p.free, sign, float(theta_pop[p.free]), float(std_rows[r]),
                              path.hypothesis_for(x)))
    names = [row.lhs for row in pt.defined]
    for ind in spec.indirect:
        d = names.index(ind.name)
        sign = int(np.prod([direction.get((a, b), 0) for a, b in zip(ind.path, ind.path[1:])]))
        out.append(Effect(ind.name, "indirect", d, sign, float(defined_pop[d]), float(defined_std[d]),
                          ind.hypothesis))
    for term in interactions:
        out.append(Effect(term.name, "interaction", term.index, term.direction, term.population,
                          term.population_std, term.hypothesis))
    return out
