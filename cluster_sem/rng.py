"""Seed streams: one seed becomes one ``numpy.random.SeedSequence`` tree, built here only.

Why one place: a run's numbers must be a pure function of (spec, data, seed), whatever the number of jobs,
the scheduler or the order of work.  Every random consumer therefore draws from a child of the run's seed
named by a fixed spawn key — ``SeedSequence(seed, spawn_key=key)`` is exactly the child
``SeedSequence(seed).spawn(...)`` would give at that position — never from a shared generator:

* bootstrap block k: ``(k,)``; group g's resamples of a multigroup bootstrap: ``(g,)``;
* PLS-MGA permutation block k of groups a, b: ``(7, a, b, k)``; group g's PLS-MGA bootstrap: the
  bootstrap streams of the integer seed ``mixed_seed(seed, g)`` (an entropy mix, not a spawn key: kept so
  that earlier runs reproduce); PLSpredict's row shuffle: the root ``()``;
* Monte Carlo CIs of ``:=`` effects and of moderation (IMM, conditional indirect effects): ``()``, the root;
* power replication r of sample size n: ``(n, r)``, its Monte Carlo CI draws ``(n, r, 1)``, its
  per-replication bootstrap ``(n, r, 2)``.

``normal_draws`` is the one Monte Carlo draw θ* ~ N(θ̂, V̂) (Selig & Preacher 2008) the CIs share.
"""
from __future__ import annotations

import numpy as np

from .options import DEFAULT_SEED


def seed_sequence(seed: int, *spawn_key: int) -> np.random.SeedSequence:
    """The child of ``seed`` at ``spawn_key`` (the root for no key)."""
    return np.random.SeedSequence(seed, spawn_key=tuple(int(k) for k in spawn_key))


def generator(seed: int, *spawn_key: int) -> np.random.Generator:
    """A PCG64 generator on the stream ``seed_sequence(seed, *spawn_key)``."""
    return np.random.default_rng(seed_sequence(seed, *spawn_key))


def mixed_seed(seed: int, *entropy: int) -> int:
    """A new integer seed from ``SeedSequence([seed, *entropy])``'s first 32-bit state word: for a consumer
    that takes a whole seed (a bootstrap of its own) rather than a generator."""
    return int(np.random.SeedSequence([int(seed), *(int(e) for e in entropy)]).generate_state(1)[0])


def normal_draws(mean: np.ndarray, vcov: np.ndarray, draws: int, seed: int, *spawn_key: int) -> np.ndarray:
    """(draws, q) draws from N(mean, vcov) on the stream ``(seed, *spawn_key)``.

    The square root is the symmetric one from ``eigh`` with negative eigenvalues clipped to 0, so a
    covariance that is only positive semi-definite (a fixed-in-effect parameter, round-off) still draws.
    """
    vcov = np.asarray(vcov, dtype=float)
    w, v = np.linalg.eigh(0.5 * (vcov + vcov.T))
    root = v * np.sqrt(np.clip(w, 0, None))
    z = generator(seed, *spawn_key).standard_normal((draws, len(mean)))
    return mean + z @ root.T


__all__ = ["DEFAULT_SEED", "seed_sequence", "generator", "mixed_seed", "normal_draws"]
