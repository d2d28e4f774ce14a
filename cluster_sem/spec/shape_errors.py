"""Turn pydantic ``ValidationError`` entries into spec problem lines a survey researcher can act on.

pydantic reports ``loc`` tuples such as ``('paths', 0, 'hypothesis', 'dict[str,str]')`` and messages
such as "Input should be a valid boolean".  Users wrote YAML, not Python, so each entry becomes
``FILE: paths[0].hypothesis: what is wrong. Fix: how`` with the union-member tags removed, the ``from_``
alias written as ``from``, unknown keys answered with "did you mean ...?" from the keys the model at
that place allows, and one line per key path (a union reports one error per member).
"""
from __future__ import annotations

import difflib
import typing
from types import UnionType

from pydantic import BaseModel, ValidationError

from .problems import Problem
from .schema import Spec

# What to write instead, by the key the user got wrong (first match wins over the generic advice).
_FIELD_FIX = {
    "spec_version": "write spec_version: 1",
    "scale": "write e.g. scale: {min: 1, max: 7} (whole numbers)",
    "min": "use a whole number, e.g. min: 1",
    "max": "use a whole number, e.g. max: 7",
    "constructs": "write a mapping NAME: {label: {en: ...}, items: [item1, item2, item3]}",
    "items": "list the item ids, e.g. items: [ts1, ts2, {id: ts3, reverse: true}]",
    "dimensions": "list first-order constructs, e.g. dimensions: [KA, KS, KC]",
    "id": "write the column name as text starting with a letter, e.g. q1",
    "reverse": "write reverse: true or reverse: false",
    "from": "list the predictors, e.g. from: [TS, RQ]",
    "to": "name one outcome construct, e.g. to: OL",
    "hypothesis": "write one label (hypothesis: H1) or a mapping predictor -> label ({TS: H1a, RQ: H1b})",
    "expect": "use positive, negative or nonzero",
    "path": "list a chain of at least 3 constructs, e.g. path: [TS, OL, CG]",
    "covariances": "write pairs of two names, e.g. covariances: [[CE, CI], [y1, y5]]",
    "controls": "list column names, e.g. controls: [firm_age, log_size]",
    "missing_codes": "list numbers, e.g. missing_codes: [99, -9]",
    "paths": "write a list of {to: OUTCOME, from: [PREDICTOR, ...]}",
    "indirect": "write a list of {name: ind_X_Y, path: [X, M, Y]}",
    "title": "write title: {en: ..., zh: ...}",
    "label": "write label: {en: ..., zh: ...}",
    "text": "write text: {en: ..., zh: ...}",
    "thresholds": "give a list of increasing cut points, or a mapping item -> list of cut points",
    "loadings": "write a mapping item -> standardized loading, e.g. {ts1: 0.7}",
    "allow_cycles": "write allow_cycles: true or allow_cycles: false",
    "interactions": "write a list of {name: IOLxDF, between: [IOL, DF], to: CE}",
    "effect": "use a standardized coefficient in [-1, 1], e.g. effect: -0.2",
    "ordinal": "write ordinal: true (items are ordered categories: WLSMV) or ordinal: false",
    "recode": "write recode: {ITEM: {FROM: TO}}, e.g. recode: {NC1: {1: 2}} or recode: {all: {1: 2}}",
}
_TYPE_FIX = {
    "bool_parsing": "write true or false", "bool_type": "write true or false",
    "int_parsing": "use a whole number", "int_from_float": "use a whole number", "int_type": "use a whole number",
    "float_parsing": "use a number", "float_type": "use a number",
    "string_type": "write text (put numbers in quotes)",
    "dict_type": "write a mapping (key: value lines or {key: value})",
    "tuple_type": "write a list, e.g. [a, b, c]", "list_type": "write a list, e.g. [a, b, c]",
}
_EXAMPLE = {
    "spec_version": "spec_version: 1", "scale": "scale: {min: 1, max: 7}",
    "constructs": "constructs: {TS: {items: [ts1, ts2, ts3]}}", "from": "from: [TS]", "to": "to: OL",
    "name": "name: ind_TS", "path": "path: [TS, OL, CG]", "id": "id: q1", "loadings": "loadings: {ts1: 0.7}",
    "between": "between: [TS, RQ]", "r": "r: 0.3",
}


def _arms(ann) -> list:
    if typing.get_origin(ann) in (typing.Union, UnionType):
        return [a for a in typing.get_args(ann) if a is not type(None)]
    return [ann]


def _arm_for_tag(arms: list, tag: str):
    head = tag.split("[", 1)[0]
    for arm in arms:
        origin = typing.get_origin(arm)
        name = origin.__name__ if origin is not None else getattr(arm, "__name__", str(arm))
        if name == head:
            return arm
    return None


def _step(ann, part):
    """Annotation reached from ``ann`` through loc ``part`` (None when the shape does not say)."""
    for arm in _arms(ann):
        if isinstance(arm, type) and issubclass(arm, BaseModel) and isinstance(part, str):
            field = arm.model_fields.get("from_" if part == "from" else part)
            if field is not None:
                return field.annotation
        origin = typing.get_origin(arm)
        args = typing.get_args(arm)
        if origin is dict and isinstance(part, str):
            return args[1]
        if origin in (tuple, list) and isinstance(part, int) and args:
            return args[0]
    return None


def walk_loc(loc: tuple) -> tuple[str, type[BaseModel] | None]:
    """``(key path, model owning the last key)`` for a pydantic ``loc``."""
    out, ann, owner = "", Spec, None
    for part in loc:
        arms = _arms(ann) if ann is not None else []
        if isinstance(part, str) and len(arms) > 1 and _arm_for_tag(arms, part) is not None:
            ann = _arm_for_tag(arms, part)  # union member tag: not a key the user wrote
            continue
        if isinstance(part, str) and part.startswith("function-"):
            continue
        owner = next((a for a in _arms(ann) if isinstance(a, type) and issubclass(a, BaseModel)), None) if ann else None
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("from" if part == "from_" else str(part))
        ann = _step(ann, "from" if part == "from_" else part) if ann is not None else None
    return out or "(top level)", owner


def _last_key(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    return last.split("[", 1)[0]


def _describe(err: dict, path: str, owner: type[BaseModel] | None) -> tuple[str, str]:
    kind, key = err["type"], _last_key(path)
    got = err.get("input")
    if kind == "extra_forbidden":
        allowed = [("from" if k == "from_" else k) for k in (owner.model_fields if owner else {})]
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(allowed)
        return f"unknown key '{key}'", f"remove it or rename it ({hint})"
    if kind == "missing":
        return f"required key '{key}' is missing", f"add {_EXAMPLE.get(key, key + ': ...')}"
    what = err["msg"][0].lower() + err["msg"][1:]
    if got is not None and not isinstance(got, (dict, list)):
        what += f" (got {got!r})"
    if kind == "model_type" and owner is None:
        return what, _FIELD_FIX.get(key, "write a mapping")
    if kind in ("too_short", "too_long"):
        return what, _FIELD_FIX.get(key, "change the number of entries")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return what, "use a value inside the allowed range"
    if kind == "literal_error":
        return what, _FIELD_FIX.get(key, "use one of the listed values")
    return what, _FIELD_FIX.get(key) or _TYPE_FIX.get(kind, "correct the value")


def pydantic_problems(exc: ValidationError, source: str) -> list[Problem]:
    """One problem line per key path, in pydantic's (= document) order."""
    by_path: dict[str, str] = {}
    for err in exc.errors():
        path, owner = walk_loc(tuple(err["loc"]))
        what, fix = _describe(err, path, owner)
        by_path.setdefault(path, Problem(source, path, what, fix))
    return list(by_path.values())
