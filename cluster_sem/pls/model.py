"""The PLS path model as arrays: which items form which construct, each construct's outer mode, and the
inner (structural) model.  Everything the algorithm needs, nothing about how it was specified.

Second-order constructs use the *repeated indicators* approach (Lohmöller 1989; Becker, Klein & Wetzels
2012): the higher-order construct is measured by all items of its dimensions, and the dimensions are
regressed on it (paths HOC → dimension, reported as second-order loadings).  An item may therefore belong
to several constructs, so membership is a (p, K) mask rather than an item → construct map.  The
*two-stage* approach (``two_stage_models``) instead gives two models of first-order constructs only.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

MODES = ("A", "B")


@dataclass(frozen=True)
class PathModel:
    """Items (columns of the data), constructs, outer modes, inner paths.

    ``kind`` of a path: ``structural`` (the spec's paths), ``second_order`` (HOC → dimension) or
    ``control`` (a control column, a single-item construct, → an endogenous construct).
    """

    items: tuple[str, ...]
    constructs: tuple[str, ...]
    blocks: tuple[tuple[str, ...], ...]          # items of each construct, in construct order
    modes: tuple[str, ...]                        # "A" (correlation weights) or "B" (regression weights)
    reflective: tuple[bool, ...]                  # a common factor (PLSc corrects it) vs a composite
    paths: tuple[tuple[str, str, str], ...]       # (from, to, kind)
    plain_loadings: tuple[str, ...] = ()          # common factors whose loadings PLSc leaves as they are
                                                  # (two-stage HOCs, as seminr's PLSc treats them)

    def __post_init__(self) -> None:
        for mode in self.modes:
            if mode not in MODES:
                raise ValueError(f"unknown outer mode {mode!r} (A or B)")

    @property
    def p(self) -> int:
        return len(self.items)

    @property
    def k(self) -> int:
        return len(self.constructs)

    def index(self, construct: str) -> int:
        return self.constructs.index(construct)

    def item_index(self, construct: str) -> np.ndarray:
        """Column positions of a construct's items."""
        block = self.blocks[self.index(construct)]
        return np.array([self.items.index(i) for i in block], dtype=int)

    def mask(self) -> np.ndarray:
        """(p, K) membership: True where item i measures construct k."""
        m = np.zeros((self.p, self.k), dtype=bool)
        for k, c in enumerate(self.constructs):
            m[self.item_index(c), k] = True
        return m

    def adjacency(self) -> np.ndarray:
        """(K, K) with A[from, to] = 1 for every inner path."""
        a = np.zeros((self.k, self.k))
        for src, dst, _ in self.paths:
            a[self.index(src), self.index(dst)] = 1.0
        return a

    def endogenous(self) -> tuple[str, ...]:
        """Constructs with an incoming path, in construct order."""
        targets = {dst for _, dst, _ in self.paths}
        return tuple(c for c in self.constructs if c in targets)

    def without(self, source: str, target: str) -> "PathModel":
        """The model without the path source → target, and without any construct (and its items) that path
        alone linked to the rest (seminr drops constructs outside the inner model the same way)."""
        paths = tuple(p for p in self.paths if (p[0], p[1]) != (source, target))
        linked = {x for s, d, _ in paths for x in (s, d)}
        keep = [k for k, c in enumerate(self.constructs) if c in linked]
        blocks = tuple(self.blocks[k] for k in keep)
        return PathModel(tuple(dict.fromkeys(i for b in blocks for i in b)), tuple(self.constructs[k] for k in keep),
                         blocks, tuple(self.modes[k] for k in keep), tuple(self.reflective[k] for k in keep), paths,
                         tuple(c for c in self.plain_loadings if c in linked))

    def predictors(self, construct: str) -> tuple[str, ...]:
        """The constructs with a path into ``construct``, in construct order."""
        src = {s for s, d, _ in self.paths if d == construct}
        return tuple(c for c in self.constructs if c in src)


SECOND_ORDER = ("repeated", "two-stage")


def from_spec(spec, *, mode: str = "A", consistent: bool = False, second_order: str = "repeated") -> PathModel:
    """The PLS path model of a questionnaire spec.

    * first-order constructs: their items; mode B when ``formative: true`` or ``mode="B"``, else mode A;
    * second-order constructs: repeated indicators (all items of the dimensions) and paths HOC → dimension;
    * the spec's paths; each control column a single-item construct predicting every construct the spec's
      paths explain;
    * ``consistent``: every non-formative construct is a common factor that PLSc corrects.
    A construct outside the inner model cannot be estimated (path weighting needs a neighbour): refused.
    ``second_order="two-stage"`` gives the *second-stage* model instead (``two_stage_models``).
    """
    from ..errors import SpecError

    if mode not in MODES:
        raise SpecError(f"--mode {mode}: unknown outer mode. Fix: use --mode A (correlation weights) or B (regression weights)")
    if second_order == "two-stage":
        return two_stage_models(spec, mode=mode, consistent=consistent)[1]
    for name, c in spec.second_order.items():
        if c.formative:
            raise SpecError(f"constructs.{name}: a formative second-order construct needs the two-stage approach "
                            "(its repeated indicators would explain it completely, leaving its predictors ~0). "
                            "Fix: add --second-order two-stage, or remove `formative: true` here")
    names: list[str] = []
    blocks: list[tuple[str, ...]] = []
    formative: list[bool] = []
    for name, c in spec.constructs.items():
        names.append(name)
        blocks.append(tuple(spec.items_of(name)) if c.items is not None
                      else tuple(i for d in c.dimensions for i in spec.items_of(d)))
        formative.append(bool(c.formative) or mode == "B")
    paths: list[tuple[str, str, str]] = []
    for name, c in spec.second_order.items():
        paths += [(name, d, "second_order") for d in c.dimensions]
    paths += [(f, p.to, "structural") for p in spec.paths for f in p.from_]
    return _assemble(spec, names, blocks, formative, paths, mode, consistent)


def _assemble(spec, names: list[str], blocks: list[tuple[str, ...]], formative: list[bool],
              paths: list[tuple[str, str, str]], mode: str, consistent: bool) -> PathModel:
    """Add the control columns (single-item constructs → every outcome of ``paths``' structural paths),
    refuse constructs outside the inner model, and fix modes: B for formative multi-item blocks."""
    from ..errors import SpecError

    names, blocks, formative, paths = list(names), list(blocks), list(formative), list(paths)
    outcomes = list(dict.fromkeys(d for _, d, kind in paths if kind == "structural"))
    for col in spec.controls:
        names.append(col)
        blocks.append((col,))
        formative.append(False)
        paths += [(col, o, "control") for o in outcomes]
    linked = {x for s, d, _ in paths for x in (s, d)}
    for name in names:
        if name not in linked:
            raise SpecError(f"constructs.{name}: is in no path, and PLS estimates a construct only through its "
                            "neighbours in the structural model. Fix: add a path to or from it, or remove it")
    items = tuple(dict.fromkeys(i for b in blocks for i in b))
    modes = tuple("B" if f and len(b) > 1 else "A" for f, b in zip(formative, blocks))
    reflective = tuple(consistent and m == "A" for m in modes)
    return PathModel(items, tuple(names), tuple(blocks), modes, reflective, tuple(paths))


def two_stage_models(spec, *, mode: str = "A", consistent: bool = False) -> tuple[PathModel, PathModel]:
    """The two models of the disjoint two-stage approach (Becker, Klein & Wetzels 2012; Sarstedt et al.
    2019), as seminr's ``higher_composite(..., method = two_stage)`` builds them:

    * stage 1: the first-order constructs only; each higher-order construct's place in the structural model
      is taken by its dimensions (its predictors → every dimension, every dimension → its outcomes);
    * stage 2: the spec's structural model, the dimensions gone, each higher-order construct measured by the
      stage-1 scores of its dimensions (the "items" named after the dimensions) — mode B when the spec marks
      it ``formative: true`` (or ``--mode B``), else mode A; under PLSc a mode-A one enters the corrected
      correlations with the ρ_A of its dimension scores but keeps its uncorrected loadings, as seminr's PLSc
      treats a ``higher_composite`` (checked against the seminr 0.2.1 port).
    """
    from ..errors import SpecError

    hoc = {name: tuple(c.dimensions) for name, c in spec.second_order.items()}
    dims = {d: name for name, ds in hoc.items() for d in ds}
    spec_paths = [(f, p.to) for p in spec.paths for f in p.from_]
    for f, t in spec_paths:
        for x in (f, t):
            if x in dims:
                raise SpecError(f"paths: {f} -> {t}: {x} is a dimension of {dims[x]}, and the two-stage approach "
                                f"replaces it by its score as an indicator of {dims[x]}. Fix: use --second-order "
                                f"repeated, or route the path through {dims[x]}")

    def expand(x: str) -> tuple[str, ...]:
        return hoc.get(x, (x,))

    first = list(spec.first_order)
    stage1 = _assemble(spec, first, [tuple(spec.items_of(n)) for n in first],
                       [bool(spec.constructs[n].formative) or mode == "B" for n in first],
                       list(dict.fromkeys((a, b, "structural") for f, t in spec_paths
                                          for a in expand(f) for b in expand(t))), mode, consistent)
    names = [n for n in spec.constructs if n not in dims]
    blocks = [hoc[n] if n in hoc else tuple(spec.items_of(n)) for n in names]
    formative = [bool(spec.constructs[n].formative) or mode == "B" for n in names]
    stage2 = _assemble(spec, names, blocks, formative, [(f, t, "structural") for f, t in spec_paths], mode,
                       consistent)
    return stage1, replace(stage2, plain_loadings=tuple(hoc))
