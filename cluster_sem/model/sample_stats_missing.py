"""Sample statistics per group with blanks — the FIML variant of lavaan's ``lavSampleStats`` stage.

lavaan (``missing = "ml"``) keeps, per group, the missing-data patterns and the saturated (h1) moments
estimated by EM; those EM moments play the role of the sample covariance and mean everywhere a moment is
needed (fixed.x entries of Ψ, exogenous means, SRMR residuals, start values, the h1 information of MLR).
``MissingSampleStats`` is therefore a ``SampleStats`` whose ``cov``/``mean`` are the EM estimates and whose
``data`` keep their blanks (NaN), plus the patterns and the EM results themselves — objectives that only
read moments (ML on the EM moments, the start of a FIML fit) work on it unchanged.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import FitError
from .missing import H1, Patterns, em_moments
from .sample_stats import SampleStats, group_parts


def saturated_moments(patterns: Patterns, x: np.ndarray, *, where: str, fix: str) -> H1:
    """EM estimates of the saturated model's (μ, Σ), refused with a FitError when Σ is singular.

    Why one place: the single-group casewise fit and the multigroup statistics both need the h1 moments, and
    a singular Σ (a constant item, collinear items, too many blanks) must become the same readable error
    instead of a LinAlgError or a fit that cannot be inverted later.  ``where`` names the group (or is
    empty); ``fix`` is the advice that fits the caller."""
    try:
        h1 = em_moments(patterns)
        singular = np.linalg.eigvalsh(h1.cov).min() <= 1e-12
    except np.linalg.LinAlgError:   # a singular covariance met inside EM's log-likelihood
        singular = True
    if singular:
        complete = int((~np.isnan(x).any(axis=1)).sum())
        raise FitError(f"the (EM) covariance matrix of the model variables is singular{where} ({len(x)} rows, "
                       f"{complete} without blanks, {x.shape[1]} variables: a constant item, collinear items, or "
                       f"too many blanks for the number of cases). Fix: {fix}")
    return h1

@dataclass(frozen=True)
class MissingSampleStats(SampleStats):
    """Per group: EM moments as ``cov``/``mean``, rows with blanks as ``data``, their patterns and h1 fit."""

    patterns: tuple[Patterns, ...] = ()
    h1: tuple[H1, ...] = ()

    @property
    def h1_loglik(self) -> np.ndarray:
        """(G,) saturated log-likelihood per group (EM maximum)."""
        return np.array([h.loglik for h in self.h1])


def missing_statistics(frame: pd.DataFrame, ov: Sequence[str], *, group: str | None = None,
                       groups: Sequence[str] | None = None, controls: Iterable[str] = ()) -> MissingSampleStats:
    """Per-group patterns and EM moments of ``frame`` (NaN = blank).

    Rows with every model variable blank carry no information and are left out, as lavaan drops "empty
    cases" (the data layer has already dropped and reported rows with no answered item at all).  Controls
    (fixed.x covariates) must be complete: their moments are conditioned on, not modelled.
    """
    ov = list(ov)
    x_index = [ov.index(c) for c in controls if c in ov]
    arrays, covs, means, logdets, names, ns, pats, h1s = [], [], [], [], [], [], [], []
    for name, part in group_parts(frame, ov, group=group, groups=groups):
        where = f" in group '{name}'" if name else ""
        x = part[ov].to_numpy(dtype=float)
        x = x[~np.isnan(x).all(axis=1)]
        if x_index and np.isnan(x[:, x_index]).any():
            raise FitError(f"FIML: a control variable has blanks{where}; controls are conditioned on and must "
                           "be complete. Fix: drop those rows (the data layer does) or impute the control")
        empty = [ov[j] for j in np.flatnonzero(np.isnan(x).all(axis=0))] if len(x) else ov
        if empty:
            raise FitError(f"FIML: '{empty[0]}' has no answer{where}, so its mean and variance cannot be "
                           "estimated. Fix: drop the item from the model or merge the group")
        if len(x) < 2:
            raise FitError(f"group '{name}' has {len(x)} case(s); a covariance needs at least 2")
        patterns = Patterns.from_array(x)
        h1 = saturated_moments(patterns, x, where=where,
                               fix="merge small groups in the spec's group_levels, drop items with many blanks, "
                                   "or use --missing listwise")
        arrays.append(x)
        covs.append(h1.cov)
        means.append(h1.mean)
        logdets.append(np.linalg.slogdet(h1.cov)[1])
        names.append(name)
        ns.append(len(x))
        pats.append(patterns)
        h1s.append(h1)
    return MissingSampleStats(tuple(ov), tuple(names), tuple(ns), np.stack(covs), np.stack(means),
                              np.asarray(logdets), tuple(arrays), patterns=tuple(pats), h1=tuple(h1s))
