"""Resample indices that depend on the seed only.

Replicates are grouped in fixed blocks of ``BLOCK`` (250).  Block k draws its indices from the k-th child
of ``numpy.random.SeedSequence(seed)`` (``SeedSequence(seed, spawn_key=(k,))`` is exactly
``SeedSequence(seed).spawn(k + 1)[k]``), so replicate r's rows are the same whatever the number of jobs,
the backend (processes, dask) or how blocks are distributed — and the first B replicates of a run with a
larger B are identical (bounded integers are drawn sequentially, so a shorter last block is a prefix).

For large n a block's (b, n) index matrix does not fit a memory budget (250 × 500,000 int64 = 1 GB), so
``block_index_chunks`` draws the same block a few replicates at a time.  It draws int32 values: numpy's
32-bit bounded draws keep their half-used 64-bit word in the generator between calls, so consecutive
int32 chunks are exactly the values of one int64 call (tests/test_bootstrap_memory.py checks this).
"""
from __future__ import annotations

import numpy as np

from ..rng import generator

BLOCK = 250


def n_blocks(B: int) -> int:
    return -(-B // BLOCK)


def block_range(B: int, k: int) -> tuple[int, int]:
    """Replicates [start, stop) of block k."""
    return k * BLOCK, min((k + 1) * BLOCK, B)


def block_indices(n: int, B: int, seed: int, k: int) -> np.ndarray:
    """Row indices (size, n) of the replicates in block k."""
    start, stop = block_range(B, k)
    rng = generator(seed, k)
    return rng.integers(0, n, size=(stop - start, n))


def resample_indices(n: int, B: int, seed: int) -> np.ndarray:
    """Row indices of all B resamples, shape (B, n), a pure function of (n, seed) per replicate."""
    if B <= 0:
        return np.zeros((0, n), dtype=np.int64)
    return np.concatenate([block_indices(n, B, seed, k) for k in range(n_blocks(B))])


def block_index_chunks(n: int, B: int, seed: int, k: int, replicates: int):
    """Yield (first replicate within the block, int32 indices (c, n)) for block k, ``replicates`` at a time.

    The values equal ``block_indices(n, B, seed, k)`` row for row (see the module docstring).
    """
    if n > np.iinfo(np.int32).max:  # pragma: no cover - beyond int32 rows: one int64 draw
        yield 0, block_indices(n, B, seed, k)
        return
    start, stop = block_range(B, k)
    rng = generator(seed, k)
    for lo in range(0, stop - start, max(1, replicates)):
        c = min(max(1, replicates), stop - start - lo)
        yield lo, rng.integers(0, n, size=(c, n), dtype=np.int32)
