"""Completed chunks saved in DIR so that ``--resume`` continues an interrupted run.

A chunk file holds the per-replication arrays of one (n, first, last) range, at full precision (npz), in
``DIR/.power-checkpoints/<key>/``; ``key`` hashes everything the arrays depend on (spec bytes, seed, alpha,
CI method, Monte Carlo draws, chunk size, package version), so a changed setting never reuses stale
chunks.  Files are written to a temporary name and moved into place: a killed run leaves only whole
chunks.  Because a replication's numbers depend only on (spec, seed, n, r), a resumed run's power.json
equals an uninterrupted one byte for byte.  The directory is removed once power.json is written.

A chunk is a file anyone can edit, copy or truncate, so ``--resume`` trusts none of it: each file also
stores the key and its (n, first, last) and every array is checked for its name, dtype and shape before
use (a doubled or truncated array would otherwise be counted as 2× or ½× the replications asked for).  A
file that fails is a one-line ``ClusterSemError`` naming it, not a recomputation that hides the damage.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import ClusterSemError
from .fitbatch import ChunkResult

DIRNAME = ".power-checkpoints"
META = ("key", "n", "start", "stop")
# per array: dtype kind (b = bool, f = float, i = integer) and whether it has one column per effect
LAYOUT = {"est": ("f", True), "se": ("f", True), "significant": ("b", True), "covered": ("b", True),
          "converged": ("b", False), "admissible": ("b", False), "fallback": ("b", False), "n_used": ("i", False),
          "product_converged": ("b", False), "product_admissible": ("b", False)}
assert set(LAYOUT) == set(ChunkResult.ARRAYS)


def checkpoint_key(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


class Checkpoints:
    def __init__(self, out_dir: Path, key: str, n_effects: int):
        self.root = Path(out_dir) / DIRNAME
        self.dir = self.root / key
        self.key = key
        self.n_effects = n_effects

    def check_writable(self) -> None:
        """Before any work: a *file* (or a file at the key) where the checkpoint folders go stops the run at
        its first chunk; say so now, naming it."""
        for path in (self.root, self.dir):
            if path.exists() and not path.is_dir():
                raise ClusterSemError(f"{path}: is a file where cluster-sem keeps power checkpoints. Fix: delete "
                                      "it (or choose another --out)")

    def _path(self, n: int, start: int, stop: int) -> Path:
        return self.dir / f"n{n}_r{start}-{stop}.npz"

    def load(self, n: int, start: int, stop: int) -> ChunkResult | None:
        """The saved chunk (None when there is none); a file that is not exactly this chunk is an error."""
        path = self._path(n, start, stop)
        if not path.exists() and not path.is_symlink():
            return None
        try:
            arrays = self._read(path)
            problem = self._problem(arrays, n, start, stop)
        except Exception as exc:   # noqa: BLE001 - EOFError, BadZipFile, pickled data, a directory, ...
            problem = f"unreadable ({type(exc).__name__})"
        if problem:
            raise ClusterSemError(f"{path}: not a usable checkpoint of this run ({problem}). Fix: delete the "
                                  f"folder {self.root} (or run without --resume to start again)")
        return ChunkResult(n=n, start=start, **{k: arrays[k] for k in ChunkResult.ARRAYS})

    @staticmethod
    def _read(path: Path) -> dict[str, np.ndarray]:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("not an npz archive")
            return {k: z[k] for k in z.files}

    def _problem(self, arrays: dict[str, np.ndarray], n: int, start: int, stop: int) -> str | None:
        """What makes ``arrays`` something other than replications start..stop-1 of size n of this run."""
        missing = (set(LAYOUT) | set(META)) - set(arrays)
        if missing or set(arrays) - set(LAYOUT) - set(META):
            return f"arrays {sorted(set(arrays))}, expected {sorted(set(LAYOUT) | set(META))}"
        if str(arrays["key"]) != self.key:
            return "written by a run with other settings"
        if [int(arrays[k]) if arrays[k].shape == () and arrays[k].dtype.kind == "i" else None
                for k in ("n", "start", "stop")] != [n, start, stop]:
            return f"not the chunk n = {n}, replications {start}-{stop}"
        b = stop - start
        for name, (kind, per_effect) in LAYOUT.items():
            a = arrays[name]
            shape = (b, self.n_effects) if per_effect else (b,)
            if a.shape != shape or a.dtype.kind != kind:
                expected = {"b": "bool", "f": "float", "i": "integer"}[kind]
                return f"'{name}' is {a.dtype} of shape {a.shape}, expected {expected} of shape {shape}"
        return None

    def save(self, chunk: ChunkResult) -> None:
        stop = chunk.start + len(chunk.converged)
        path = self._path(chunk.n, chunk.start, stop)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                np.savez(fh, key=np.str_(self.key), n=np.int64(chunk.n), start=np.int64(chunk.start),
                         stop=np.int64(stop), **{k: getattr(chunk, k) for k in ChunkResult.ARRAYS})
            os.replace(tmp, path)
        except OSError as exc:
            raise ClusterSemError(f"{exc.filename or path}: cannot save a power checkpoint there ({exc.strerror}). "
                                  f"Fix: delete the folder {self.root} or choose another --out") from None

    def saved(self) -> list[Path]:
        """The chunk files of this run's settings (what ``--resume`` would reuse)."""
        return sorted(self.dir.glob("*.npz")) if self.dir.is_dir() else []

    @staticmethod
    def remove_all(out_dir: Path) -> None:
        """After power.json is written: the checkpoints of every setting are no longer needed."""
        root = Path(out_dir) / DIRNAME
        if root.is_dir() and not root.is_symlink():
            shutil.rmtree(root, ignore_errors=True)
