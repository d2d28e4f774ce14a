"""Discriminant validity: HTMT (semTools ``htmt()`` default) and the Fornell–Larcker criterion.

HTMT as semTools computes it by default (``htmt2 = TRUE``, ``absolute = TRUE``; Roemer, Schuberth &
Henseler 2021): the geometric mean of the absolute heterotrait correlations divided by the square root of
the product of the geometric means of each construct's absolute monotrait correlations, from the Pearson
correlations of the (listwise complete) item data.

The verdicts live here, once, and the reports only show them:
* HTMT flags follow Henseler, Ringle & Sarstedt (2015): discriminant validity is in doubt when HTMT is
  *above* the threshold (".85 (strict) / .90 (liberal)"), so a pair is flagged when HTMT > .85 and marked
  liberal-failing when HTMT > .90; a value exactly at a threshold passes.  (semTools ``htmt()`` returns the
  matrix only and leaves the decision to the user.)
* Fornell–Larcker (1981): discriminant validity holds when each construct's √AVE exceeds its correlations
  with the other constructs, so a pair fails when |r| ≥ the smaller √AVE of the two.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

HTMT_STRICT, HTMT_LIBERAL = 0.85, 0.90


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


def htmt_level(value: float | None, thresholds: tuple[float, float] = (HTMT_STRICT, HTMT_LIBERAL)) -> str:
    """'' (no concern), 'strict' (HTMT > .85) or 'liberal' (HTMT > .90) for one pair."""
    strict, liberal = thresholds
    if value is None:
        return ""
    return "liberal" if value > liberal else "strict" if value > strict else ""


def htmt_flags(table: pd.DataFrame, thresholds: tuple[float, float] = (HTMT_STRICT, HTMT_LIBERAL)
               ) -> list[tuple[str, str, float, str]]:
    """Pairs above the strict threshold, with 'above .90' / 'above .85' labels."""
    strict, liberal = thresholds
    out = []
    names = list(table.index)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            v = float(table.loc[a, b])
            level = htmt_level(v, thresholds)
            if level:
                out.append((a, b, v, f"above {liberal:.2f}" if level == "liberal" else f"above {strict:.2f}"))
    return out


def fornell_larcker(ave: dict[str, float], latent_corr: pd.DataFrame) -> pd.DataFrame:
    """√AVE on the diagonal, latent correlations below; discriminant validity holds when each √AVE exceeds
    the construct's correlations (Fornell & Larcker 1981)."""
    names = list(ave)
    out = latent_corr.loc[names, names].copy()
    for c in names:
        out.loc[c, c] = np.sqrt(ave[c])
    return out


def fornell_larcker_fails(r: float, sqrt_ave_a: float | None, sqrt_ave_b: float | None) -> bool:
    """The pair (a, b) fails the criterion: |r| is not below both √AVEs (a missing √AVE counts as 0)."""
    return abs(r) >= min(sqrt_ave_a or 0, sqrt_ave_b or 0)


def fornell_larcker_verdict(table: Mapping[str, Mapping[str, float]]
                            ) -> tuple[set[frozenset[str]], list[str]]:
    """(failing pairs, constructs whose own √AVE does not exceed some correlation) of a Fornell–Larcker
    table stored as {construct: {construct: value}} (√AVE on the diagonal)."""
    names = list(table)
    pairs: set[frozenset[str]] = set()
    failing: list[str] = []
    for a in names:
        own = table[a].get(a)
        for b in names:
            r = table[a].get(b)
            if b == a or r is None:
                continue
            if fornell_larcker_fails(r, own, table[b].get(b)):
                pairs.add(frozenset((a, b)))
            if abs(r) >= (own or 0) and a not in failing:
                failing.append(a)
    return pairs, failing


def fornell_larcker_violations(table: pd.DataFrame) -> list[tuple[str, str, float]]:
    names = list(table.index)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            r = abs(float(table.loc[a, b]))
            if fornell_larcker_fails(r, table.loc[a, a], table.loc[b, b]):
                out.append((a, b, r))
    return out
