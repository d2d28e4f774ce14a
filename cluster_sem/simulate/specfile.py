"""Read a spec file for the simulator / data layer without depending on the loader being present.

``cluster_sem.spec.loader.load_spec`` (validation with key-path messages) is used when it exists; until
then the YAML is parsed and shape-checked by the pydantic models only, and errors still arrive as one-line
``SpecError``s so the CLI can report them.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import SpecError
from ..spec.schema import Spec


def load_spec_file(path: str | Path) -> Spec:
    """``Spec`` from a YAML file (the project loader if available, else a plain pydantic parse)."""
    try:
        from ..spec.loader import load_spec  # type: ignore[import-not-found]
    except ImportError:
        load_spec = None
    if load_spec is not None:
        return load_spec(path)

    import yaml
    from pydantic import ValidationError

    p = Path(path)
    if not p.is_file():
        raise SpecError(f"{p}: spec file not found. Fix: check the path")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{p}: not valid YAML ({' '.join(str(exc).split())}). Fix: correct the YAML syntax") from None
    try:
        return Spec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise SpecError(f"{p}: key '{where}': {first['msg']}. Fix: correct this key") from None


def as_spec(spec: Spec | str | Path) -> Spec:
    """Accept a parsed spec or a path to one."""
    return spec if isinstance(spec, Spec) else load_spec_file(spec)
