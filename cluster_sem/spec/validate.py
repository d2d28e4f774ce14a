"""Whole-spec checks: references between keys, identification minima, cycles, scales.

Each check returns problem lines in the loader's format (``FILE: key.path: what. Fix: how``) so the user
sees every problem at once; warnings (valid but questionable) are returned separately.
"""
from __future__ import annotations

import difflib
import re

from .schema import Spec

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def spec_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    P: list[str] = []
    W: list[str] = []
    constructs = spec.constructs
    first = spec.first_order

    if spec.scale.min >= spec.scale.max:
        P.append(f"{src}: scale: min ({spec.scale.min}) must be below max ({spec.scale.max}). Fix: e.g. scale: {{min: 1, max: 5}}")

    # constructs and items
    seen_items: dict[str, str] = {}
    for name, c in constructs.items():
        key = f"constructs.{name}"
        if not _IDENT.match(name):
            P.append(f"{src}: {key}: '{name}' is not a valid construct name. Fix: use letters, digits and _ (not starting with a digit)")
        if c.items is not None and c.dimensions is not None:
            P.append(f"{src}: {key}: has both 'items' and 'dimensions'. Fix: keep 'items' (first-order) or 'dimensions' (second-order), not both")
            continue
        if c.items is None and c.dimensions is None:
            P.append(f"{src}: {key}: has neither 'items' nor 'dimensions'. Fix: list its items (or its dimensions for a second-order construct)")
            continue
        if c.items is not None:
            if len(c.items) < 2:
                P.append(f"{src}: {key}.items: {len(c.items)} item(s); a construct needs at least 3 (2 with a warning). Fix: add items or model it as an observed variable")
            elif len(c.items) == 2:
                W.append(f"{src}: {key}.items: only 2 items; the construct is identified only through its correlations with others")
            for i, it in enumerate(c.items):
                ikey = f"{key}.items[{i}]"
                if not _IDENT.match(it.id):
                    P.append(f"{src}: {ikey}.id: '{it.id}' is not a valid column name for the model. Fix: use letters, digits and _")
                if it.id in seen_items:
                    P.append(f"{src}: {ikey}.id: item '{it.id}' is already used in construct {seen_items[it.id]}. Fix: an item measures one construct; rename or remove one")
                seen_items.setdefault(it.id, name)
                if it.id in constructs:
                    P.append(f"{src}: {ikey}.id: '{it.id}' is also a construct name. Fix: rename the item or the construct")
                if it.scale and it.scale.min >= it.scale.max:
                    P.append(f"{src}: {ikey}.scale: min ({it.scale.min}) must be below max ({it.scale.max}). Fix: swap or correct them")
        if c.dimensions is not None:
            if len(c.dimensions) < 2:
                P.append(f"{src}: {key}.dimensions: a second-order construct needs at least 2 dimensions (3 for identification on its own). Fix: add dimensions")
            elif len(c.dimensions) == 2:
                W.append(f"{src}: {key}.dimensions: only 2 dimensions; the second-order construct is identified only through its structural paths")
            for i, d in enumerate(c.dimensions):
                if d not in constructs:
                    P.append(f"{src}: {key}.dimensions[{i}]: unknown construct '{d}'{_suggest(d, constructs)}. Fix: name a first-order construct defined under 'constructs'")
                elif d not in first:
                    P.append(f"{src}: {key}.dimensions[{i}]: '{d}' is itself second-order. Fix: dimensions must be first-order constructs")
    owners: dict[str, str] = {}
    for name, c in spec.second_order.items():
        for d in c.dimensions or ():
            if d in owners:
                P.append(f"{src}: constructs.{name}.dimensions: '{d}' is already a dimension of {owners[d]}. Fix: a dimension belongs to one second-order construct")
            owners[d] = name

    # missing codes outside every item's scale
    for j, code in enumerate(spec.missing_codes):
        for item_id, it in spec.items.items():
            sc = it.scale or spec.scale
            if sc.min <= code <= sc.max:
                P.append(f"{src}: missing_codes[{j}]: {code:g} lies inside the scale {sc.min}..{sc.max}"
                         f"{'' if it.scale is None else f' of item {item_id}'}, so real answers would be erased. Fix: use a code outside the scale, e.g. 99")
                break

    # id, group, controls
    names = set(constructs) | set(seen_items)
    for key, col in (("id", spec.id), ("group", spec.group)):
        if col is not None and col in names:
            P.append(f"{src}: {key}: '{col}' is also an item or construct. Fix: name the {key} column differently")
    for i, col in enumerate(spec.controls):
        if col in names:
            P.append(f"{src}: controls[{i}]: '{col}' is also an item or construct. Fix: controls are extra observed columns")
        if not _IDENT.match(col):
            P.append(f"{src}: controls[{i}]: '{col}' is not a valid column name for the model. Fix: use letters, digits and _")
    if len(set(spec.controls)) != len(spec.controls):
        P.append(f"{src}: controls: a control is listed twice. Fix: list each once")

    # paths
    declared: set[tuple[str, str]] = set()
    for i, p in enumerate(spec.paths):
        key = f"paths[{i}]"
        if p.to not in constructs:
            P.append(f"{src}: {key}.to: unknown construct '{p.to}'{_suggest(p.to, constructs)}. Fix: use a name defined under 'constructs'")
        for j, x in enumerate(p.from_):
            if x not in constructs:
                P.append(f"{src}: {key}.from[{j}]: unknown construct '{x}'{_suggest(x, constructs)}. Fix: use a name defined under 'constructs' (controls go under 'controls')")
            if x == p.to:
                P.append(f"{src}: {key}.from[{j}]: '{x}' cannot predict itself. Fix: remove it")
            if (x, p.to) in declared:
                P.append(f"{src}: {key}.from[{j}]: the path {x} -> {p.to} is declared twice. Fix: declare each path once")
            declared.add((x, p.to))
        if isinstance(p.hypothesis, dict):
            for h in p.hypothesis:
                if h not in p.from_:
                    P.append(f"{src}: {key}.hypothesis.{h}: '{h}' is not a predictor of this path{_suggest(h, p.from_)}. Fix: key the mapping by names in 'from'")
    if not spec.allow_cycles:
        cycle = _find_cycle(declared)
        if cycle:
            P.append(f"{src}: paths: the paths form a cycle {' -> '.join(cycle)}. Fix: remove a path, or set allow_cycles: true for a non-recursive model")

    # covariances
    valid = set(constructs) | set(seen_items)
    for i, pair in enumerate(spec.covariances):
        a, b = pair
        for j, v in enumerate(pair):
            if v not in valid:
                P.append(f"{src}: covariances[{i}][{j}]: unknown construct or item '{v}'{_suggest(v, valid)}. Fix: name two constructs or two items")
        if a == b:
            P.append(f"{src}: covariances[{i}]: '{a}' with itself. Fix: a covariance needs two different names")
        elif (a in constructs) != (b in constructs) and a in valid and b in valid:
            P.append(f"{src}: covariances[{i}]: mixes a construct and an item. Fix: two constructs or two items")

    # indirect effects
    seen_names: set[str] = set()
    for i, ind in enumerate(spec.indirect):
        key = f"indirect[{i}]"
        if not _IDENT.match(ind.name):
            P.append(f"{src}: {key}.name: '{ind.name}' is not a valid name. Fix: use letters, digits and _")
        if ind.name in seen_names or ind.name in valid:
            P.append(f"{src}: {key}.name: '{ind.name}' is already used. Fix: give each indirect effect a unique name")
        seen_names.add(ind.name)
        for j, c in enumerate(ind.path):
            if c not in constructs:
                P.append(f"{src}: {key}.path[{j}]: unknown construct '{c}'{_suggest(c, constructs)}. Fix: use constructs defined under 'constructs'")
        for a, b in zip(ind.path, ind.path[1:]):
            if a in constructs and b in constructs and (a, b) not in declared:
                P.append(f"{src}: {key}.path: the link {a} -> {b} is not a declared path. Fix: add {{to: {b}, from: [{a}]}} to 'paths'")

    # hypotheses referenced but not described are fine; population
    if spec.population is not None:
        P += _population_problems(spec, src)
    return P, W


def _find_cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt, stack + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if state.get(start) is None:
            found = visit(start, [start])
            if found:
                return found
    return None


def _population_problems(spec: Spec, src: str) -> list[str]:
    pop = spec.population
    P = []
    items, constructs = spec.items, spec.constructs
    for item, v in pop.loadings.items():
        if item not in items:
            P.append(f"{src}: population.loadings.{item}: unknown item{_suggest(item, items)}. Fix: use item ids of the constructs")
        if not -1 < v < 1:
            P.append(f"{src}: population.loadings.{item}: {v} is not a standardized loading. Fix: use a value in (-1, 1)")
    for d, v in pop.dimension_loadings.items():
        if d not in constructs:
            P.append(f"{src}: population.dimension_loadings.{d}: unknown construct{_suggest(d, constructs)}. Fix: use a dimension of a second-order construct")
        if not -1 < v < 1:
            P.append(f"{src}: population.dimension_loadings.{d}: {v} is not a standardized loading. Fix: use a value in (-1, 1)")
    for to, preds in pop.paths.items():
        for x in [to, *preds]:
            if x not in constructs:
                P.append(f"{src}: population.paths.{to}: unknown construct '{x}'{_suggest(x, constructs)}. Fix: use construct names")
    n_cat = spec.scale.max - spec.scale.min
    th = pop.thresholds
    lists = th.items() if isinstance(th, dict) else ([("(all items)", th)] if th is not None else [])
    for name, cuts in lists:
        if len(cuts) != n_cat:
            P.append(f"{src}: population.thresholds: {name} has {len(cuts)} cut points but the scale has {n_cat + 1} categories. Fix: give {n_cat} increasing values")
        elif list(cuts) != sorted(cuts) or len(set(cuts)) != len(cuts):
            P.append(f"{src}: population.thresholds: {name} cut points must increase. Fix: sort them")
    for g, size in pop.groups.items():
        if size <= 0:
            P.append(f"{src}: population.groups.{g}: size {size} must be positive. Fix: give a positive number of cases")
    if pop.groups and not spec.group:
        P.append(f"{src}: population.groups: given but the spec has no 'group' column. Fix: add group: region (or remove population.groups)")
    return P
