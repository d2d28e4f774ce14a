"""Read a questionnaire spec: YAML (safe loading only) → pydantic shape checks → whole-spec checks.

All problems are collected and raised once as a SpecError whose message is one line (the first problem,
plus how many more), because the CLI prints exactly one line; ``.problems`` holds every typed ``Problem``
(``problems.py``), each printing as ``FILE: key.path: what is wrong (line N). Fix: how``.  Line numbers
come from a separate compose pass (:mod:`.yamlmap`) since ``safe_load`` forgets positions, and are looked
up by each problem's key path.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import SpecError, SpecWarning
from .problems import Problem
from .schema import Spec
from .shape_errors import pydantic_problems
from .yamlguard import hostile_yaml_problem
from .yamlmap import SAFE_LOADER, key_lines

SUPPORTED_VERSIONS = (1,)
# a 60-item bilingual questionnaire is ~20 kB; 1 MB is far above any real spec and parses in well under a
# second, while a 50 MB file (a data dump given as the spec, a generated file gone wrong) kept YAML and the
# checks busy for most of a minute
MAX_SPEC_BYTES = 1_000_000


def _too_large(size: int, source: str) -> SpecError:
    return spec_error([f"{source}: {size / 1e6:.1f} MB is far too large for a questionnaire spec (limit "
                       f"{MAX_SPEC_BYTES / 1e6:g} MB; a spec is a few kB). Fix: check that the spec (YAML) was "
                       "given here and not a data file, and keep the data in the DATA file"])


def spec_error(problems: list[str]) -> SpecError:
    """A SpecError with every problem in ``.problems`` and a one-line ``str()``."""
    n = len(problems) - 1
    more = f" (and {n} more problem{'s' if n > 1 else ''}; run 'cluster-sem validate' to list them)" if n > 0 else ""
    return SpecError(problems[0] + more, problems=problems)


def _with_line(problem: str, lines: dict[str, int]) -> str:
    return problem.with_line(lines) if isinstance(problem, Problem) else problem


def _read_yaml(text: str, source: str):
    hostile = hostile_yaml_problem(text, source)
    if hostile:
        raise spec_error([hostile])
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise spec_error([f"{source}: YAML syntax error at {where}: {problem}. "
                          "Fix: check the indentation there (spaces, not tabs) and quote text containing ': ' or ' #'"]) from None


def parse_spec(text: str, source: str = "<string>", *, pls: bool = False) -> Spec:
    """Validate spec text; ``source`` names the file in every message (``pls``: read for ``cluster-sem pls``,
    which accepts one-item constructs and needs no factor-model identification warnings)."""
    if len(text) > MAX_SPEC_BYTES:
        raise _too_large(len(text.encode("utf-8")), source)
    raw = _read_yaml(text, source)
    if not isinstance(raw, dict):
        raise spec_error([Problem(source, "(top level)", "the spec must be a YAML mapping with keys spec_version, "
                                  "scale, constructs, ...", "start from questionnaires/zhejiang_cluster_growth.yaml")])
    lines, duplicates = key_lines(text)
    problems = [Problem(source, (parent + "." if parent else "") + key,
                        f"written twice (lines {a} and {b}); YAML keeps only the second", "rename or merge the two entries")
                for parent, key, a, b in duplicates]
    version = raw.get("spec_version")
    if isinstance(version, int) and not isinstance(version, bool) and version not in SUPPORTED_VERSIONS:
        problems.append(Problem(source, "spec_version", f"version {version} is not supported (supported versions: "
                                f"{', '.join(map(str, SUPPORTED_VERSIONS))})", "use spec_version: 1"))
    warns: list[str] = []
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        problems += pydantic_problems(exc, source)
    else:
        from .validate import spec_problems
        more, warns = spec_problems(spec, source, pls=pls)
        problems += more
    if problems:
        raise spec_error([_with_line(p, lines) for p in problems])
    for w in warns:
        warnings.warn(str(_with_line(w, lines)), SpecWarning, stacklevel=2)
    return spec


def load_spec(path: str | Path, *, pls: bool = False) -> Spec:
    """Read and validate the spec file at ``path`` (messages name the file by its base name;
    ``pls``: read for ``cluster-sem pls``, see ``parse_spec``)."""
    p = Path(path)
    if not p.is_file():
        raise spec_error([f"{p}: spec file not found. Fix: check the path (e.g. questionnaires/zhejiang_cluster_growth.yaml)"])
    if p.stat().st_size > MAX_SPEC_BYTES:   # refused before reading it
        raise _too_large(p.stat().st_size, p.name)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise spec_error([f"{p.name}: the file is not UTF-8 text. Fix: save the YAML file as UTF-8"]) from None
    return parse_spec(text, source=p.name, pls=pls)


def as_spec(spec: Spec | str | Path) -> Spec:
    """Accept a parsed spec or a path to one (the data and simulate layers take either)."""
    return spec if isinstance(spec, Spec) else load_spec(spec)
