"""Read a questionnaire spec: YAML (safe loading only) → pydantic shape checks → whole-spec checks.

All problems are collected and raised once as a SpecError whose message is one line (the first problem,
plus how many more); ``.problems`` holds every line, each ``FILE: key.path: what. Fix: how``.
"""
from __future__ import annotations

import difflib
import warnings
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import SpecError, SpecWarning
from .schema import Spec


def spec_error(problems: list[str]) -> SpecError:
    more = f" (and {len(problems) - 1} more problems; run 'cluster-sem validate' to list them)" if len(problems) > 1 else ""
    err = SpecError(problems[0] + more)
    err.problems = list(problems)
    return err


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before", "function-wrap", "tagged-union") or "[" in str(part):
            continue
        else:
            part = "from" if part == "from_" else str(part)
            out += ("." if out else "") + part
    return out or "(top level)"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of ``loc`` (for did-you-mean suggestions)."""
    model: type[BaseModel] | None = Spec
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get("from_" if part == "from" else part)
        if field is None:
            if model is Spec or part not in model.model_fields:
                # inside a dict (e.g. constructs.NAME): keep the value type of the mapping
                continue
        ann = field.annotation if field else None
        model = _first_model(ann)
    return model


def _first_model(ann) -> type[BaseModel] | None:
    import typing
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _pydantic_problems(exc: ValidationError, source: str) -> list[str]:
    problems = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        path = _key_path(loc)
        if e["type"] == "extra_forbidden":
            owner = _model_at(loc)
            allowed = [("from" if k == "from_" else k) for k in (owner.model_fields if owner else {})]
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
            problems.append(f"{source}: {path}: unknown key. Fix: remove it or rename it ({hint})")
        elif e["type"] == "missing":
            problems.append(f"{source}: {path}: required key is missing. Fix: add '{loc[-1]}'")
        else:
            problems.append(f"{source}: {path}: {e['msg']} (got {e.get('input')!r}). Fix: correct the value")
    return problems


def parse_spec(text: str, source: str = "<string>") -> Spec:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise spec_error([f"{source}: YAML syntax error at {where}: {problem}. "
                          "Fix: check indentation and quote text containing ':' or '#'"]) from None
    if not isinstance(raw, dict):
        raise spec_error([f"{source}: the spec must be a YAML mapping with keys spec_version, scale, constructs, .... "
                          "Fix: start from questionnaires/zhejiang_cluster_growth.yaml"])
    if raw.get("spec_version") not in (1, None):
        raise spec_error([f"{source}: spec_version: version {raw.get('spec_version')!r} is not supported. "
                          "Fix: use spec_version: 1"])
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        raise spec_error(_pydantic_problems(exc, source)) from None
    from .validate import spec_problems
    problems, warns = spec_problems(spec, source)
    if problems:
        raise spec_error(problems)
    for w in warns:
        warnings.warn(w, SpecWarning, stacklevel=2)
    return spec


def load_spec(path: str | Path) -> Spec:
    p = Path(path)
    if not p.is_file():
        raise spec_error([f"{p}: spec file not found. Fix: check the path (e.g. questionnaires/zhejiang_cluster_growth.yaml)"])
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise spec_error([f"{p}: not UTF-8 text. Fix: save the YAML file as UTF-8"]) from None
    return parse_spec(text, source=p.name)
