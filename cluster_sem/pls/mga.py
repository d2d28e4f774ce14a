"""PLS multigroup analysis (Henseler, Ringle & Sinkovics 2009) as seminr's ``estimate_pls_mga``.

Each group of the spec's ``group`` column is fitted and bootstrapped on its own (the batched bootstrap,
B resamples, a seed stream per group derived from the run's seed); for every pair of groups and every path,
with b̄ the bootstrap means and J the smaller number of completed resamples (seminr keeps the first J of each):

    p = 1 − #{(i, j): 2·b̄₁ − b₁ᵢ − 2·b̄₂ + b₂ⱼ > 0} / J²

p near 0 says group 1's path is larger, near 1 that group 2's is; ``p_two_sided`` = 2·min(p, 1 − p).
The J² comparisons are counted by sorting (u_i = 2b̄₁ − b₁ᵢ against v_j = 2b̄₂ − b₂ⱼ), not enumerated.

Beside it, the permutation test (Chin & Dibbern 2010; SmartPLS's "permutation" MGA): the rows of the two
groups are pooled, B times the group labels are shuffled (group sizes kept), both groups re-estimated, and

    p_permutation = #{|d*ₖ| ≥ |d|} / B        (d = est_a − est_b observed, d*ₖ of permutation k)

as SmartPLS reports it.  Permutations are drawn in blocks of 250, block k of the pair (a, b) from the seed's child
(PERMUTATION_STREAM, a, b, k),
and a block is one batched estimate of its 2 × 250 correlation matrices (as a bootstrap block), so one seed
gives the same p for any ``--jobs``.  A permutation whose estimate fails (an item without variance in a
shuffled group) is dropped and counted.
"""
from __future__ import annotations

import numpy as np

from ..errors import ClusterSemError
from dataclasses import dataclass

from ..bootstrap.parallel import run_replicate_blocks
from ..bootstrap.resample import block_range
from ..rng import generator, mixed_seed
from .algorithm import correlations
from .bootstrap import BootCore, resampled_correlations, run_bootstrap
from .statistics import Layout

MIN_GROUP = 10
PERMUTATION_STREAM = 7      # tags the permutation streams apart from the groups' bootstrap streams


def henseler_p(boot1: np.ndarray, boot2: np.ndarray) -> float:
    """seminr's PLS-MGA p of one path from the two groups' bootstrap estimates (first J of each)."""
    J = min(len(boot1), len(boot2))
    b1, b2 = boot1[:J], boot2[:J]
    u = 2 * b1.mean() - b1
    v = np.sort(2 * b2.mean() - b2)
    return float(1 - np.searchsorted(v, u, side="left").sum() / J ** 2)


@dataclass(frozen=True)
class PermutationCore:
    """What a worker needs: the pooled rows of two groups (the first ``n_a`` are group a) and the layout."""

    data: np.ndarray
    n_a: int
    layout: Layout


def permutation_block(core: PermutationCore, B: int, seed: int, pair: tuple[int, int],
                      k: int) -> tuple[int, np.ndarray]:
    """(first permutation, (b, paths) differences est_a − est_b) of block k of a B-permutation test of the
    pair of groups at positions ``pair``: drawn from the seed's child (PERMUTATION_STREAM, a, b, k)."""
    start, stop = block_range(B, k)
    rng = generator(seed, PERMUTATION_STREAM, *pair, k)
    order = np.stack([rng.permutation(len(core.data)) for _ in range(stop - start)])
    n_paths = len(core.layout.paths)
    with np.errstate(invalid="ignore", divide="ignore"):
        _, vectors = core.layout.estimate(np.concatenate([resampled_correlations(core.data, order[:, :core.n_a]),
                                                          resampled_correlations(core.data, order[:, core.n_a:])]))
    b = len(order)
    return start, vectors[:b, :n_paths] - vectors[b:, :n_paths]


def permutation_diffs(Xa: np.ndarray, Xb: np.ndarray, layout: Layout, *, B: int, seed: int,
                      pair: tuple[int, int] = (0, 1), jobs: int = 1, quiet: bool = True) -> np.ndarray:
    """(B, paths) path differences of B label permutations of the pooled rows (NaN rows: failed fits)."""
    core = PermutationCore(np.concatenate([Xa, Xb]), len(Xa), layout)
    blocks = run_replicate_blocks(permutation_block, core, B, seed, pair, desc="PLS-MGA permutations", jobs=jobs,
                                  quiet=quiet)
    return np.concatenate([diffs for _, diffs in blocks])


def permutation_p(observed: np.ndarray, diffs: np.ndarray) -> np.ndarray:
    """Per path the share of the completed permutations whose |difference| reaches the observed one (a
    tolerance of 1e-12 so that a permutation reproducing the observed split counts despite round-off)."""
    ok = np.isfinite(diffs).all(axis=1)
    if not ok.any():
        return np.full(len(observed), np.nan)
    return np.mean(np.abs(diffs[ok]) >= np.abs(observed) - 1e-12, axis=0)


def pls_mga(X: np.ndarray, labels: np.ndarray, names: tuple[str, ...], layout: Layout, *, B: int, seed: int,
            jobs: int = 1, quiet: bool = True, column: str = "") -> dict:
    """The ``mga`` block: per group n and path estimates; per pair of groups and path Henseler's test and the
    permutation test (B permutations of the pair's pooled rows)."""
    paths = layout.paths
    n_paths = len(paths)
    groups, boots, rows_of = [], [], []
    for g, name in enumerate(names):
        Xg = X[labels == name]
        if len(Xg) < MIN_GROUP:
            raise ClusterSemError(f"--mga: group '{name}' of column '{column}' has {len(Xg)} complete rows. Fix: "
                                  f"at least {MIN_GROUP} are needed; merge small groups with the spec's group_levels")
        S = correlations(Xg)
        flat = [layout.model.items[i] for i in np.flatnonzero(~np.isfinite(np.diag(S)))]
        if flat:
            raise ClusterSemError(f"--mga: item '{flat[0]}' has one value in every row of group '{name}'. Fix: "
                                  "merge groups with group_levels, or drop the item")
        _, point = layout.estimate(S[None])
        t, _ = run_bootstrap(BootCore(Xg, layout), B, mixed_seed(seed, g), jobs=jobs, quiet=quiet)
        t = t[np.isfinite(t).all(axis=1)][:, :n_paths]
        groups.append({"name": name, "n": int(len(Xg)), "completed": int(len(t)),
                       "paths": [{"from": s, "to": d, "est": float(point[0, j])} for j, (s, d, _) in enumerate(paths)]})
        boots.append((point[0, :n_paths], t))
        rows_of.append(Xg)
    comparisons = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            rows = []
            observed = boots[a][0] - boots[b][0]
            diffs = permutation_diffs(rows_of[a], rows_of[b], layout, B=B, seed=seed, pair=(a, b), jobs=jobs,
                                      quiet=quiet)
            p_perm = permutation_p(observed, diffs)
            for j, (s, d, kind) in enumerate(paths):
                p = henseler_p(boots[a][1][:, j], boots[b][1][:, j])
                rows.append({"from": s, "to": d, "kind": kind, "est_a": float(boots[a][0][j]),
                             "est_b": float(boots[b][0][j]), "diff": float(observed[j]),
                             "p_henseler": p, "p_two_sided": 2 * min(p, 1 - p),
                             "p_permutation": float(p_perm[j]) if np.isfinite(p_perm[j]) else None})
            completed = int(np.isfinite(diffs).all(axis=1).sum())
            comparisons.append({"a": names[a], "b": names[b], "permutations": B,
                                "permutations_completed": completed, "paths": rows})
    return {"group": column, "resamples": B, "test": "Henseler PLS-MGA (seminr estimate_pls_mga)",
            "permutation_test": "Chin & Dibbern (2010): share of |permuted difference| >= |observed difference|",
            "groups": groups, "comparisons": comparisons}
