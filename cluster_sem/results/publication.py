"""The `fit` blocks reviewers ask for: ``modification_indices`` (``--modindices``) and ``comparisons``
(``--compare``), assembled once from the fitted models.

Why checked before the fit: a misspelt ``--compare`` or ``--modindices`` with an estimator it is not
verified for must end in one line (exit 2) before minutes of fitting and bootstrapping, not after.
"""
from __future__ import annotations

import pandas as pd

from ..model.compare import Effect, compare, parse_hypothesis
from ..model.modindices import modification_indices
from ..spec import Spec
from ..spec.syntax import defined_effects
from .jsonsafe import json_safe


def check_requests(spec: Spec, options) -> list[tuple[str, Effect, Effect]]:
    """The parsed ``--compare`` hypotheses (a bad one: exit 2 through ClusterSemError); ``--modindices`` outside
    plain ML was refused by the support table when the options were resolved (``lavoptions.SUPPORT``)."""
    paths = {(p.to, x) for p in spec.paths for x in p.from_}
    effects = {e.name for e in defined_effects(spec) if e.kind == "indirect"}
    return [(text, *parse_hypothesis(text, paths, effects)) for text in options.compare]


def publication_blocks(spec: Spec, cfa, sem, frame: pd.DataFrame, options,
                       hypotheses: list[tuple[str, Effect, Effect]], refit) -> dict:
    """``modification_indices`` and ``comparisons`` (each only when asked for); ``refit(syntax)`` fits a
    constrained structural model with the run's own estimator (the pipeline passes ``pipeline.refitter``)."""
    out: dict = {}
    if options.modindices:
        out["modification_indices"] = json_safe(modification_indices(cfa, model="measurement")
                                                + modification_indices(sem, model="structural"))
    if hypotheses:
        out["comparisons"] = [json_safe(compare(sem, text, left, right, refit)) for text, left, right in hypotheses]
    return out


__all__ = ["check_requests", "publication_blocks"]
