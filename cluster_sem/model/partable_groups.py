"""Parameter table for G groups and/or a mean structure (lavaan ``lav_partable_flat`` + ``_labels``).

Why a second builder instead of changing ``build_partable``: the single-group covariance table is the
fast, lavaan-tested path and must not move.  This builder starts from it and adds, as lavaan does:

* a mean structure (``meanstructure = TRUE``, lavaan's default as soon as there are several groups):
  one ``v ~1`` row per observed variable (free; fixed at the sample mean for fixed.x covariates) and one
  ``f ~1`` row per latent variable (fixed at 0);
* one copy of every row per group (``group`` column, block order as lavaan: all rows of group 1, then
  group 2, ...);
* latent means freed in groups 2..G when ``intercepts`` (but not ``means``) are in ``group_equal`` —
  lavaan's identification of latent means under scalar invariance (reference group mean = 0);
* equality constraints: rows sharing a user label, and rows flagged by ``group_equal`` (same lhs/op/rhs
  in every group) share one free index; ``group_partial`` ("CE=~ce3", "x1~1") releases rows from the
  ``group_equal`` sets; ``equal_rows`` constrains extra rows (the per-path LRTs of the path analysis).

Every free row also gets an ``unco`` index (its own parameter before the constraints): the score tests
(``score_test.py``) work in that space with the constraint matrix from ``equality_constraints``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import FitError
from .partable import Param, ParTable, build_partable

GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances", "lv.variances",
               "lv.covariances", "regressions")


def row_key(p: Param) -> str:
    """lavaan's way of naming a row in ``group.partial``: lhs, op and rhs pasted together."""
    return f"{p.lhs}{p.op}{p.rhs}"


def _flagged(p: Param, equal: set[str], lv: set[str], ov_nox: set[str]) -> bool:
    """Is this row in one of the ``group_equal`` sets (lav_partable_labels)?"""
    if p.op == "=~":
        return "loadings" in equal
    if p.op == "~":
        return "regressions" in equal
    if p.op == "~1":
        return ("intercepts" in equal and p.lhs in ov_nox) or ("means" in equal and p.lhs in lv)
    if p.op == "~~":
        if p.lhs in ov_nox:
            return ("residuals" if p.lhs == p.rhs else "residual.covariances") in equal
        if p.lhs in lv:
            return ("lv.variances" if p.lhs == p.rhs else "lv.covariances") in equal
    return False


def build_group_partable(syntax: str, groups: Sequence[str], *, group_equal: Iterable[str] = (),
                         group_partial: Iterable[str] = (), equal_rows: Iterable[str] = (),
                         meanstructure: bool = True, fixed_lv_means: Iterable[str] = ()) -> ParTable:
    """lavaan's parameter table for ``len(groups)`` groups (one group allowed: a mean-structure model).

    ``fixed_lv_means``: latents whose means stay 0 in every group even under scalar invariance (the
    dimensions of a second-order construct, whose means run through the second-order mean; lavaan would
    free them too and leave the model unidentified)."""
    equal = checked_group_equal(group_equal, GROUP_EQUAL)
    partial, forced = set(group_partial), set(equal_rows)
    base = build_partable(syntax)
    _check_named_rows(base, partial | forced)
    var = base.variables
    lv, ov_nox = set(var.lv), {v for v in var.ov if v not in set(var.ov_x)}
    free_means = "intercepts" in equal and "means" not in equal
    keep_fixed = set(fixed_lv_means)
    template = _template(base, meanstructure)

    rows: list[Param] = []
    index: dict[str, int] = {}      # equality key → free index
    free_labels: list[str] = []
    n_free = n_unco = 0
    for g in range(len(groups)):
        for p in template:
            free = p.free >= 0
            value = p.value
            if p.op == "~1" and p.lhs in lv and g > 0 and free_means and not p.user and p.lhs not in keep_fixed:
                free, value = True, None
            if not free:
                rows.append(Param(p.lhs, p.op, p.rhs, p.label, -1, value, p.user, p.exo, g))
                continue
            key = _equality_key(p, equal, lv, ov_nox, partial, forced)
            if key is not None and key in index:
                idx = index[key]
            else:
                idx = n_free
                n_free += 1
                free_labels.append(p.label)
                if key is not None:
                    index[key] = idx
            rows.append(Param(p.lhs, p.op, p.rhs, p.label, idx, None, p.user, False, g, n_unco))
            n_unco += 1
    return ParTable(tuple(rows), base.defined, var, n_free, tuple(free_labels), tuple(groups), meanstructure,
                    n_unco)


def checked_group_equal(group_equal: Iterable[str], allowed: Sequence[str]) -> set[str]:
    """``group_equal`` as a set, each name one of ``allowed`` (else FitError naming the fix)."""
    equal = set(group_equal)
    unknown = equal - set(allowed)
    if unknown:
        raise FitError(f"group_equal: unknown set(s) {', '.join(sorted(unknown))}. "
                       f"Fix: use {', '.join(allowed)}")
    return equal


def _check_named_rows(base: ParTable, keys: set[str]) -> None:
    """Rows named in ``group_partial``/``equal_rows`` must be parameters of the model (or a mean)."""
    var = base.variables
    known = {row_key(p) for p in base.params} | {f"{v}~1" for v in list(var.ov) + list(var.lv)}
    for key in sorted(keys - known):
        raise FitError(f"'{key}' is not a parameter of the model. Fix: write it as lhs op rhs, e.g. CE=~ce3 or ce3~1")


def _template(base: ParTable, meanstructure: bool) -> list[Param]:
    """One group's rows: the single-group table plus, with a mean structure, item intercepts (free;
    fixed.x means of covariates) and latent means (fixed at 0)."""
    var = base.variables
    ov_x = set(var.ov_x)
    template = list(base.params)
    if meanstructure:
        for v in var.ov:
            if v in ov_x:
                template.append(Param(v, "~1", "", free=-1, value=None, user=False, exo=True))
            else:
                template.append(Param(v, "~1", "", free=0, user=False))
        for f in var.lv:
            template.append(Param(f, "~1", "", free=-1, value=0.0, user=False))
    return template


def _equality_key(p: Param, equal: set[str], lv: set[str], ov_nox: set[str], partial: set[str],
                  forced: set[str]) -> str | None:
    """Free rows with the same key share one parameter across groups: a label, or the row itself when
    its kind is in ``group_equal`` (and not released) or it is named in ``equal_rows``; None: free alone."""
    if p.label:
        return f"label:{p.label}"
    if (_flagged(p, equal, lv, ov_nox) and row_key(p) not in partial) or row_key(p) in forced:
        return f"row:{row_key(p)}"
    return None


def equality_constraints(pt: ParTable) -> tuple[np.ndarray, list[tuple[Param, Param]]]:
    """Constraint matrix R (rows: x_first − x_other = 0 in the unco space) and the row pairs, lavaan's
    ``lav_test_score_ceq_simple``: for each shared free index, the first row against every other."""
    first: dict[int, Param] = {}
    pairs: list[tuple[Param, Param]] = []
    for p in pt.params:
        if p.free < 0:
            continue
        if p.free in first:
            pairs.append((first[p.free], p))
        else:
            first[p.free] = p
    R = np.zeros((len(pairs), pt.n_unco))
    for k, (a, b) in enumerate(pairs):
        R[k, a.unco], R[k, b.unco] = 1.0, -1.0
    return R, pairs


def unconstrained(pt: ParTable) -> ParTable:
    """The same table with every free row its own parameter (free = unco): the score tests' model."""
    rows = tuple(Param(p.lhs, p.op, p.rhs, "", p.unco if p.free >= 0 else -1, p.value, p.user, p.exo, p.group,
                       p.unco) for p in pt.params)
    return ParTable(rows, (), pt.variables, pt.n_unco, ("",) * pt.n_unco, pt.groups, pt.meanstructure,
                    pt.n_unco)


def unco_map(pt: ParTable) -> np.ndarray:
    """Index vector mapping θ (constrained) to x (unco): x = θ[unco_map]."""
    out = np.zeros(pt.n_unco, dtype=int)
    for p in pt.params:
        if p.free >= 0:
            out[p.unco] = p.free
    return out
