"""Simulated data sets → sample covariances, one ``SeedSequence`` child per replication.

Replication r of sample size n is drawn from ``SeedSequence(seed, spawn_key=(n, r))`` — the same data as
``cluster_sem.simulate.simulate(spec, n, that SeedSequence)`` after the data layer's recoding — so a
replication's data depend on (spec, seed, n, r) only: never on --jobs, the scheduler, the chunking, the
other sample sizes or an interruption.  Listwise deletion drops rows with a blanked item, as
``prepare_data(missing="listwise")`` does; for FIML (``keep_missing``) blanked items become NaN and every
row with at least one answered item is kept, as ``prepare_data(missing="fiml")`` does.
"""
from __future__ import annotations

import numpy as np

from ..rng import seed_sequence
from ..simulate.simulator import SurveySampler


def replication_seed(seed: int, n: int, r: int, stream: int | None = None) -> np.random.SeedSequence:
    """The replication's seed; ``stream`` 1, 2, … give independent streams for its Monte Carlo CI draws."""
    return seed_sequence(seed, n, r) if stream is None else seed_sequence(seed, n, r, stream)


def analysis_columns(sampler: SurveySampler, names: list[str]) -> list[tuple[str, int]]:
    """Where each model variable comes from in a ``SurveyDraw``: ('item', j) or ('control', j)."""
    items = {v: j for j, v in enumerate(sampler.item_names)}
    controls = {v: j for j, v in enumerate(sampler.control_names)}
    return [("item", items[v]) if v in items else ("control", controls[v]) for v in names]


def draw_replication(sampler: SurveySampler, columns: list[tuple[str, int]], n: int, seed: int, r: int,
                     keep_missing: bool = False) -> np.ndarray:
    """Analysis data (rows kept × model variables) of replication r: items construct-aligned, listwise
    (or, with ``keep_missing``, blanks as NaN)."""
    d = sampler.draw(n, np.random.default_rng(replication_seed(seed, n, r)))
    X = np.empty((n, len(columns)))
    for c, (kind, j) in enumerate(columns):
        X[:, c] = d.items[:, j] if kind == "item" else d.controls[j]
    if d.missing is not None:
        if not keep_missing:
            return X[~d.missing.any(axis=1)]
        items = [c for c, (kind, _) in enumerate(columns) if kind == "item"]
        blank = np.zeros(X.shape, dtype=bool)
        blank[:, items] = d.missing[:, [j for kind, j in columns if kind == "item"]]
        X[blank] = np.nan
        X = X[~np.all(blank[:, items], axis=1)] if items else X
    return X


def covariance(X: np.ndarray) -> np.ndarray:
    """ML covariance (divisor N), as the model uses; NaN when fewer than two rows remain."""
    if len(X) < 2:
        return np.full((X.shape[1], X.shape[1]), np.nan)
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / len(X)
