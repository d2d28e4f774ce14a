"""Completed chunks saved in DIR so that ``--resume`` continues an interrupted run.

A chunk file holds the per-replication arrays of one (n, first, last) range, at full precision (npz), in
``DIR/.power-checkpoints/<key>/``; ``key`` hashes everything the arrays depend on (spec bytes, seed, alpha,
CI method, Monte Carlo draws, chunk size, package version), so a changed setting never reuses stale
chunks.  Files are written to a temporary name and moved into place: a killed run leaves only whole
chunks.  Because a replication's numbers depend only on (spec, seed, n, r), a resumed run's power.json
equals an uninterrupted one byte for byte.  The directory is removed once power.json is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from .fitbatch import ChunkResult

DIRNAME = ".power-checkpoints"


def checkpoint_key(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


class Checkpoints:
    def __init__(self, out_dir: Path, key: str):
        self.root = Path(out_dir) / DIRNAME
        self.dir = self.root / key

    def _path(self, n: int, start: int, stop: int) -> Path:
        return self.dir / f"n{n}_r{start}-{stop}.npz"

    def load(self, n: int, start: int, stop: int) -> ChunkResult | None:
        path = self._path(n, start, stop)
        if not path.is_file():
            return None
        try:
            with np.load(path) as z:
                return ChunkResult(n=n, start=start, **{k: z[k] for k in ChunkResult.ARRAYS})
        except (OSError, ValueError, KeyError):
            return None                      # a damaged file is recomputed

    def save(self, chunk: ChunkResult) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        stop = chunk.start + len(chunk.converged)
        path = self._path(chunk.n, chunk.start, stop)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: getattr(chunk, k) for k in ChunkResult.ARRAYS})
        os.replace(tmp, path)

    @staticmethod
    def remove_all(out_dir: Path) -> None:
        """After power.json is written: the checkpoints of every setting are no longer needed."""
        shutil.rmtree(Path(out_dir) / DIRNAME, ignore_errors=True)
