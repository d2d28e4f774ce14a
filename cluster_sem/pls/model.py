"""The PLS path model as arrays: which items form which construct, each construct's outer mode, and the
inner (structural) model.  Everything the algorithm needs, nothing about how it was specified.

Second-order constructs use the *repeated indicators* approach (Lohmöller 1989; Becker, Klein & Wetzels
2012): the higher-order construct is measured by all items of its dimensions, and the dimensions are
regressed on it (paths HOC → dimension, reported as second-order loadings).  An item may therefore belong
to several constructs, so membership is a (p, K) mask rather than an item → construct map.
"""
from __future__ import annotations

from dataclasses import dataclass

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

    def predictors(self, construct: str) -> tuple[str, ...]:
        """The constructs with a path into ``construct``, in construct order."""
        src = {s for s, d, _ in self.paths if d == construct}
        return tuple(c for c in self.constructs if c in src)
