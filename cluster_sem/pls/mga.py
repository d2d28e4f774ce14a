"""PLS multigroup analysis (Henseler, Ringle & Sinkovics 2009) as seminr's ``estimate_pls_mga``.

Each group of the spec's ``group`` column is fitted and bootstrapped on its own (the batched bootstrap,
B resamples, a seed stream per group derived from the run's seed); for every pair of groups and every path,
with b̄ the bootstrap means and J the smaller number of completed resamples (seminr keeps the first J of each):

    p = 1 − #{(i, j): 2·b̄₁ − b₁ᵢ − 2·b̄₂ + b₂ⱼ > 0} / J²

p near 0 says group 1's path is larger, near 1 that group 2's is; ``p_two_sided`` = 2·min(p, 1 − p).
The J² comparisons are counted by sorting (u_i = 2b̄₁ − b₁ᵢ against v_j = 2b̄₂ − b₂ⱼ), not enumerated.
"""
from __future__ import annotations

import numpy as np

from ..errors import ClusterSemError
from .algorithm import correlations
from .bootstrap import BootCore, run_bootstrap
from .statistics import Layout

MIN_GROUP = 10


def henseler_p(boot1: np.ndarray, boot2: np.ndarray) -> float:
    """seminr's PLS-MGA p of one path from the two groups' bootstrap estimates (first J of each)."""
    J = min(len(boot1), len(boot2))
    b1, b2 = boot1[:J], boot2[:J]
    u = 2 * b1.mean() - b1
    v = np.sort(2 * b2.mean() - b2)
    return float(1 - np.searchsorted(v, u, side="left").sum() / J ** 2)


def group_seed(seed: int, g: int) -> int:
    """An independent resample stream per group, a pure function of (seed, group position)."""
    return int(np.random.SeedSequence([seed, g]).generate_state(1)[0])


def pls_mga(X: np.ndarray, labels: np.ndarray, names: tuple[str, ...], layout: Layout, *, B: int, seed: int,
            jobs: int = 1, quiet: bool = True, column: str = "") -> dict:
    """The ``mga`` block: per group n and path estimates; per pair of groups and path the Henseler test."""
    paths = layout.paths
    n_paths = len(paths)
    groups, boots = [], []
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
        t, _ = run_bootstrap(BootCore(Xg, layout), B, group_seed(seed, g), jobs=jobs, quiet=quiet)
        t = t[np.isfinite(t).all(axis=1)][:, :n_paths]
        groups.append({"name": name, "n": int(len(Xg)), "completed": int(len(t)),
                       "paths": [{"from": s, "to": d, "est": float(point[0, j])} for j, (s, d, _) in enumerate(paths)]})
        boots.append((point[0, :n_paths], t))
    comparisons = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            rows = []
            for j, (s, d, kind) in enumerate(paths):
                p = henseler_p(boots[a][1][:, j], boots[b][1][:, j])
                rows.append({"from": s, "to": d, "kind": kind, "est_a": float(boots[a][0][j]),
                             "est_b": float(boots[b][0][j]), "diff": float(boots[a][0][j] - boots[b][0][j]),
                             "p_henseler": p, "p_two_sided": 2 * min(p, 1 - p)})
            comparisons.append({"a": names[a], "b": names[b], "paths": rows})
    return {"group": column, "resamples": B, "test": "Henseler PLS-MGA (seminr estimate_pls_mga)",
            "groups": groups, "comparisons": comparisons}
