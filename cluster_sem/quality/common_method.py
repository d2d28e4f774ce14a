"""Harman's single-factor test for common-method variance (Podsakoff et al. 2003).

The share of item variance explained by the first unrotated principal component of the item correlation
matrix (what SPSS's "Harman" procedure prints); above 50 % is the usual warning sign.  It is a weak test
— the report says so — but reviewers in this field expect it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class HarmanResult:
    first_factor_share: float
    n_factors_eigen_gt_1: int


def harman_single_factor(data: pd.DataFrame) -> HarmanResult:
    R = data.dropna().corr().to_numpy()
    eig = np.sort(np.linalg.eigvalsh(R))[::-1]
    return HarmanResult(float(eig[0] / eig.sum()), int((eig > 1).sum()))
