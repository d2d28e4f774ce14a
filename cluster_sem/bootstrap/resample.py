"""Resample indices that depend on the seed only.

Replicates are grouped in fixed blocks of ``BLOCK`` (250).  Block k draws its indices from the k-th child
of ``numpy.random.SeedSequence(seed)`` (``SeedSequence(seed, spawn_key=(k,))`` is exactly
``SeedSequence(seed).spawn(k + 1)[k]``), so replicate r's rows are the same whatever the number of jobs,
the backend (processes, dask) or how blocks are distributed — and the first B replicates of a run with a
larger B are identical (bounded integers are drawn sequentially, so a shorter last block is a prefix).
"""
from __future__ import annotations

import numpy as np

BLOCK = 250


def n_blocks(B: int) -> int:
    return -(-B // BLOCK)


def block_range(B: int, k: int) -> tuple[int, int]:
    """Replicates [start, stop) of block k."""
    return k * BLOCK, min((k + 1) * BLOCK, B)


def block_indices(n: int, B: int, seed: int, k: int) -> np.ndarray:
    """Row indices (size, n) of the replicates in block k."""
    start, stop = block_range(B, k)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))
    return rng.integers(0, n, size=(stop - start, n))


def resample_indices(n: int, B: int, seed: int) -> np.ndarray:
    """Row indices of all B resamples, shape (B, n), a pure function of (n, seed) per replicate."""
    if B <= 0:
        return np.zeros((0, n), dtype=np.int64)
    return np.concatenate([block_indices(n, B, seed, k) for k in range(n_blocks(B))])
