"""The parameter space of a multigroup WLSMV model (lavaan 0.6 ``lav_partable_flat``, delta parameterization).

Why a layout of its own: the ML group table (``partable_groups``) knows loadings, (co)variances, intercepts
and means; ordinal items add two kinds of parameters it does not hold — thresholds (``item | t1``) and the
latent-response scale factors Δ (``item ~*~ item``) — and change two rows: the item intercepts are fixed
at 0 and the item residual variances are not parameters but 1/Δ² − (model part) (delta parameterization).

lavaan's identification rules for G groups (lavaan 0.6-14 ``lav_partable_flat``, the plain
``group.equal`` route; Wu & Estabrook 2016 is the ``measEq.syntax`` route, not this one):

* thresholds are free in every group; with ``"thresholds"`` in ``group_equal`` they share one parameter
  per (item, threshold) across groups (unless released in ``group_partial``, e.g. ``"x1|t2"``);
* Δ is fixed at 1 in every group; with ``"thresholds"`` in ``group_equal`` it is freed in groups 2..G
  (not for binary items: one threshold cannot identify both a shift and a scale — lavaan ≥ 0.6-20);
* latent means are 0 in every group; with ``"thresholds"`` (or ``"intercepts"``) in ``group_equal`` and
  not ``"means"`` they are freed in groups 2..G (the reference group's mean is 0);
* latent variances are free in every group (marker-variable scaling), loadings as ``group_equal`` says.

θ = (model parameters of the delta table, thresholds, scale factors).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ...errors import FitError
from ..group_model import GroupModel, build_group_model
from ..partable import Param, ParTable
from ..partable_groups import GROUP_EQUAL, build_group_partable, checked_group_equal
from .categories import threshold_names
from .delta import DeltaModel

ORDINAL_EQUAL = GROUP_EQUAL + ("thresholds",)


@dataclass(frozen=True)
class GroupLayout:
    full: ParTable                  # lavaan's table: item residual variances as rows with their own index
    delta: ParTable                 # the same with those rows fixed (derived), free indices renumbered
    model: GroupModel               # matrices of the delta table (what σ(θ) is computed from)
    blocks: tuple[DeltaModel, ...]  # per group: moments Π, Σ_y|x of the delta table
    items: tuple[str, ...]
    covariates: tuple[str, ...]
    n_categories: np.ndarray        # per item (the same in every group)
    full_index: np.ndarray          # full free index → delta free index (−1: derived residual variance)
    th_index: np.ndarray            # (G, n_th): θ index of every threshold of every group
    scale_index: np.ndarray         # (G, p): θ index of Δ (−1: fixed at 1)
    q_model: int
    q: int

    @property
    def n_groups(self) -> int:
        return self.full.n_groups

    @property
    def th_item(self) -> np.ndarray:
        """The item (position) of every threshold."""
        return np.repeat(np.arange(len(self.items)), self.n_categories - 1)

    def threshold_names(self) -> list[tuple[str, str]]:
        return threshold_names(self.items, self.n_categories)

    def scale(self, theta: np.ndarray, g: int) -> np.ndarray:
        idx = self.scale_index[g]
        return np.where(idx >= 0, theta[np.maximum(idx, 0)], 1.0)


def _renumber(params: list[Param], fix) -> tuple[list[Param], dict[int, int]]:
    """Fix the rows where ``fix(p)`` is true and renumber the remaining free indices 0..q−1 in order."""
    old_to_new: dict[int, int] = {}
    out = []
    for p in params:
        if p.free >= 0 and fix(p):
            out.append(replace(p, free=-1, value=0.0))
            continue
        if p.free >= 0:
            p = replace(p, free=old_to_new.setdefault(p.free, len(old_to_new)))
        out.append(p)
    return out, old_to_new


def _table(like: ParTable, params: list[Param], n_free: int) -> ParTable:
    labels = [""] * n_free
    for p in params:
        if p.free >= 0 and p.label:
            labels[p.free] = p.label
    return ParTable(tuple(params), like.defined, like.variables, n_free, tuple(labels), like.groups,
                    like.meanstructure, like.n_unco)


def build_layout(syntax: str, groups: Sequence[str], n_categories: np.ndarray, *,
                 group_equal: Iterable[str] = (), group_partial: Iterable[str] = (),
                 equal_rows: Iterable[str] = (), fixed_lv_means: Iterable[str] = ()) -> GroupLayout:
    """The group table of ``syntax`` with lavaan's ordinal rules (module docstring): model parameters of
    the delta table, then one θ index per threshold (shared across groups when equal), then Δ."""
    equal = checked_group_equal(group_equal, ORDINAL_EQUAL)
    thresholds_equal = "thresholds" in equal
    th_partial = {r for r in group_partial if "|" in r}
    pt = _group_table(syntax, groups, equal, [r for r in group_partial if "|" not in r], equal_rows,
                      fixed_lv_means)
    covariates = tuple(pt.variables.ov_x)
    items = tuple(v for v in pt.variables.ov if v not in covariates)
    full, delta, full_index, q_model = _full_and_delta(pt, set(items))
    model = build_group_model(delta)
    blocks = tuple(_delta_block(mm, items, covariates) for mm in model.blocks)
    th_index, nxt = _threshold_index(items, n_categories, len(groups), thresholds_equal, th_partial, q_model)
    scale_index, q = _scale_index(n_categories, len(groups), len(items), thresholds_equal, nxt)
    return GroupLayout(full, delta, model, blocks, items, covariates, np.asarray(n_categories),
                       full_index, th_index, scale_index, q_model, q)


def _group_table(syntax: str, groups: Sequence[str], equal: set[str], partial: list[str],
                 equal_rows: Iterable[str], fixed_lv_means: Iterable[str]) -> ParTable:
    """The ML group table with a mean structure; thresholds are not ML rows, so their constraints are
    handled here: "intercepts" frees the latent means in groups 2..G (what lavaan does for "thresholds");
    the item intercepts it would constrain are fixed at 0 by ``_full_and_delta``."""
    base_equal = (equal - {"thresholds"}) | ({"intercepts"} if "thresholds" in equal else set())
    pt = build_group_partable(syntax, groups, group_equal=base_equal, group_partial=partial,
                              equal_rows=equal_rows, meanstructure=True, fixed_lv_means=fixed_lv_means)
    if pt.variables.ov_y:
        raise FitError(f"WLSMV: observed outcome(s) {', '.join(pt.variables.ov_y)} are not supported; model "
                       "them as constructs or exogenous controls. Fix: use --estimator ML")
    return pt


def _full_and_delta(pt: ParTable, itemset: set[str]) -> tuple[ParTable, ParTable, np.ndarray, int]:
    """lavaan's full table (item intercepts fixed at 0) and the delta table (item residual variances
    derived too), with the map full free index → delta free index."""
    full_params, _ = _renumber(list(pt.params), lambda p: p.op == "~1" and p.lhs in itemset)
    n_full = len({p.free for p in full_params if p.free >= 0})
    full = _table(pt, full_params, n_full)
    delta_params, old_to_new = _renumber(full_params, lambda p: p.op == "~~" and p.lhs == p.rhs
                                         and p.lhs in itemset)
    q_model = len(old_to_new)
    delta = _table(pt, delta_params, q_model)
    full_index = np.array([old_to_new.get(k, -1) for k in range(n_full)], dtype=int)
    return full, delta, full_index, q_model


def _delta_block(mm, items: tuple[str, ...], covariates: tuple[str, ...]) -> DeltaModel:
    y_idx = np.array([mm.ov.index(v) for v in items], dtype=int)
    x_idx = np.array([mm.ov.index(v) for v in covariates], dtype=int)
    return DeltaModel(None, None, None, mm, items, None, None, None, y_idx, x_idx)


def _threshold_index(items: tuple[str, ...], n_categories: np.ndarray, G: int, thresholds_equal: bool,
                     th_partial: set[str], nxt: int) -> tuple[np.ndarray, int]:
    """θ index of every threshold of every group, from ``nxt`` on; with equal thresholds a group reuses
    the first group's index unless the threshold is released.  Returns the indices and the next free one."""
    n_th = int(np.sum(n_categories - 1))
    names = [f"{item}|t{t}" for item, k in zip(items, n_categories) for t in range(1, k)]
    known = set(names)
    for key in sorted(th_partial - known):
        raise FitError(f"'{key}' is not a threshold of the model. Fix: write it as item|t1, item|t2, ...")
    th_index = np.zeros((G, n_th), dtype=int)
    shared: dict[str, int] = {}
    for g in range(G):
        for k, name in enumerate(names):
            if thresholds_equal and name not in th_partial and name in shared:
                th_index[g, k] = shared[name]
                continue
            th_index[g, k] = nxt
            shared.setdefault(name, nxt)
            nxt += 1
    return th_index, nxt


def _scale_index(n_categories: np.ndarray, G: int, n_items: int, thresholds_equal: bool,
                 nxt: int) -> tuple[np.ndarray, int]:
    """θ index of Δ: free in groups 2..G for non-binary items when thresholds are equal, else −1 (fixed
    at 1).  Returns the indices and q, the length of θ."""
    scale_index = np.full((G, n_items), -1, dtype=int)
    if thresholds_equal:
        for g in range(1, G):
            for a, k in enumerate(n_categories):
                if k > 2:
                    scale_index[g, a] = nxt
                    nxt += 1
    return scale_index, nxt
