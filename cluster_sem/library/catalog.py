"""The scale library: one YAML file per scale in this package (``cluster_sem/library/<KEY>.yaml``).

Why a library: a new study should not start from an empty spec.  Each file holds a construct's bilingual
label and items (wording written for cluster-sem, adapted from a named source construct, never copied),
its response scale, the source it is attributed to, the reliability that source reports (null when it gives
none, or none is known here), the dimensions of a second-order scale and a note on how the items were
adapted.  The files are read once, checked by the same kind of frozen pydantic models as the spec
(unknown keys refused), and exposed as :class:`LibraryScale` objects; ``cluster-sem new`` turns a selection
into a spec (:mod:`.new`).
"""
from __future__ import annotations

import difflib
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ClusterSemError
from ..spec.schema import Scale, Source, Text


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseScale(Scale):
    """The answer format the items are written for: range and anchor wording."""

    anchors: Text = Text()


class Reliability(_Frozen):
    """Reliability the source reports for its own scale (Cronbach's alpha, composite reliability)."""

    alpha: float | None = Field(default=None, ge=0, le=1)
    composite: float | None = Field(default=None, ge=0, le=1)


class LibraryItem(_Frozen):
    id: str = Field(min_length=1)
    text: Text
    reverse: bool = False


class LibraryScale(_Frozen):
    """One scale of the library (first-order: ``items`` and ``scale``; second-order: ``dimensions``)."""

    key: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    label: Text
    study: str                               # which study design the scale belongs to (list grouping)
    scale: ResponseScale | None = None
    items: tuple[LibraryItem, ...] | None = None
    dimensions: tuple[str, ...] | None = None
    source: Source | None = None           # title and journal required here (checked by the library test)
    reliability: Reliability | None = None
    adaptation: Text

    @property
    def is_second_order(self) -> bool:
        return self.dimensions is not None

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages in which the label and every item have wording (dimension scales: their label)."""
        texts = [self.label] + [it.text for it in self.items or ()]
        return tuple(lang for lang in ("en", "zh") if all(getattr(t, lang) for t in texts))


@lru_cache(maxsize=1)
def library_scales() -> dict[str, LibraryScale]:
    """Every scale of the library by key, sorted by key (read and checked once per process)."""
    import yaml
    folder = resources.files("cluster_sem.library")
    out: dict[str, LibraryScale] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        raw = yaml.safe_load(entry.read_text(encoding="utf-8"))
        try:
            scale = LibraryScale.model_validate(raw)
        except ValidationError as exc:   # a broken package file is a bug of the library, said plainly
            raise ClusterSemError(f"scale library file {entry.name}: {exc.errors()[0]['msg']} at "
                                  f"{'.'.join(map(str, exc.errors()[0]['loc']))}. Fix: correct the file") from None
        if scale.key != entry.name[:-len(".yaml")]:
            raise ClusterSemError(f"scale library file {entry.name}: key '{scale.key}' differs from the file name. "
                                  "Fix: name the file KEY.yaml")
        out[scale.key] = scale
    return out


def get_scale(name: str) -> LibraryScale:
    """The library scale called ``name`` (case-insensitive); an unknown name is refused with close names."""
    scales = library_scales()
    if name in scales:
        return scales[name]
    same = [k for k in scales if k.lower() == name.lower()]
    if same:
        return scales[same[0]]
    raise ClusterSemError(f"'{name}' is not a scale of the library{_close(name, scales)}. "
                          "Fix: see 'cluster-sem library list'")


def _close(name: str, scales: dict[str, LibraryScale]) -> str:
    """`` (did you mean 'A' or 'B'?)``: close keys, or keys whose English label is close to ``name``."""
    keys = difflib.get_close_matches(name.upper(), list(scales), n=3, cutoff=0.5)
    labels = {(s.label.en or "").lower(): k for k, s in scales.items()}
    keys += [labels[x] for x in difflib.get_close_matches(name.lower(), list(labels), n=2, cutoff=0.6)
             if labels[x] not in keys]
    if not keys:
        return ""
    return " (did you mean " + " or ".join(f"'{k}'" for k in keys[:3]) + "?)"


def expand(keys: list[str]) -> list[LibraryScale]:
    """The scales named by ``keys`` in the order given, each second-order scale preceded by its dimensions
    (once each), as a spec lists them."""
    out: dict[str, LibraryScale] = {}
    for name in keys:
        scale = get_scale(name)
        for d in scale.dimensions or ():
            out.setdefault(d, get_scale(d))
        out.setdefault(scale.key, scale)
    return list(out.values())


__all__ = ["LibraryScale", "LibraryItem", "Source", "Reliability", "ResponseScale", "library_scales", "get_scale",
           "expand"]
