"""Typed blocks of a `cluster-sem pls` document's ``pls`` block (read side; ``pls/run.py`` writes it).

Declared as ``Block`` records like every other block (``results/document.py``), so the PLS renderer reads
fields, not dict keys; the required keys (paths, loadings, weights, htmt, reliability, r2; a row's ends) are what
`report DIR` checks a `pls` document for (``results/schema.py``).
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from .document import Block, Count, Number


class PlsInference(Block):
    """Bootstrap inference of one estimate (all None without --bootstrap)."""

    est: Number | None = None
    se: Number | None = None
    t: Number | None = None
    pvalue: Number | None = None
    ci_lower: Number | None = None
    ci_upper: Number | None = None
    bca_lower: Number | None = None
    bca_upper: Number | None = None


class PlsPath(PlsInference):
    """An inner path: ``kind`` structural (the spec's), second_order (HOC → dimension) or control."""

    from_: str = Field(alias="from")
    to: str
    kind: str = "structural"
    f2: Number | None = None
    vif: Number | None = None


class PlsOuter(PlsInference):
    """A loading or weight of one item on one construct."""

    construct: str
    item: str


class PlsHtmt(Block):
    a: str
    b: str
    est: Number | None = None
    ci_upper: Number | None = None
    below_085: bool | None = None
    below_090: bool | None = None


class PlsIndirect(PlsInference):
    name: str = ""
    path: tuple[str, ...] = ()


class PlsTotal(PlsInference):
    from_: str = Field(alias="from")
    to: str


class PlsConstruct(Block):
    name: str
    mode: str = "A"
    kind: str = "composite"
    items: tuple[str, ...] = ()


class PlsBootstrap(Block):
    resamples: Count = 0
    completed: Count = 0
    failed: Count = 0
    not_converged: Count = 0
    seed: Count | None = None
    level: Number = 0.95


class PlsBlock(Block):
    """The ``pls`` block: the estimates of ``variant`` (pls / plsc) and their quality criteria."""

    variant: str = "pls"
    mode: str = "A"
    weighting: str = "path"
    iterations: Count | None = None
    converged: bool | None = None
    n: Count | None = None
    constructs: tuple[PlsConstruct, ...] = ()
    paths: tuple[PlsPath, ...]
    loadings: tuple[PlsOuter, ...]
    weights: tuple[PlsOuter, ...]
    r2: dict[str, Any]
    r2_adj: dict[str, Any] = {}
    reliability: dict[str, Any]    # construct -> {alpha, rho_a, rho_c, ave}
    htmt: tuple[PlsHtmt, ...]
    indirect: tuple[PlsIndirect, ...] = ()
    total: tuple[PlsTotal, ...] = ()
    vif: dict[str, Any] = {}             # {"outer": {C: {item: v}}, "inner": {C: {predictor: v}}}
    predict: dict[str, Any] | None = None
    mga: dict[str, Any] | None = None      # --mga: {group, resamples, groups, comparisons}
    cbsem_comparison: dict[str, Any] | None = None   # --cbsem: {source, cbsem_estimator, paths, indirect}
    bootstrap: PlsBootstrap | None = None
    second_order: str | None = None           # "repeated" | "two-stage"; None without second-order constructs


__all__ = ["PlsBlock", "PlsPath", "PlsOuter", "PlsHtmt", "PlsIndirect", "PlsTotal", "PlsConstruct",
           "PlsBootstrap", "PlsInference"]
