"""Discriminant validity: HTMT (semTools ``htmt()`` default) and the Fornell–Larcker criterion.

HTMT as semTools computes it by default (``htmt2 = TRUE``, ``absolute = TRUE``; Roemer, Schuberth &
Henseler 2021): the geometric mean of the absolute heterotrait correlations divided by the square root of
the product of the geometric means of each construct's absolute monotrait correlations, from the Pearson
correlations of the (listwise complete) item data.  Flags at .85 (strict) and .90 (liberal) follow
Henseler, Ringle & Sarstedt (2015).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def gmean(x: np.ndarray) -> float:
    """Geometric mean, as ``scipy.stats.gmean`` computes it (exp of the mean log), without scipy.stats."""
    with np.errstate(divide="ignore"):
        return float(np.exp(np.mean(np.log(x))))


def htmt(data: pd.DataFrame, constructs: dict[str, list[str]]) -> pd.DataFrame:
    items = [i for its in constructs.values() for i in its]
    R = data[items].dropna().corr().abs()
    names = list(constructs)

    def mono(c: str) -> float:
        r = R.loc[constructs[c], constructs[c]].to_numpy()
        return float(gmean(r[np.triu_indices(len(constructs[c]), 1)]))

    monos = {c: mono(c) for c in names}
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            hetero = float(gmean(R.loc[constructs[a], constructs[b]].to_numpy().ravel()))
            out.loc[a, b] = out.loc[b, a] = hetero / np.sqrt(monos[a] * monos[b])
    return out


def htmt_flags(table: pd.DataFrame, thresholds: tuple[float, float] = (0.85, 0.90)) -> list[tuple[str, str, float, str]]:
    """Pairs at or above the strict threshold, with 'above .90' / 'above .85' labels."""
    strict, liberal = thresholds
    out = []
    names = list(table.index)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            v = float(table.loc[a, b])
            if v >= strict:
                out.append((a, b, v, f"above {liberal:.2f}" if v >= liberal else f"above {strict:.2f}"))
    return out


def fornell_larcker(ave: dict[str, float], latent_corr: pd.DataFrame) -> pd.DataFrame:
    """√AVE on the diagonal, latent correlations below; discriminant validity holds when each √AVE exceeds
    the construct's correlations (Fornell & Larcker 1981)."""
    names = list(ave)
    out = latent_corr.loc[names, names].copy()
    for c in names:
        out.loc[c, c] = np.sqrt(ave[c])
    return out


def fornell_larcker_violations(table: pd.DataFrame) -> list[tuple[str, str, float]]:
    names = list(table.index)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r = abs(float(table.loc[a, b]))
            if r >= min(table.loc[a, a], table.loc[b, b]):
                out.append((a, b, r))
    return out
