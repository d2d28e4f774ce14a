"""The numbers a PLS fit reports and the bootstrap resamples, laid out as one vector per replicate.

``Layout`` fixes, once per model, which entries of the estimate arrays are reported (paths, loadings,
weights, HTMT pairs, the spec's specific indirect effects, total effects); ``Layout.vector`` turns an
``Estimates`` of R replicates into an (R, m) array.  The point estimate, every bootstrap block and the
jackknife of the BCa interval all go through the same function, so their columns always line up.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .estimate import Estimates, estimate
from .model import PathModel
from .quality import htmt, htmt_pairs


@dataclass(frozen=True)
class Layout:
    """What is reported, by position: names for the document, indices into the estimate arrays."""

    model: PathModel
    consistent: bool
    scheme: str
    paths: tuple[tuple[str, str, str], ...]
    outer: tuple[tuple[str, str], ...]                 # (construct, item) of every loading/weight
    pairs: tuple[tuple[str, str], ...]                 # HTMT pairs
    indirect: tuple[tuple[str, tuple[str, ...]], ...]  # (name, chain)
    total: tuple[tuple[str, str], ...]                 # (from, to) with a total effect

    @classmethod
    def of(cls, model: PathModel, *, consistent: bool, scheme: str, htmt_constructs: tuple[str, ...],
           indirect: tuple[tuple[str, tuple[str, ...]], ...], total: tuple[tuple[str, str], ...]) -> "Layout":
        outer = tuple((c, i) for c, block in zip(model.constructs, model.blocks) for i in block)
        return cls(model, consistent, scheme, model.paths, outer, tuple(htmt_pairs(model, htmt_constructs)),
                   indirect, total)

    def sizes(self) -> dict[str, int]:
        return {"paths": len(self.paths), "loadings": len(self.outer), "weights": len(self.outer),
                "htmt": len(self.pairs), "indirect": len(self.indirect), "total": len(self.total)}

    def split(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """(R, m) → {part: (R, size)} in the order of ``sizes``."""
        out, at = {}, 0
        for name, size in self.sizes().items():
            out[name] = vectors[:, at:at + size]
            at += size
        return out

    def vector(self, S: np.ndarray, est: Estimates) -> np.ndarray:
        """(R, m): paths, loadings, weights, HTMT, specific indirect effects, total effects."""
        m = self.model
        ix = m.index
        p_from = [ix(s) for s, _, _ in self.paths]
        p_to = [ix(d) for _, d, _ in self.paths]
        o_item = [m.items.index(i) for _, i in self.outer]
        o_con = [ix(c) for c, _ in self.outer]
        parts = [est.paths[:, p_from, p_to], est.loadings[:, o_item, o_con], est.weights[:, o_item, o_con],
                 htmt(S, m, list(self.pairs))]
        ind = np.ones((S.shape[0], len(self.indirect)))
        for j, (_, chain) in enumerate(self.indirect):
            for a, b in zip(chain, chain[1:]):
                ind[:, j] *= est.paths[:, ix(a), ix(b)]
        parts.append(ind)
        parts.append(est.total[:, [ix(a) for a, _ in self.total], [ix(b) for _, b in self.total]])
        return np.concatenate(parts, axis=1)

    def estimate(self, S: np.ndarray) -> tuple[Estimates, np.ndarray]:
        """Estimates of the correlation matrices S (R, p, p) and their reported vector (R, m)."""
        est = estimate(S, self.model, consistent=self.consistent, scheme=self.scheme)
        return est, self.vector(S, est)
