"""Whole-spec checks: references between keys, identification minima, cycles, scales, population values.

pydantic (``schema.py``) only checks the shape of each key; everything that needs two keys at once lives
here.  Each check returns typed ``Problem``s (file, key path, what, fix; their text is the loader's line
``FILE: key.path: what. Fix: how``) so the user sees every problem in one run and the loader can add line
numbers from the key path; warnings (valid but questionable) are returned separately.
Names become lavaan syntax, hence the identifier rule.
"""
from __future__ import annotations

import difflib
import re
from graphlib import CycleError, TopologicalSorter

from ..errors import ClusterSemError
from .problems import Problem
from .schema import Spec

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IDENT_FIX = "use letters, digits and _ only, not starting with a digit (the name becomes lavaan syntax)"


def _suggest(name: str, choices) -> str:
    """`` (did you mean 'X'?)`` for the closest name: same name in other case first, then difflib."""
    name, pool = str(name), [str(c) for c in choices]
    same = [c for c in pool if c.lower() == name.lower()]
    # short construct names (TS, RQ) differ by one letter at ratio 0.5, below difflib's default 0.6
    close = same or difflib.get_close_matches(name, pool, n=3, cutoff=0.5 if len(name) <= 3 else 0.6)
    if not close:
        return ""
    best = next((c for c in close if c[:1].lower() == name[:1].lower()), close[0])
    return f" (did you mean '{best}'?)"


class IdentificationProblem(Problem):
    """A factor-model identification problem (one item) or warning (two items or dimensions): it concerns
    CFA/SEM only.  In PLS a construct is a weighted sum of its items, identified with any number of them, so
    ``spec_problems(..., pls=True)`` drops these."""


def spec_problems(spec: Spec, src: str, *, pls: bool = False) -> tuple[list[str], list[str]]:
    """``(problems, warnings)`` for a spec that already has the right shape (``pls``: read for
    ``cluster-sem pls``, without the factor-model identification rules)."""
    problems: list[str] = []
    warns: list[str] = []
    for check in (_scale_problems, _construct_problems, _column_problems, _path_problems,
                  _covariance_problems, _indirect_problems, _interaction_problems, _population_problems,
                  _recode_problems, _levels_problems):
        if not spec.constructs and check not in (_scale_problems, _construct_problems):
            break  # every later check would only repeat "unknown construct": report the root problem alone
        p, w = check(spec, src)
        problems += [x for x in p if not (pls and isinstance(x, IdentificationProblem))]
        warns += [x for x in w if not (pls and isinstance(x, IdentificationProblem))]
    return problems, warns


def _scale_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    P: list[str] = []
    if spec.scale.min >= spec.scale.max:
        P.append(Problem(src, "scale", f"min ({spec.scale.min}) must be below max ({spec.scale.max})",
                         "e.g. scale: {min: 1, max: 7}"))
    for name, c in spec.first_order.items():
        for i, it in enumerate(c.items or ()):
            if it.scale and it.scale.min >= it.scale.max:
                P.append(Problem(src, f"constructs.{name}.items[{i}].scale",
                                 f"min ({it.scale.min}) must be below max ({it.scale.max})",
                                 "swap or correct them"))
    for j, code in enumerate(spec.missing_codes):
        for item_id, it in spec.items.items():
            sc = it.scale or spec.scale
            if sc.min <= code <= sc.max:
                of = "" if it.scale is None else f" of item {item_id}"
                P.append(Problem(src, f"missing_codes[{j}]",
                                 f"{code:g} lies inside the scale {sc.min}..{sc.max}{of}, so real answers would "
                                 "be erased",
                                 "use a code outside every item's scale, e.g. 99"))
                break
    if len(set(spec.missing_codes)) != len(spec.missing_codes):
        P.append(Problem(src, "missing_codes", "a code is listed twice", "list each code once"))
    return P, []


def _construct_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    """Names, items and dimensions of every construct, then dimensions shared by second-order constructs."""
    P: list[str] = []
    W: list[str] = []
    constructs, first = spec.constructs, spec.first_order
    if not constructs:
        P.append(Problem(src, "constructs", "no constructs are defined",
                         "add at least one, e.g. TS: {items: [ts1, ts2, ts3]}"))
    seen_items: dict[str, str] = {}
    for name, c in constructs.items():
        key = f"constructs.{name}"
        if not _IDENT.match(name):
            P.append(Problem(src, key, f"'{name}' is not a valid construct name", _IDENT_FIX))
        if not _has_one_kind(P, src, key, c):
            continue
        if c.items is not None:
            _item_problems(P, W, src, key, name, c.items, constructs, seen_items)
        if c.dimensions is not None:
            _dimension_problems(P, W, src, key, c.dimensions, constructs, first)
    _shared_dimension_problems(P, spec, src)
    return P, W


def _has_one_kind(P: list, src: str, key: str, c) -> bool:
    """A construct is first-order (items) or second-order (dimensions): exactly one of the two."""
    if c.items is not None and c.dimensions is not None:
        P.append(Problem(src, key, "has both 'items' and 'dimensions'",
                         "keep 'items' (first-order) or 'dimensions' (second-order), not both"))
        return False
    if c.items is None and c.dimensions is None:
        P.append(Problem(src, key, "has neither 'items' nor 'dimensions'",
                         "list its items (or its dimensions for a second-order construct)"))
        return False
    return True


def _item_problems(P: list, W: list, src: str, key: str, name: str, items, constructs,
                   seen_items: dict[str, str]) -> None:
    """Item count, item ids, an item measuring two constructs (``seen_items``: item → first construct),
    an item named like a construct."""
    few = (IdentificationProblem if len(items) == 1 else Problem)(
        src, f"{key}.items", f"{len(items)} item(s); a construct needs at least 3 (2 with a warning)",
        "add items, or use the single column as a control (cluster-sem pls accepts one-item constructs)")
    two = IdentificationProblem(src, f"{key}.items", "only 2 items; the construct is identified only through its "
                  "correlations with other constructs", "add a third item if the questionnaire has one")
    _count_problems(P, W, few, two, len(items))
    for i, it in enumerate(items):
        ikey = f"{key}.items[{i}].id"
        if not _IDENT.match(it.id):
            P.append(Problem(src, ikey, f"'{it.id}' is not a valid item id",
                             f"{_IDENT_FIX}; rename the data column too"))
        if it.id in seen_items:
            where = "this construct" if seen_items[it.id] == name else f"construct {seen_items[it.id]}"
            P.append(Problem(src, ikey, f"item '{it.id}' is already used in {where}",
                             "an item measures one construct; rename or remove one"))
        seen_items.setdefault(it.id, name)
        if it.id in constructs:
            P.append(Problem(src, ikey, f"'{it.id}' is also a construct name",
                             "rename the item or the construct"))


def _dimension_problems(P: list, W: list, src: str, key: str, dimensions, constructs, first) -> None:
    """Dimension count; each dimension a known, first-order construct listed once."""
    _count_problems(P, W, Problem(src, f"{key}.dimensions", f"{len(dimensions)} dimension(s); a "
                                  "second-order construct needs at least 2 (3 to be identified on its own)",
                                  "add dimensions or use the construct as first-order"),
                    IdentificationProblem(src, f"{key}.dimensions", "only 2 dimensions; the second-order construct "
                                          "is under-identified without constraints and is identified only through "
                                          "its structural paths", "add a third dimension if the theory has one"),
                    len(dimensions))
    for i, d in enumerate(dimensions):
        if d not in constructs:
            P.append(Problem(src, f"{key}.dimensions[{i}]",
                             f"unknown construct '{d}'{_suggest(d, constructs)}",
                             "name a first-order construct defined under 'constructs'"))
        elif d not in first:
            P.append(Problem(src, f"{key}.dimensions[{i}]", f"'{d}' is itself second-order",
                             "dimensions must be first-order constructs (measured by items)"))
        if dimensions.index(d) != i:
            P.append(Problem(src, f"{key}.dimensions[{i}]", f"'{d}' is listed twice",
                             "list each dimension once"))


def _shared_dimension_problems(P: list, spec: Spec, src: str) -> None:
    """A first-order construct is a dimension of at most one second-order construct."""
    owners: dict[str, str] = {}
    for name, c in spec.second_order.items():
        for i, d in enumerate(c.dimensions or ()):
            if d in owners and owners[d] != name:
                P.append(Problem(src, f"constructs.{name}.dimensions[{i}]",
                                 f"'{d}' is already a dimension of {owners[d]}",
                                 "a first-order construct can be a dimension of only one second-order construct"))
            owners.setdefault(d, name)


def _count_problems(P: list, W: list, too_few: Problem, only_two: Problem, n: int) -> None:
    """Identification minimum of a list (items, dimensions): under 2 is a problem, exactly 2 a warning."""
    if n < 2:
        P.append(too_few)
    elif n == 2:
        W.append(only_two)


def _design_problems(spec: Spec, src: str, names: set[str]) -> list[str]:
    """``cluster`` and ``weights`` name data columns that are not part of the model."""
    P: list[str] = []
    for key, col in (("cluster", spec.cluster), ("weights", spec.weights)):
        if col is None:
            continue
        if col in names or col in spec.controls:
            kind = "a construct" if col in spec.constructs else "an item" if col in spec.items else "a control"
            P.append(Problem(src, key, f"'{col}' is also {kind}", f"the {key} column must be a column of its own"))
    if spec.cluster is not None and spec.cluster == spec.weights:
        P.append(Problem(src, "weights", f"'{spec.weights}' is also the cluster column",
                         "name the column of sampling weights, not the cluster column"))
    return P


def check_design_options(spec: Spec, cluster: str | None, weights: str | None) -> None:
    """``fit --cluster/--weights`` name their columns after the spec was checked: the spec keys' rules
    (a column of its own, cluster ≠ weights) apply to them too, named by the option.  Without this an item
    given as ``--cluster`` reached the data layer as a column missing from the cleaned frame (a KeyError
    traceback), and ``--weights`` naming the cluster column was refused as zero weights."""
    names = set(spec.constructs) | set(spec.items)
    for flag, col in (("--cluster", cluster), ("--weights", weights)):
        if col and (col in names or col in spec.controls):
            kind = "a construct" if col in spec.constructs else "an item" if col in spec.items else "a control"
            raise ClusterSemError(f"{flag} {col}: '{col}' is {kind} of the model. Fix: name a data column of "
                                  "its own (the firms' clusters or sampling weights), not a column the model uses")
    merged_cluster, merged_weights = cluster or spec.cluster, weights or spec.weights
    if merged_cluster and merged_cluster == merged_weights:
        flag = "--weights" if weights else "--cluster"
        raise ClusterSemError(f"{flag} {merged_cluster}: the same column would be the clusters and the sampling "
                              "weights. Fix: name the column of sampling weights with --weights and the cluster "
                              "column with --cluster")


def _column_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    """id, group and controls are data columns outside the measurement model: no clashes allowed."""
    P: list[str] = []
    names = set(spec.constructs) | set(spec.items)
    for key, col in (("id", spec.id), ("group", spec.group)):
        if col is not None and col in names:
            kind = "a construct" if col in spec.constructs else "an item"
            P.append(Problem(src, key, f"'{col}' is also {kind}", f"name the {key} column differently"))
        if col is not None and col in spec.controls:
            P.append(Problem(src, key, f"'{col}' is also a control", f"a column is either the {key} or a control"))
    if spec.id is not None and spec.id == spec.group:
        P.append(Problem(src, "group", f"'{spec.group}' is also the id column",
                         "the group column must differ from the id"))
    P += _group_level_problems(spec, src)
    P += _design_problems(spec, src, names)
    P += _marker_problems(spec, src)
    for i, col in enumerate(spec.controls):
        if col in names:
            kind = "a construct" if col in spec.constructs else "an item"
            P.append(Problem(src, f"controls[{i}]", f"'{col}' is also {kind}",
                             "controls are extra observed columns; remove it"))
        if not _IDENT.match(col):
            P.append(Problem(src, f"controls[{i}]", f"'{col}' is not a valid column name for the model", _IDENT_FIX))
        if spec.controls.index(col) != i:
            P.append(Problem(src, f"controls[{i}]", f"'{col}' is listed twice", "list each control once"))
    return P, []


def _marker_problems(spec: Spec, src: str) -> list[str]:
    """``method_marker`` items are extra columns: not an item, construct, control, id or group, each once."""
    P: list[str] = []
    taken = set(spec.constructs) | set(spec.items) | set(spec.controls) | {spec.id, spec.group}
    for i, col in enumerate(spec.method_marker):
        if col in taken:
            P.append(Problem(src, f"method_marker[{i}]", f"'{col}' is already used by the model",
                             "marker items are extra columns theoretically unrelated to the model; name one"))
        if not _IDENT.match(col):
            P.append(Problem(src, f"method_marker[{i}]", f"'{col}' is not a valid column name for the model",
                             _IDENT_FIX))
        if spec.method_marker.index(col) != i:
            P.append(Problem(src, f"method_marker[{i}]", f"'{col}' is listed twice", "list each marker item once"))
    if len(spec.method_marker) == 1:
        P.append(Problem(src, "method_marker", "one marker item cannot measure a marker factor",
                         "list at least two marker items (three are usual)"))
    return P


def _group_level_problems(spec: Spec, src: str) -> list[str]:
    """group_levels needs a group column, non-empty value lists, and each raw value in one group only."""
    if spec.group_levels is None:
        return []
    if not spec.group:
        return [Problem(src, "group_levels", "given but the spec has no 'group' column", "add e.g. group: region")]
    P: list[str] = []
    if not spec.group_levels:
        P.append(Problem(src, "group_levels", "empty",
                         "map each analysis group to a list of raw values, or remove it"))
    owner: dict[str, str] = {}
    from .groups import group_label
    names: dict[str, str] = {}
    for name, values in spec.group_levels.items():
        shown = group_label(name)
        if shown in names:   # two spellings of one name (composed/decomposed, full-width) print alike
            P.append(Problem(src, f"group_levels.{name}", f"the group name is written twice (also as "
                             f"'{names[shown]}', the same text in another Unicode form)", "merge the two groups"))
        names.setdefault(shown, name)
        if not values:
            P.append(Problem(src, f"group_levels.{name}", "no raw values",
                             f"list the values of '{spec.group}' it merges"))
        for v in values:
            key = group_label(v)
            if key in owner:
                where = "this group" if owner[key] == name else f"group '{owner[key]}'"
                P.append(Problem(src, f"group_levels.{name}", f"value '{key}' is already in {where}",
                                 "list each raw value once, in one group only"))
            owner.setdefault(key, name)
    return P


def _path_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    P: list[str] = []
    constructs = spec.constructs
    declared: dict[tuple[str, str], int] = {}
    for i, p in enumerate(spec.paths):
        key = f"paths[{i}]"
        if p.to not in constructs:
            P.append(Problem(src, f"{key}.to", f"unknown construct '{p.to}'{_suggest(p.to, constructs)}",
                             "use a name defined under 'constructs'"))
        for j, x in enumerate(p.from_):
            if x in spec.controls:
                P.append(Problem(src, f"{key}.from[{j}]", f"'{x}' is a control", "remove it here; controls are "
                                 "regressed into every endogenous construct automatically"))
            elif x in spec.items:
                P.append(Problem(src, f"{key}.from[{j}]", f"'{x}' is an item, not a construct",
                                 f"name its construct {spec_item_owner(spec, x)}"))
            elif x not in constructs:
                P.append(Problem(src, f"{key}.from[{j}]", f"unknown construct '{x}'{_suggest(x, constructs)}",
                                 "use a name defined under 'constructs' (observed covariates go under 'controls')"))
            if x == p.to:
                P.append(Problem(src, f"{key}.from[{j}]", f"'{x}' cannot predict itself", "remove it from 'from'"))
                continue
            if p.from_.index(x) != j:
                P.append(Problem(src, f"{key}.from[{j}]", f"'{x}' is listed twice in this path",
                                 "list each predictor once"))
                continue
            if (x, p.to) in declared:
                P.append(Problem(src, f"{key}.from[{j}]",
                                 f"the path {x} -> {p.to} is declared twice (also in paths[{declared[x, p.to]}])",
                                 "declare each path once"))
            declared.setdefault((x, p.to), i)
        if isinstance(p.hypothesis, dict):
            for h in p.hypothesis:
                if h not in p.from_:
                    P.append(Problem(src, f"{key}.hypothesis.{h}",
                                     f"'{h}' is not a predictor of this path{_suggest(h, p.from_)}",
                                     "key the mapping by names listed in 'from'"))
    if not spec.allow_cycles:
        cycle = find_cycle(set(declared))
        if cycle:
            P.append(Problem(src, "paths", f"the paths form a cycle {' -> '.join(cycle)}",
                             "remove one of these paths, or set allow_cycles: true for a non-recursive model"))
    return P, []


def spec_item_owner(spec: Spec, item: str) -> str:
    return next((n for n, c in spec.first_order.items() if any(it.id == item for it in c.items or ())), "?")


def find_cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    """A directed cycle ``[a, b, ..., a]`` among ``(from, to)`` edges, or None.

    ``graphlib`` finds it (as in ``simulate/population.py``); the cycle is rotated to start at its
    alphabetically first construct so the message does not depend on where the search entered it.
    """
    sorter: TopologicalSorter = TopologicalSorter()
    for a, b in sorted(edges):
        sorter.add(b, a)            # b depends on a
    try:
        sorter.prepare()
    except CycleError as exc:
        ring = list(exc.args[1][:-1])
        k = ring.index(min(ring))
        ring = ring[k:] + ring[:k]
        return ring + ring[:1]
    return None


def _covariance_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    P: list[str] = []
    constructs, valid = spec.constructs, set(spec.constructs) | set(spec.items)
    seen: dict[frozenset[str], int] = {}
    for i, (a, b) in enumerate(spec.covariances):
        for j, v in enumerate((a, b)):
            if v not in valid:
                P.append(Problem(src, f"covariances[{i}][{j}]",
                                 f"unknown construct or item '{v}'{_suggest(v, valid)}",
                                 "name two constructs or two items"))
        if a == b:
            P.append(Problem(src, f"covariances[{i}]", f"'{a}' with itself is a variance, not a covariance",
                             "name two different constructs or items"))
            continue
        if a in valid and b in valid and (a in constructs) != (b in constructs):
            P.append(Problem(src, f"covariances[{i}]", "mixes a construct and an item",
                             "name two constructs or two items"))
        pair = frozenset((a, b))
        if pair in seen:
            P.append(Problem(src, f"covariances[{i}]", f"{a} ~~ {b} is already listed as covariances[{seen[pair]}]",
                             "list each pair once"))
        seen.setdefault(pair, i)
    return P, []


def _indirect_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    P: list[str] = []
    constructs = spec.constructs
    declared = {(x, p.to) for p in spec.paths for x in p.from_}
    labels = {f"b_{x}_{to}" for x, to in declared}
    taken = set(constructs) | set(spec.items) | set(spec.controls) | labels
    seen: dict[str, int] = {}
    for i, ind in enumerate(spec.indirect):
        key = f"indirect[{i}]"
        P += _name_problems(src, key, ind.name, seen.get(ind.name), "indirect", "indirect effect",
                            ind.name in taken or ind.name.startswith("total_"),
                            "a construct, item, control or path label (or starts with total_, kept for total "
                            "effects). Fix: choose another name, e.g. ind_X_Y")
        seen.setdefault(ind.name, i)
        for j, c in enumerate(ind.path):
            if c not in constructs:
                P.append(Problem(src, f"{key}.path[{j}]", f"unknown construct '{c}'{_suggest(c, constructs)}",
                                 "use constructs defined under 'constructs'"))
        for a, b in zip(ind.path, ind.path[1:]):
            if a in constructs and b in constructs and (a, b) not in declared:
                P.append(Problem(src, f"{key}.path", f"the link {a} -> {b} is not a declared path",
                                 f"add {{to: {b}, from: [{a}]}} to 'paths' (or add {a} to the 'from' of {b})"))
    return P, []


def _name_problems(src: str, key: str, name: str, first: int | None, listed: str, what: str, taken: bool,
                   taken_text: str) -> list[str]:
    """A name under ``listed`` (indirect, interactions) must be an identifier, unique in its list (``first``:
    the index that already uses it) and not taken by another kind of name (``taken``)."""
    out = []
    if not _IDENT.match(name):
        out.append(Problem(src, f"{key}.name", f"'{name}' is not a valid name", _IDENT_FIX))
    if first is not None:
        out.append(Problem(src, f"{key}.name", f"'{name}' is already used by {listed}[{first}]",
                           f"give each {what} a unique name"))
    elif taken:
        out.append(Problem(src, f"{key}.name", f"'{name}' is already used by {taken_text}"))
    return out


def _interaction_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    """Latent interactions: known constructs, main effects declared, one exogenous partner, unique names."""
    P: list[str] = []
    constructs = spec.constructs
    declared = {(x, p.to) for p in spec.paths for x in p.from_}
    outcomes = {p.to for p in spec.paths}
    taken = set(constructs) | set(spec.items) | set(spec.controls) | {i.name for i in spec.indirect}
    seen: dict[str, int] = {}
    for i, it in enumerate(spec.interactions):
        key = f"interactions[{i}]"
        P += _name_problems(src, key, it.name, seen.get(it.name), "interactions", "interaction", it.name in taken,
                            "a construct, item, control or indirect effect. Fix: choose another name, e.g. IOLxDF")
        seen.setdefault(it.name, i)
        known = True
        for j, c in enumerate(it.between):
            if c not in constructs:
                known = False
                P.append(Problem(src, f"{key}.between[{j}]", f"unknown construct '{c}'{_suggest(c, constructs)}",
                                 "name a construct defined under 'constructs'"))
        if it.between[0] == it.between[1]:
            P.append(Problem(src, f"{key}.between", f"'{it.between[0]}' twice; a quadratic term is not supported",
                             "name two different constructs, [focal predictor, moderator]"))
            continue
        if known and all(c in outcomes for c in it.between):
            P.append(Problem(src, f"{key}.between",
                             f"both {it.between[0]} and {it.between[1]} are outcomes of paths; a latent product "
                             "needs one exogenous partner",
                             "make the moderator exogenous (remove the paths into it) or test the moderation by "
                             "groups"))
        for j, to in enumerate(it.outcomes):
            tkey = f"{key}.to" if isinstance(it.to, str) else f"{key}.to[{j}]"
            if it.outcomes.index(to) != j:
                P.append(Problem(src, tkey, f"'{to}' is listed twice", "list each outcome once"))
                continue
            if to not in constructs:
                P.append(Problem(src, tkey, f"unknown construct '{to}'{_suggest(to, constructs)}",
                                 "name the outcome construct"))
                continue
            if to in it.between:
                P.append(Problem(src, tkey, f"'{to}' is also in 'between'",
                                 "the outcome must differ from both partners"))
                continue
            if known:
                missing = [c for c in it.between if (c, to) not in declared]
                if missing:
                    P.append(Problem(src, tkey,
                                     f"the main effect(s) {', '.join(f'{c} -> {to}' for c in missing)} are not "
                                     "declared paths; an interaction needs both main effects",
                                     f"add {{to: {to}, from: [{', '.join(missing)}]}} to 'paths'"))
    return P, []


def _population_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    """The simulator's population values: known names, standardized values, groups and controls."""
    pop = spec.population
    if pop is None:
        return [], []
    P: list[str] = _population_loading_problems(spec, src)
    items, constructs = spec.items, spec.constructs
    for to, preds in pop.paths.items():
        if to not in constructs:
            P.append(Problem(src, f"population.paths.{to}", f"unknown construct '{to}'{_suggest(to, constructs)}",
                             "key it by an outcome construct"))
        for x in preds:
            if x not in constructs:
                P.append(Problem(src, f"population.paths.{to}.{x}",
                                 f"unknown construct '{x}'{_suggest(x, constructs)}",
                                 "use construct names"))
    valid = set(constructs) | set(items)
    for section in ("correlations", "residual_correlations"):
        for i, corr in enumerate(getattr(pop, section)):
            for j, v in enumerate(corr.between):
                if v not in valid:
                    P.append(Problem(src, f"population.{section}[{i}].between[{j}]",
                                     f"unknown construct or item '{v}'{_suggest(v, valid)}",
                                     "name constructs (or items) of the spec"))
    P += _population_interaction_problems(spec, src)
    P += _icc_problems(spec, src)
    P += _threshold_problems(spec, src)
    for g, size in pop.groups.items():
        if size <= 0:
            P.append(Problem(src, f"population.groups.{g}", f"size {size} must be positive",
                             "give a positive number of cases"))
    if pop.groups and not spec.group:
        P.append(Problem(src, "population.groups", "given but the spec has no 'group' column",
                         "add e.g. group: region at the top level (or remove population.groups)"))
    for name, ctl in pop.controls.items():
        if name not in spec.controls:
            P.append(Problem(src, f"population.controls.{name}",
                             f"'{name}' is not listed under 'controls'{_suggest(name, spec.controls)}",
                             "add it to 'controls' or remove it here"))
        for to in ctl.effects:
            if to not in constructs:
                P.append(Problem(src, f"population.controls.{name}.effects.{to}",
                                 f"unknown construct '{to}'{_suggest(to, constructs)}",
                                 "key effects by endogenous constructs"))
    return P, []


def _icc_problems(spec: Spec, src: str) -> list[str]:
    """``population.icc``: a share of variance, 0 ≤ icc < 1 (1 would leave no firm-level variance), keyed by
    constructs when it is a mapping."""
    icc = spec.population.icc
    values = icc.items() if isinstance(icc, dict) else [(None, icc)]
    P = []
    for name, v in values:
        key = "population.icc" + (f".{name}" if name is not None else "")
        if name is not None and name not in spec.constructs:
            P.append(Problem(src, key, f"unknown construct '{name}'{_suggest(name, spec.constructs)}",
                             "key the ICCs by construct names (or give one number for all)"))
        elif not (0 <= v < 1):
            P.append(Problem(src, key, f"{v:g} is not an intraclass correlation (0 ≤ icc < 1)",
                             "use the share of variance between clusters, e.g. 0.15"))
    return P


def _population_loading_problems(spec: Spec, src: str) -> list[str]:
    pop, items = spec.population, spec.items
    P: list[str] = []
    dims = {d for c in spec.second_order.values() for d in (c.dimensions or ())}
    for item, v in pop.loadings.items():
        if item not in items:
            P.append(Problem(src, f"population.loadings.{item}", f"unknown item '{item}'{_suggest(item, items)}",
                             "use item ids of the constructs"))
        if not -1 < v < 1:
            P.append(Problem(src, f"population.loadings.{item}", f"{v:g} is not a standardized loading",
                             "use a value in (-1, 1)"))
    for d, v in pop.dimension_loadings.items():
        if d not in dims:
            P.append(Problem(src, f"population.dimension_loadings.{d}",
                             f"'{d}' is not a dimension of a second-order construct{_suggest(d, dims)}",
                             "key it by a name listed under some 'dimensions'"))
        if not -1 < v < 1:
            P.append(Problem(src, f"population.dimension_loadings.{d}", f"{v:g} is not a standardized loading",
                             "use a value in (-1, 1)"))
    return P


def _population_interaction_problems(spec: Spec, src: str) -> list[str]:
    pop, constructs = spec.population, spec.constructs
    P: list[str] = []
    for i, it in enumerate(pop.interactions):
        for j, c in enumerate(it.between):
            if c not in constructs:
                P.append(Problem(src, f"population.interactions[{i}].between[{j}]",
                                 f"unknown construct '{c}'{_suggest(c, constructs)}",
                                 "name constructs of the spec"))
        if it.to not in constructs:
            P.append(Problem(src, f"population.interactions[{i}].to",
                             f"unknown construct '{it.to}'{_suggest(it.to, constructs)}",
                             "name the outcome construct"))
        elif it.to in it.between:
            P.append(Problem(src, f"population.interactions[{i}].to", f"'{it.to}' is also in 'between'",
                             "the outcome must differ from both partners"))
    return P


def _threshold_problems(spec: Spec, src: str) -> list[str]:
    th = spec.population.thresholds if spec.population else None
    if th is None:
        return []
    P: list[str] = []
    if isinstance(th, dict):
        lists = []
        for item, cuts in th.items():
            if item not in spec.items:
                P.append(Problem(src, f"population.thresholds.{item}",
                                 f"unknown item '{item}'{_suggest(item, spec.items)}",
                                 "key thresholds by item ids"))
                continue
            lists.append((f"population.thresholds.{item}", spec.scale_of(item), cuts))
    else:
        lists = [("population.thresholds", spec.scale, th)]
    for key, sc, cuts in lists:
        n_cat = sc.max - sc.min
        if len(cuts) != n_cat:
            P.append(Problem(src, key,
                             f"{len(cuts)} cut points but the scale {sc.min}..{sc.max} has {n_cat + 1} categories",
                             f"give {n_cat} increasing values"))
        elif any(b <= a for a, b in zip(cuts, cuts[1:])):
            P.append(Problem(src, key, "cut points must strictly increase", "sort them and remove repeats"))
    return P


def _recode_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    """``recode:`` names items (or ``all``) and maps answer codes inside the item's scale."""
    P: list[str] = []
    for key, mapping in spec.recode.items():
        if key != "all" and key not in spec.items:
            P.append(Problem(src, f"recode.{key}", f"'{key}' is not an item{_suggest(key, spec.items)}",
                             "use an item id from 'constructs', or 'all' for every item"))
            continue
        sc = spec.scale if key == "all" else spec.scale_of(key)
        for a, b in mapping.items():
            for v in (a, b):
                if not float(v).is_integer():   # 2.5 would be a new category between 2 and 3 (WLSMV thresholds)
                    P.append(Problem(src, f"recode.{key}", f"code {v:g} ({a:g}: {b:g}) is not a whole answer code",
                                     f"map whole codes of the scale {sc.min}-{sc.max} onto neighbouring whole codes, "
                                     "e.g. {1: 2}"))
                elif not sc.min <= v <= sc.max:
                    P.append(Problem(src, f"recode.{key}", f"code {v:g} is outside the scale {sc.min}-{sc.max}",
                                     "map answer codes of the scale onto neighbouring codes, e.g. {1: 2}"))
    return P, []


def _levels_problems(spec: Spec, src: str) -> tuple[list[str], list[str]]:
    """``levels``: known first-order constructs and both levels named.  The cluster column may come from
    ``--cluster`` too, so its presence is checked after the options are resolved (``analyses.twolevel``)."""
    P: list[str] = []
    if spec.levels is None:
        return P, []
    for level in ("within", "between"):
        names = getattr(spec.levels, level)
        if not names:
            P.append(Problem(src, f"levels.{level}", "no construct at this level",
                             f"name at least one construct, e.g. levels: {{{level}: [{next(iter(spec.first_order), 'TS')}]}}"))
        for j, c in enumerate(names):
            if c not in spec.first_order:
                what = (f"'{c}' is a second-order construct" if c in spec.constructs
                        else f"unknown construct '{c}'{_suggest(c, spec.first_order)}")
                P.append(Problem(src, f"levels.{level}[{j}]", what, "name a construct with items under 'constructs'"))
    return P, []
