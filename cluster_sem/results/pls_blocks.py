"""Typed blocks of a `cluster-sem pls` document's ``pls`` block (read side; ``pls/run.py`` writes it).

Declared as ``Block`` records like every other block (``results/document.py``), so the PLS renderer reads
fields, not dict keys, and a hand-edited document missing a key shows a blank, not a KeyError.
"""
from __future__ import annotations

from dataclasses import field
from typing import Any, Mapping

from .document import Block


class PlsInference(Block):
    """Bootstrap inference of one estimate (all None without --bootstrap)."""

    est: float | None
    se: float | None = None
    t: float | None = None
    pvalue: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    bca_lower: float | None = None
    bca_upper: float | None = None


class PlsPath(PlsInference):
    """An inner path: ``kind`` structural (the spec's), second_order (HOC → dimension) or control."""

    from_: str = field(default="", metadata={"key": "from"})
    to: str = ""
    kind: str = "structural"
    f2: float | None = None
    vif: float | None = None


class PlsOuter(PlsInference):
    """A loading or weight of one item on one construct."""

    construct: str = ""
    item: str = ""


class PlsHtmt(Block):
    a: str
    b: str
    est: float | None
    ci_upper: float | None = None
    below_085: bool | None = None
    below_090: bool | None = None


class PlsIndirect(PlsInference):
    name: str = ""
    path: tuple[str, ...] = ()


class PlsTotal(PlsInference):
    from_: str = field(default="", metadata={"key": "from"})
    to: str = ""


class PlsConstruct(Block):
    name: str
    mode: str = "A"
    kind: str = "composite"
    items: tuple[str, ...] = ()


class PlsBootstrap(Block):
    resamples: int = 0
    completed: int = 0
    failed: int = 0
    not_converged: int = 0
    seed: int | None = None
    level: float = 0.95


class PlsBlock(Block):
    """The ``pls`` block: the estimates of ``variant`` (pls / plsc) and their quality criteria."""

    variant: str = "pls"
    mode: str = "A"
    weighting: str = "path"
    iterations: int | None = None
    converged: bool | None = None
    n: int | None = None
    constructs: tuple[PlsConstruct, ...] = ()
    paths: tuple[PlsPath, ...] = ()
    loadings: tuple[PlsOuter, ...] = ()
    weights: tuple[PlsOuter, ...] = ()
    r2: Mapping[str, Any] = None
    r2_adj: Mapping[str, Any] = None
    reliability: Mapping[str, Any] = None     # construct -> {alpha, rho_a, rho_c, ave}
    htmt: tuple[PlsHtmt, ...] = ()
    indirect: tuple[PlsIndirect, ...] = ()
    total: tuple[PlsTotal, ...] = ()
    vif: Mapping[str, Any] = None             # {"outer": {C: {item: v}}, "inner": {C: {predictor: v}}}
    predict: Mapping[str, Any] | None = None
    mga: Mapping[str, Any] | None = None      # --mga: {group, resamples, groups, comparisons}
    cbsem_comparison: Mapping[str, Any] | None = None   # --cbsem: {source, cbsem_estimator, paths, indirect}
    bootstrap: PlsBootstrap | None = None
    second_order: str | None = None           # "repeated" | "two-stage"; None without second-order constructs


__all__ = ["PlsBlock", "PlsPath", "PlsOuter", "PlsHtmt", "PlsIndirect", "PlsTotal", "PlsConstruct",
           "PlsBootstrap", "PlsInference"]
