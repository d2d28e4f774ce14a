"""Bootstrap of a PLS/PLSc model, batched: a block of resamples is one stack of correlation matrices that
the algorithm iterates together (``algorithm.estimate_outer``), instead of one fit per resample.

Resamples come from ``bootstrap.resample`` (block k of 250 replicates draws from the k-th child of
``SeedSequence(seed)``), and blocks run through ``bootstrap.parallel.run_replicate_blocks``, so one seed gives the
same numbers for any ``jobs``.  A resample whose estimate is not finite (an item without variance, a
singular block) is dropped, as seminr drops resamples that fail.

Intervals: percentile (R's ``quantile`` type 7, seminr's ``conf_int``) and BCa (Efron 1987: bias z0 from
the share of replicates below the estimate, acceleration from the jackknife of the n leave-one-out fits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..bootstrap.parallel import run_replicate_blocks
from ..bootstrap.resample import block_indices
from ..chunks import chunks
from ..intervals import quantile_type7
from ..special import ndtr, ndtri
from .algorithm import correlations
from .statistics import Layout

JACKKNIFE_CHUNK = 250
MEMORY_BUDGET = 64 * 2 ** 20     # bytes of resampled rows (b, n, p) held at once while correlating a block


@dataclass(frozen=True)
class BootCore:
    """What a worker needs: the item data (n, p) in the model's item order and the layout."""

    data: np.ndarray
    layout: Layout


@dataclass(frozen=True)
class BootBlock:
    """One block's estimates (its place in the run is its block number: ``run_replicate_blocks``)."""

    vectors: np.ndarray       # (b, m)
    converged: np.ndarray     # (b,)


def resampled_correlations(data: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(rows), p, p) correlation matrices of ``data[rows[i]]`` (one row-index vector per resample), the
    rows gathered a few resamples at a time so that at most ``MEMORY_BUDGET`` bytes of them are held."""
    n, p = data.shape
    return np.concatenate([correlations(data[rows[part]]) for part in chunks(len(rows), MEMORY_BUDGET // (8 * n * p))])


def boot_block(core: BootCore, B: int, seed: int, k: int) -> BootBlock:
    """Estimate block k of a B-resample bootstrap in one batched pass."""
    idx = block_indices(core.data.shape[0], B, seed, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        est, vectors = core.layout.estimate(resampled_correlations(core.data, idx))
    return BootBlock(vectors, est.converged)


def run_bootstrap(core: BootCore, B: int, seed: int, *, jobs: int = 1, quiet: bool = True,
                  meanwhile=None) -> tuple[np.ndarray, np.ndarray]:
    """(B, m) replicate vectors (rows of failed resamples NaN) and (B,) convergence, in replicate order.
    ``meanwhile`` runs in this process while worker processes fit blocks (``run_tasks``)."""
    blocks = run_replicate_blocks(boot_block, core, B, seed, desc="PLS bootstrap", jobs=jobs, quiet=quiet,
                                  meanwhile=meanwhile)
    return np.concatenate([b.vectors for b in blocks]), np.concatenate([b.converged for b in blocks])


def jackknife(core: BootCore) -> np.ndarray:
    """(n, m) leave-one-out estimates: correlation matrices downdated from the full sums, fitted in chunks."""
    x = core.data - core.data.mean(axis=0)
    n = x.shape[0]
    total, sums = x.T @ x, x.sum(axis=0)
    out = []
    for part in chunks(n, JACKKNIFE_CHUNK):
        xi = x[part]
        mean = (sums - xi) / (n - 1)
        cov = (total - xi[:, :, None] * xi[:, None, :] - (n - 1) * mean[:, :, None] * mean[:, None, :]) / (n - 2)
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(core.layout.estimate(cov / (sd[:, :, None] * sd[:, None, :]))[1])
    return np.concatenate(out)


def percentile(t: np.ndarray, probs) -> np.ndarray:
    """(len(probs), m) quantiles of each column over its finite replicates (R type 7)."""
    probs = np.atleast_1d(probs)
    out = np.full((len(probs), t.shape[1]), np.nan)
    for j in range(t.shape[1]):
        out[:, j] = quantile_type7(t[:, j], probs)
    return out


def bca(t: np.ndarray, est: np.ndarray, jack: np.ndarray, level: float) -> np.ndarray:
    """(2, m) BCa limits: z0 = Φ⁻¹(#{t* < θ̂}/B), a = Σd³ / (6 (Σd²)^1.5) with d = mean(θ_(i)) − θ_(i)."""
    out = np.full((2, t.shape[1]), np.nan)
    z = ndtri(np.array([(1 - level) / 2, (1 + level) / 2]))
    for j in range(t.shape[1]):
        x = t[:, j][np.isfinite(t[:, j])]
        jk = jack[:, j][np.isfinite(jack[:, j])]
        if x.size < 2 or np.ptp(x) == 0:
            out[:, j] = est[j]
            continue
        share = np.mean(x < est[j])
        if share in (0.0, 1.0):
            continue                          # the estimate lies outside the replicates: no BCa interval
        z0 = ndtri(share)
        d = jk.mean() - jk
        denom = 6 * np.sum(d ** 2) ** 1.5
        a = np.sum(d ** 3) / denom if denom > 0 else 0.0
        probs = ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
        out[:, j] = quantile_type7(x, probs)
    return out


def summarise(t: np.ndarray, est: np.ndarray, jack: np.ndarray | None, level: float) -> dict[str, np.ndarray]:
    """Per column: bootstrap mean and SD, t = estimate/SD, two-sided normal p, percentile and BCa limits,
    and the one-sided upper limit (level quantile) HTMT inference uses (Henseler et al. 2015)."""
    finite = np.isfinite(t)
    count = finite.sum(axis=0)
    mean = np.where(count > 0, np.nansum(t, axis=0) / np.maximum(count, 1), np.nan)
    sd = np.sqrt(np.nansum((t - mean) ** 2, axis=0) / np.maximum(count - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        tval = np.where(sd > 0, est / sd, np.nan)
    pvalue = 2 * ndtr(-np.abs(tval))
    lo, hi = percentile(t, [(1 - level) / 2, (1 + level) / 2])
    upper = percentile(t, [level])[0]
    limits = bca(t, est, jack, level) if jack is not None else np.full((2, t.shape[1]), np.nan)
    return {"mean": mean, "se": sd, "t": tval, "pvalue": pvalue, "ci_lower": lo, "ci_upper": hi,
            "bca_lower": limits[0], "bca_upper": limits[1], "upper_one_sided": upper}
