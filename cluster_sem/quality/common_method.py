"""Harman's single-factor test for common-method variance (Podsakoff et al. 2003).

The share of item variance explained by the first unrotated principal component of the item correlation
matrix (what SPSS's "Harman" procedure prints); above 50 % is the usual warning sign.  It is a weak test
— the report says so — but reviewers in this field expect it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


HARMAN_SHARE_MAX = 0.5    # a first factor explaining more than half of the item variance is the warning sign


@dataclass(frozen=True)
class HarmanResult:
    first_factor_share: float
    n_factors_eigen_gt_1: int

    @property
    def flag(self) -> bool:
        return bool(self.first_factor_share > HARMAN_SHARE_MAX)

    def block(self) -> dict:
        """results.json ``common_method``'s Harman keys, as `fit` and `cmb` both write them: the flat keys of the
        first contract plus the ``harman`` record the battery reports beside its other models."""
        harman = {"first_factor_share": self.first_factor_share, "n_factors_eigen_gt_1": self.n_factors_eigen_gt_1,
                  "flag": self.flag}
        return {"harman_first_factor_share": self.first_factor_share,
                "n_factors_eigen_gt_1": self.n_factors_eigen_gt_1, "flag": self.flag, "harman": harman}


def harman_single_factor(data: pd.DataFrame) -> HarmanResult:
    """Harman's test on the complete rows of ``data`` (as SPSS does); NaN when they give no correlation matrix."""
    R = data.dropna().corr().to_numpy()
    return _harman(R) if np.isfinite(R).all() else HarmanResult(float("nan"), 0)


def harman_test(data: pd.DataFrame, moments: np.ndarray) -> tuple[HarmanResult, str | None]:
    """Harman's test on the complete rows of ``data``, or — when they cannot give a full-rank correlation
    matrix (FIML data where few or no rows answered every item; numpy's eigen-solver used to fail on the
    NaN correlations of zero rows) — on ``moments``, the covariance matrix of the same columns estimated
    from all rows (FIML's EM saturated moments), with a note saying so."""
    n_complete = int(data.notna().all(axis=1).sum())
    if n_complete > data.shape[1]:
        result = harman_single_factor(data)
        if np.isfinite(result.first_factor_share):
            return result, None
    sd = np.sqrt(np.diag(moments))
    note = (f"common method: only {n_complete} rows answered all {data.shape[1]} items, so Harman's test uses "
            "the item correlations estimated from all rows (FIML's EM moments)")
    return _harman(moments / np.outer(sd, sd)), note


def _harman(R: np.ndarray) -> HarmanResult:
    eig = np.sort(np.linalg.eigvalsh(R))[::-1]
    return HarmanResult(float(eig[0] / eig.sum()), int((eig > 1).sum()))
