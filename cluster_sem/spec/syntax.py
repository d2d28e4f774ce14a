"""Spec → lavaan model syntax, deterministically (same spec, same text).

Two models are written (Anderson & Gerbing's two-step approach):
* ``measurement_syntax``: every first-order construct measured by its items, all of them correlated
  (written explicitly, so semopy and lavaan read the same model), plus item residual covariances.
* ``structural_syntax``: first-order measurement, second-order constructs (``IOL =~ KA + KS + KC``),
  labelled regressions (label ``b_<from>_<to>``), controls regressed into every endogenous construct,
  covariances among exogenous constructs, residual covariances, and ``:=`` indirect and total effects.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from .schema import Spec


@dataclass(frozen=True)
class DefinedEffect:
    """A ``:=`` parameter: a named indirect effect or the total effect of X on Y."""

    name: str
    kind: str                              # "indirect" | "total"
    path: tuple[str, ...]                  # indirect: the chain; total: (X, Y)
    expression: str
    chains: tuple[tuple[str, ...], ...]    # products of labels that are summed


def path_label(frm: str, to: str) -> str:
    """Label of the regression ``to ~ frm``; the ``:=`` effects multiply these."""
    return f"b_{frm}_{to}"


def endogenous_constructs(spec: Spec) -> list[str]:
    """Outcomes of structural paths, in order of first appearance (controls are regressed into these)."""
    return list(dict.fromkeys(p.to for p in spec.paths))


def exogenous_constructs(spec: Spec) -> list[str]:
    """Constructs that are never an outcome and not a dimension of a second-order construct (spec order).

    Isolated constructs count too: lavaan correlates every exogenous latent by default, and writing the
    covariances explicitly makes semopy estimate the same model.
    """
    endo = set(endogenous_constructs(spec))
    dims = {d for c in spec.second_order.values() for d in (c.dimensions or ())}
    return [c for c in spec.constructs if c not in endo and c not in dims]


def _measurement_lines(spec: Spec) -> list[str]:
    return [f"{name} =~ {' + '.join(spec.items_of(name))}" for name in spec.first_order]


def _item_covariances(spec: Spec) -> list[str]:
    return [f"{a} ~~ {b}" for a, b in spec.covariances if a in spec.items and b in spec.items]


def measurement_syntax(spec: Spec) -> str:
    """CFA of every first-order construct, all pairs correlated, plus item residual covariances."""
    lines = _measurement_lines(spec)
    lines += [f"{a} ~~ {b}" for a, b in combinations(spec.first_order, 2)]
    lines += _item_covariances(spec)
    return "\n".join(lines) + "\n"


def _successors(spec: Spec) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for p in spec.paths:
        for x in p.from_:
            graph.setdefault(x, []).append(p.to)
    return graph


def _all_chains(spec: Spec, x: str, y: str) -> list[tuple[str, ...]]:
    """Every directed path from x to y (the path graph is acyclic unless allow_cycles)."""
    graph, out = _successors(spec), []

    def walk(node: str, chain: tuple[str, ...]) -> None:
        for nxt in graph.get(node, []):
            if nxt in chain:
                continue
            if nxt == y:
                out.append(chain + (nxt,))
            else:
                walk(nxt, chain + (nxt,))

    walk(x, (x,))
    return sorted(out, key=lambda c: (len(c), c))  # direct effect first, then shorter chains


def _product(chain: tuple[str, ...]) -> str:
    return "*".join(path_label(a, b) for a, b in zip(chain, chain[1:]))


def defined_effects(spec: Spec) -> list[DefinedEffect]:
    """Every named indirect effect, then one total effect per distinct (X, Y) of the indirect effects.

    The total is the direct label (if declared) plus the product of labels along *every* directed chain
    X -> ... -> Y of the path graph, not only the chains named in ``indirect``.
    """
    effects = [DefinedEffect(ind.name, "indirect", tuple(ind.path), _product(tuple(ind.path)), (tuple(ind.path),))
               for ind in spec.indirect]
    taken = {e.name for e in effects}
    for x, y in dict.fromkeys((ind.path[0], ind.path[-1]) for ind in spec.indirect):
        chains = tuple(_all_chains(spec, x, y))
        name = f"total_{x}_{y}"
        while name in taken:
            name += "_"
        taken.add(name)
        effects.append(DefinedEffect(name, "total", (x, y), " + ".join(_product(c) for c in chains), chains))
    return effects


def structural_syntax(spec: Spec, with_defined: bool = True) -> str:
    """The spec's structural model; ``with_defined=False`` drops the ``:=`` lines (semopy cannot read them)."""
    lines = _measurement_lines(spec)
    lines += [f"{name} =~ {' + '.join(c.dimensions or ())}" for name, c in spec.second_order.items()]
    predictors: dict[str, list[str]] = {}
    for p in spec.paths:
        predictors.setdefault(p.to, []).extend(x for x in p.from_ if x not in predictors.get(p.to, []))
    for to, xs in predictors.items():
        terms = [f"{path_label(x, to)}*{x}" for x in xs] + list(spec.controls)
        lines.append(f"{to} ~ {' + '.join(terms)}")
    exo_pairs = list(combinations(exogenous_constructs(spec), 2))
    lines += [f"{a} ~~ {b}" for a, b in exo_pairs]
    written = {frozenset(p) for p in exo_pairs}
    lines += [f"{a} ~~ {b}" for a, b in spec.covariances
              if a in spec.constructs and b in spec.constructs and frozenset((a, b)) not in written]
    lines += _item_covariances(spec)
    if with_defined:
        lines += [f"{e.name} := {e.expression}" for e in defined_effects(spec)]
    return "\n".join(lines) + "\n"
