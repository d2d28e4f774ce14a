"""Consecutive index ranges of bounded size: the one way large arrays are worked through piece by piece.

Why a base module: bounding memory by chunking rows, pairs or replicates is the same arithmetic wherever an
(items × n × …) array would not fit at once (the PLS bootstrap's resampled rows, its jackknife, the
ordinal pairs' casewise arrays); one function keeps the ranges — and so the numbers — identical everywhere.
"""
from __future__ import annotations


def chunks(total: int, size: int) -> list[slice]:
    """Slices covering ``range(total)`` in order, each of at most ``size`` (at least 1) elements."""
    size = max(1, int(size))
    return [slice(start, min(start + size, total)) for start in range(0, total, size)]


__all__ = ["chunks"]
