"""Simulated data sets → sample covariances, one ``SeedSequence`` child per replication.

Replication r of sample size n is drawn from ``SeedSequence(seed, spawn_key=(n, r))`` — the same data as
``cluster_sem.simulate.simulate(spec, n, that SeedSequence)`` after the data layer's recoding — so a
replication's data depend on (spec, seed, n, r) only: never on --jobs, the scheduler, the chunking, the
other sample sizes or an interruption.  Listwise deletion drops rows with a blanked item, as
``prepare_data(missing="listwise")`` does; for FIML (``keep_missing``) blanked items become NaN and every
row with at least one answered item is kept, as ``prepare_data(missing="fiml")`` does.  A clustered design
(``cluster_size`` M) draws the n = K·M firms in K consecutive clusters of M with the spec's cluster random
effects (``population.icc``), and the kept rows carry their cluster codes.
"""
from __future__ import annotations

import numpy as np

from ..rng import seed_sequence
from ..simulate.population import cluster_sizes
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
    return draw_rows(sampler, columns, n, seed, r, keep_missing)[0]


def draw_rows(sampler: SurveySampler, columns: list[tuple[str, int]], n: int, seed: int, r: int,
              keep_missing: bool = False, cluster_size: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Replication r's analysis data and, for a clustered design of ``cluster_size`` firms per cluster, the
    cluster code of each kept row (None for independent firms)."""
    sizes = None if cluster_size is None else cluster_sizes(n, n // cluster_size)
    d = sampler.draw(n, np.random.default_rng(replication_seed(seed, n, r)), sizes)
    X = np.empty((n, len(columns)))
    for c, (kind, j) in enumerate(columns):
        X[:, c] = d.items[:, j] if kind == "item" else d.controls[j]
    keep = np.ones(n, dtype=bool)
    if d.missing is not None:
        if not keep_missing:
            keep = ~d.missing.any(axis=1)
        else:
            items = [c for c, (kind, _) in enumerate(columns) if kind == "item"]
            blank = np.zeros(X.shape, dtype=bool)
            blank[:, items] = d.missing[:, [j for kind, j in columns if kind == "item"]]
            X[blank] = np.nan
            if items:
                keep = ~np.all(blank[:, items], axis=1)
    return X[keep], (None if d.cluster is None else d.cluster[keep])


def covariance(X: np.ndarray) -> np.ndarray:
    """ML covariance (divisor N), as the model uses; NaN when fewer than two rows remain."""
    if len(X) < 2:
        return np.full((X.shape[1], X.shape[1]), np.nan)
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / len(X)
