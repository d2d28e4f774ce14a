"""Synthetic Likert survey data from ``spec.population`` (what ``cluster-sem simulate`` writes).

Reproducibility is the point: one ``numpy.random.default_rng(seed)`` drives every random step in a fixed
order (continuous responses, group order, missing cells), the normal draws go through an explicit
Cholesky factor (not ``multivariate_normal``, whose internal factorisation may change between numpy
versions), and ``write_csv`` fixes float formatting and line endings, so the same spec, n and seed give the
same bytes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from ..special import ndtr  # = scipy.stats.norm.cdf, without importing scipy.stats

from ..atomic import write_file
from ..errors import ClusterSemError, SpecError
from ..spec.schema import ControlEffect, Spec
from .population import ClusterLevels, build_population, cluster_levels, cluster_sizes, thresholds_for
from .specfile import as_spec


def _check_n(n: int) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ClusterSemError(f"n = {n!r}: the number of cases must be a positive integer. Fix: e.g. --n 128")


def _draw_continuous(spec: Spec, n: int, rng: np.random.Generator) -> pd.DataFrame:
    model = build_population(spec)
    if model.products:
        return _draw_with_products(model, n, rng)
    L = np.linalg.cholesky(model.sigma_observed)
    z = rng.standard_normal((n, len(model.observed)))
    return pd.DataFrame(z @ L.T, columns=list(model.observed))


def _draw_with_products(model, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw the latent variables one by one (topological order) so that products are real products.

    Shocks of the linear latents come from one Cholesky factor of their Psi block; each latent is its
    shock plus its predictors (and each product the product of its two partners); items are
    ``Lambda eta + eps``.  One ``standard_normal`` call, in a fixed order, keeps the draw reproducible.
    """
    return pd.DataFrame(_with_products(model, _product_normals(model, n, rng)), columns=list(model.observed))


def _product_normals(model, n: int, rng: np.random.Generator) -> np.ndarray:
    """The one standard-normal block of a product model's draw: linear shocks, then item residuals."""
    noisy = int((np.diag(model.Theta) > 0).sum())
    return rng.standard_normal((n, len(model.linear_latents) + noisy))


def _with_products(model, z: np.ndarray, shock_chol: np.ndarray | None = None,
                   between: np.ndarray | None = None) -> np.ndarray:
    """Observed scores of a product model from its normal block ``z``: linear shocks ``z @ shock_chol.T``
    (default: the Cholesky factor of their Psi block) plus, in a clustered sample, each firm's cluster shocks
    ``between`` (n × latents); latents in causal order, products of the firms' total scores."""
    n, m, p = len(z), len(model.latent), len(model.observed)
    linear = model.linear_latents
    noisy = [i for i in range(p) if model.Theta[i, i] > 0]
    if shock_chol is None:
        shock_chol = np.linalg.cholesky(model.Psi[np.ix_(linear, linear)])
    zeta = np.zeros((n, m))
    zeta[:, linear] = z[:, :len(linear)] @ shock_chol.T
    if between is not None:
        zeta[:, linear] += between[:, linear]
    eta = np.zeros((n, m))
    pairs = {k: (a, b) for k, a, b in model.products}
    remaining = list(range(m))
    while remaining:  # B is acyclic: take any variable whose predictors are all drawn
        for j in remaining:
            preds = set(np.flatnonzero(model.B[j])) | set(pairs.get(j, ()))
            if not preds & set(remaining):
                break
        if j in pairs:
            eta[:, j] = eta[:, pairs[j][0]] * eta[:, pairs[j][1]]
        else:
            eta[:, j] = eta @ model.B[j] + zeta[:, j]
        remaining.remove(j)
    eps = np.zeros((n, p))
    eps[:, noisy] = z[:, len(linear):] @ np.linalg.cholesky(model.Theta[np.ix_(noisy, noisy)]).T
    return eta @ model.Lambda.T + eps


def simulate_continuous(spec: Spec | str | Path, n: int, seed: int) -> pd.DataFrame:
    """Continuous standardized responses (items construct-aligned, controls standard normal).

    These are the values that ``simulate`` cuts into categories; their population correlation matrix is
    exactly ``implied_correlation(spec)``.
    """
    _check_n(n)
    return _draw_continuous(as_spec(spec), int(n), np.random.default_rng(seed))


def group_sizes(groups: dict[str, int], n: int) -> dict[str, int]:
    """Exact sizes when they sum to n, else proportional with largest-remainder rounding (ties: spec order)."""
    total = sum(groups.values())
    if total == n:
        return dict(groups)
    if total <= 0:
        raise SpecError("spec: key 'population.groups': sizes must be positive. Fix: give each group a size, "
                        "e.g. {Hangzhou: 30, Ningbo: 28}")
    quotas = {g: n * size / total for g, size in groups.items()}
    sizes = {g: math.floor(q) for g, q in quotas.items()}
    rest = n - sum(sizes.values())
    by_remainder = sorted(groups, key=lambda g: (-(quotas[g] - sizes[g]), list(groups).index(g)))
    for g in by_remainder[:rest]:
        sizes[g] += 1
    return sizes


def control_values(z: np.ndarray, effect: ControlEffect) -> np.ndarray:
    """Transform a standard-normal control score monotonically into its reported distribution.

    The structural effect holds on the normal score; monotone transforms keep ranks, so the effect's sign
    and (nearly) its size survive in the observed control.
    """
    if effect.distribution == "normal":
        values = effect.mean + effect.sd * z
    elif effect.distribution == "lognormal":
        values = np.exp(effect.mean + effect.sd * z)
    else:  # uniform_int
        low = 0 if effect.low is None else effect.low
        high = low + 10 if effect.high is None else effect.high
        if high < low:
            raise SpecError(f"spec: key 'population.controls': uniform_int high {high} < low {low}. "
                            "Fix: swap the bounds")
        u = ndtr(z)
        return np.clip(low + np.floor(u * (high - low + 1)), low, high).astype(np.int64)
    rounded = np.round(values, effect.decimals)
    return rounded.astype(np.int64) if effect.decimals <= 0 else rounded


@dataclass(frozen=True)
class SurveyDraw:
    """One simulated survey as arrays, before it becomes a data file.

    ``items`` are construct-aligned (reverse-keyed items *not* yet stored reversed): exactly the values
    the data layer hands to the model after recoding.  ``missing`` marks item cells that are blanked.
    """

    items: np.ndarray            # (n, n_items) Likert categories, or continuous scores
    controls: tuple[np.ndarray, ...]  # one array of reported values per control (int or float)
    groups: np.ndarray | None    # (n,) group labels, or None
    missing: np.ndarray | None   # (n, n_items) bool, or None when missing_rate == 0
    cluster: np.ndarray | None = None   # (n,) cluster codes 0..K−1 (clustered samples), or None


class SurveySampler:
    """Draws surveys from ``spec.population`` with everything that does not depend on n built once.

    ``simulate`` is a thin wrapper around it; the power engine calls ``draw`` thousands of times with one
    generator per replication, so the population matrices, their Cholesky factor and the thresholds are
    computed here once.  The random stream is consumed in a fixed order (continuous responses, group
    order, missing cells, then — clustered samples only — the cluster random effects), which is what makes
    ``simulate``'s files reproducible byte for byte; and a clustered draw with every ICC 0 equals the
    unclustered draw of the same generator.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        self.population = pop = spec.population
        self.model = build_population(spec)
        self.chol = None if self.model.products else np.linalg.cholesky(self.model.sigma_observed)
        self.item_names = list(spec.items)
        self.control_names = list(spec.controls)
        col = {name: i for i, name in enumerate(self.model.observed)}
        self.item_cols = np.array([col[i] for i in self.item_names], dtype=int)
        self.control_cols = np.array([col[c] for c in self.control_names], dtype=int)
        self.continuous = bool(pop.continuous)
        self.scale_min = np.array([spec.scale_of(i).min for i in self.item_names], dtype=np.int64)
        self.thresholds = [] if self.continuous else [np.asarray(thresholds_for(spec, i)) for i in self.item_names]
        # all items' cut points in one (items × max cuts) array, padded with +inf: category = min + #(τ < y),
        # exactly what searchsorted(τ, y, side="left") counts, for every item in one comparison
        width = max((len(t) for t in self.thresholds), default=0)
        self.cuts = np.full((len(self.thresholds), width), np.inf)
        for j, tau in enumerate(self.thresholds):
            self.cuts[j, :len(tau)] = tau
        self.control_effects = [pop.controls.get(c, ControlEffect()) for c in self.control_names]
        self.groups = (dict(pop.groups) if pop.groups else None) if spec.group else None

    @cached_property
    def levels(self) -> ClusterLevels:
        """The between/within split by ``population.icc`` (built on the first clustered draw)."""
        return cluster_levels(self.spec, self.model)

    def draw(self, n: int, rng: np.random.Generator, cluster_sizes: np.ndarray | None = None) -> SurveyDraw:
        """One survey of n firms; with ``cluster_sizes`` (summing to n) firms come in consecutive clusters of
        those sizes and share their cluster's random effects (``population.icc``)."""
        codes = None if cluster_sizes is None else np.repeat(np.arange(len(cluster_sizes)), cluster_sizes)
        if self.model.products:   # latent interactions: the latents are computed below, products of real scores
            z = _product_normals(self.model, n, rng)
        elif codes is not None:
            z = rng.standard_normal((n, len(self.model.observed))) @ self.levels.within_chol.T
        else:
            z = rng.standard_normal((n, len(self.model.observed))) @ self.chol.T
        groups = None
        if self.spec.group:
            sizes = group_sizes(self.groups or {"all": n}, n)
            labels = np.array([g for g, k in sizes.items() for _ in range(k)], dtype=object)
            groups = labels[rng.permutation(n)]
        missing = None
        if self.population.missing_rate > 0:
            missing = rng.random((n, len(self.item_names))) < self.population.missing_rate
        between = None
        if codes is not None:      # last in the stream: ICC 0 leaves the draw above unchanged
            between = rng.standard_normal((len(cluster_sizes), len(self.model.latent)))[codes]
        if self.model.products:
            z = _with_products(self.model, z, None if codes is None else self.levels.within_shocks,
                               None if codes is None else between @ self.levels.shock_between.T)
        elif codes is not None:
            z = z + between @ self.levels.between_factor.T
        controls = tuple(control_values(z[:, c], e) for c, e in zip(self.control_cols, self.control_effects))
        y = z[:, self.item_cols]
        if self.continuous:
            items = y
        else:
            items = self.scale_min + (y[:, :, None] > self.cuts[None]).sum(axis=2, dtype=np.int64)
        return SurveyDraw(items, controls, groups, missing, codes)


def design_sizes(n: int, clusters: int | None = None, cluster_size: int | None = None) -> np.ndarray | None:
    """Cluster sizes of n firms: ``clusters`` K nearly equal clusters, or clusters of ``cluster_size`` M
    (K = ⌈n/M⌉, sizes then differ by at most one); None for independent firms."""
    if clusters is not None and cluster_size is not None:
        raise ClusterSemError("--clusters and --cluster-size: give one of them (with --n). Fix: e.g. --n 160 "
                              "--clusters 20")
    if cluster_size is not None:
        if not 1 <= cluster_size <= n:
            raise ClusterSemError(f"--cluster-size {cluster_size}: must be between 1 and --n {n}. Fix: e.g. "
                                  "--cluster-size 8")
        clusters = -(-int(n) // int(cluster_size))
    if clusters is None:
        return None
    if not 2 <= clusters <= n:
        raise ClusterSemError(f"--clusters {clusters}: must be between 2 and --n {n} (every cluster needs a "
                              "firm). Fix: e.g. --clusters 20")
    return cluster_sizes(n, clusters)


def cluster_column(spec: Spec) -> str:
    """The name of the simulated cluster column: the spec's ``cluster`` key, else ``cluster``."""
    name = spec.cluster or "cluster"
    taken = {spec.id or "firm_id", spec.group, *spec.controls, *spec.items}
    if name in taken:
        raise SpecError(f"spec: key 'cluster': the simulated cluster column would be named '{name}', which is "
                        "already a column of the spec. Fix: set cluster: to a free column name, e.g. "
                        "cluster: industrial_cluster")
    return name


def simulate(spec: Spec | str | Path, n: int, seed, *, clusters: int | None = None,
             cluster_size: int | None = None) -> pd.DataFrame:
    """Likert survey data: id, group, cluster, controls, items (reverse-keyed items stored reversed).

    Columns: ``spec.id`` (or ``firm_id``) = 1..n; ``spec.group`` with ``population.groups`` sizes in a
    seeded random order; controls from their ``ControlEffect``; each item cut at ``thresholds`` into
    min..max (or its continuous score when ``population.continuous``); with ``missing_rate`` > 0 item cells
    are replaced by the first missing code.  ``seed`` is anything ``numpy.random.default_rng`` accepts
    (an int, or a ``SeedSequence`` — the power engine's replications are ``simulate(spec, n, child)``).
    With ``clusters`` or ``cluster_size`` (see :func:`design_sizes`) the firms come in clusters with the
    random effects of ``population.icc``, and a cluster column (the spec's ``cluster`` key, else
    ``cluster``) holds 1..K.
    """
    spec = as_spec(spec)
    _check_n(n)
    n = int(n)
    sizes = design_sizes(n, clusters, cluster_size)
    name = cluster_column(spec) if sizes is not None else None
    draw = SurveySampler(spec).draw(n, np.random.default_rng(seed), sizes)

    out: dict[str, object] = {spec.id or "firm_id": np.arange(1, n + 1, dtype=np.int64)}
    if draw.groups is not None:
        out[spec.group] = draw.groups
    if draw.cluster is not None:
        out[name] = draw.cluster + 1
    for j, control in enumerate(spec.controls):
        out[control] = draw.controls[j]
    missing_code = spec.missing_codes[0] if spec.missing_codes else None
    for j, (item, meta) in enumerate(spec.items.items()):
        v = draw.items[:, j]
        if meta.reverse:
            scale = spec.scale_of(item)
            v = scale.min + scale.max - v
        out[item] = v
    frame = pd.DataFrame(out)

    if draw.missing is not None:
        mask = draw.missing
        for j, item in enumerate(spec.items):
            if not mask[:, j].any():
                continue
            if missing_code is not None and float(missing_code).is_integer() and not spec.population.continuous:
                frame.loc[mask[:, j], item] = int(missing_code)
            else:
                col = frame[item].astype("Int64" if missing_code is None and not spec.population.continuous
                                         else "float64")
                col[mask[:, j]] = pd.NA if missing_code is None else missing_code
                frame[item] = col
    return frame


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` byte-for-byte reproducibly: UTF-8, no index, ``\\n`` line ends, floats as ``%.10g``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written in full, then moved: never a half-written file
    return write_file(path, lambda fh: df.to_csv(fh, index=False, lineterminator="\n", float_format="%.10g"),
                      newline="")


def simulate_to_csv(spec_path: str | Path, n: int, seed: int, out: str | Path, *, clusters: int | None = None,
                    cluster_size: int | None = None) -> Path:
    """``cluster-sem simulate SPEC --n N --seed S --out FILE.csv [--clusters K | --cluster-size M]``."""
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise ClusterSemError(f"{out}: the output must be a .csv file. Fix: e.g. --out data/synthetic.csv")
    spec = as_spec(spec_path)
    try:
        frame = simulate(spec, n, seed, clusters=clusters, cluster_size=cluster_size)
    except SpecError as exc:  # population problems are found here, not by the loader: name the file
        text = str(exc)
        raise SpecError(f"{Path(spec_path).name}{text[4:]}" if text.startswith("spec:") else text) from None
    return write_csv(frame, out)
