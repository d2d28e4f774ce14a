"""The numbers a PLS fit reports and the bootstrap resamples, laid out as one vector per replicate.

``Layout`` fixes, once per model, which entries of the estimate arrays are reported (paths, loadings,
weights, HTMT pairs, the spec's specific indirect effects, total effects); ``Layout.vector`` turns an
``Estimates`` of R replicates into an (R, m) array.  The point estimate, every bootstrap block and the
jackknife of the BCa interval all go through the same function, so their columns always line up.

Two-stage higher-order models (``stage1`` set): ``Layout.estimate`` fits stage 1 on the items, appends
the stage-1 scores of the dimensions to the correlation matrix (cov(item, score) = S·w, cov(score, score)
= w'Sw: scores are linear in the items), and fits stage 2 on that matrix — both stages from S alone, so
every bootstrap resample redoes both in the same batched pass.
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
    stage1: PathModel | None = None                    # two-stage: the first-stage model (``model`` = stage 2)

    @classmethod
    def of(cls, model: PathModel, *, consistent: bool, scheme: str, htmt_constructs: tuple[str, ...],
           indirect: tuple[tuple[str, tuple[str, ...]], ...], total: tuple[tuple[str, str], ...],
           stage1: PathModel | None = None) -> "Layout":
        """The layout of ``model``; with ``stage1`` (two-stage), the dimensions' stage-1 loadings and weights
        follow the stage-2 ones and HTMT compares the first-order constructs of stage 1."""
        outer = tuple((c, i) for c, block in zip(model.constructs, model.blocks) for i in block)
        if stage1 is not None:
            dims = _dimensions(stage1, model)
            outer += tuple((c, i) for c, block in zip(stage1.constructs, stage1.blocks) if c in dims
                           for i in block)
        pairs = tuple(htmt_pairs(stage1 or model, htmt_constructs))
        return cls(model, consistent, scheme, model.paths, outer, pairs, indirect, total, stage1)

    @property
    def items(self) -> tuple[str, ...]:
        """The data columns, in the order the correlation matrices passed to ``estimate`` follow."""
        return (self.stage1 or self.model).items

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Two-stage: the constructs of stage 1 whose scores are items of stage 2, in stage-2 item order."""
        return () if self.stage1 is None else _dimensions(self.stage1, self.model)


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

    def vector(self, S: np.ndarray, est: Estimates, first: Estimates | None = None) -> np.ndarray:
        """(R, m): paths, loadings, weights, HTMT, specific indirect effects, total effects.  Two-stage: S
        and ``first`` are the items' correlations and the stage-1 estimates, ``est`` the stage-2 ones."""
        m = self.model
        ix = m.index
        p_from = [ix(s) for s, _, _ in self.paths]
        p_to = [ix(d) for _, d, _ in self.paths]
        n2 = sum(len(b) for b in m.blocks)
        loadings, weights = (np.concatenate(x, axis=1) for x in zip(
            _outer(est, m, self.outer[:n2], len(S)), _outer(first, self.stage1, self.outer[n2:], len(S))))
        parts = [est.paths[:, p_from, p_to], loadings, weights, htmt(S, self.stage1 or m, list(self.pairs))]
        ind = np.ones((S.shape[0], len(self.indirect)))
        for j, (_, chain) in enumerate(self.indirect):
            for a, b in zip(chain, chain[1:]):
                ind[:, j] *= est.paths[:, ix(a), ix(b)]
        parts.append(ind)
        parts.append(est.total[:, [ix(a) for a, _ in self.total], [ix(b) for _, b in self.total]])
        return np.concatenate(parts, axis=1)

    def stages(self, S: np.ndarray) -> tuple[np.ndarray, Estimates | None]:
        """The correlation matrices stage 2 is fitted on, and the stage-1 estimates (S itself and None for a
        one-stage model)."""
        if self.stage1 is None:
            return S, None
        first = estimate(S, self.stage1, consistent=self.consistent, scheme=self.scheme)
        return augment(S, first.weights, self.stage1, self.model, self.dimensions), first

    def estimate(self, S: np.ndarray) -> tuple[Estimates, np.ndarray]:
        """Estimates of the correlation matrices S (R, p, p) of ``items`` and their reported vector (R, m);
        two-stage: the stage-2 estimates."""
        S2, first = self.stages(S)
        est = estimate(S2, self.model, consistent=self.consistent, scheme=self.scheme)
        return est, self.vector(S, est, first)


def _outer(est: Estimates | None, model: PathModel | None, entries, R: int) -> tuple[np.ndarray, np.ndarray]:
    """(R, len(entries)) loadings and weights of the (construct, item) ``entries`` of ``model``."""
    if not entries:
        return np.empty((R, 0)), np.empty((R, 0))
    item = [model.items.index(i) for _, i in entries]
    con = [model.index(c) for c, _ in entries]
    return est.loadings[:, item, con], est.weights[:, item, con]


def augment(S: np.ndarray, W: np.ndarray, stage1: PathModel, stage2: PathModel,
            dimensions: tuple[str, ...]) -> np.ndarray:
    """(R, p2, p2) correlations of stage 2's items: the stage-1 items plus the stage-1 scores of
    ``dimensions`` (unit variance: cov(item, score) = S·w, cov(score, score) = w'Sw), in stage-2 item order."""
    d = [stage1.index(c) for c in dimensions]
    Wd = W[:, :, d]
    SW = S @ Wd
    top = np.concatenate([S, SW], axis=2)
    bottom = np.concatenate([np.swapaxes(SW, 1, 2), np.swapaxes(Wd, 1, 2) @ SW], axis=2)
    full = np.concatenate([top, bottom], axis=1)
    sd = np.sqrt(np.diagonal(full, axis1=1, axis2=2))       # 1 up to rounding: restandardise, as seminr's
    full = full / (sd[:, :, None] * sd[:, None, :])         # stage 2 standardises the appended scores
    names = stage1.items + dimensions
    order = [names.index(i) for i in stage2.items]
    return full[:, order][:, :, order]


def _dimensions(stage1: PathModel, stage2: PathModel) -> tuple[str, ...]:
    """Stage-2 items that are stage-1 scores (constructs of stage 1, not columns of the data)."""
    return tuple(i for i in stage2.items if i in stage1.constructs and i not in stage1.items)
