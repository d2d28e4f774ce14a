"""Hardening (stress matrix): a Heywood case under --estimator MLR and --missing fiml.

The data have an exact one-factor structure whose first loading exceeds 1 (r12 = r13 = .8, r23 = .5, so
λ1² = .8·.8/.5 = 1.28): ML converges to a negative residual variance, which lavaan reports with a warning.
MLR and FIML on complete data have the same point estimates as ML, but the casewise fitter used to stop
"not converged" with loadings near 1e7 (a silently meaningless table).  Now it restarts from lavaan's start
values and reports the same inadmissible ML optimum, with the Heywood warning.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cluster_sem.model.fitted import fit_model
from cluster_sem.model.fitted_casewise import fit_model_casewise

MODEL = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nA ~~ B\n"


@pytest.fixture(scope="module")
def heywood_data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    corr = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    a = rng.normal(size=(200, 3)) @ np.linalg.cholesky(corr).T
    b = 0.4 * a[:, [1]] + rng.normal(size=(200, 3)) * 0.8
    return pd.DataFrame(np.round(np.hstack([a, b]) * 10, 2), columns=["a1", "a2", "a3", "b1", "b2", "b3"])


@pytest.fixture(scope="module")
def ml(heywood_data):
    fit = fit_model(MODEL, heywood_data)
    assert fit.converged
    theta = fit.parameters.query("lhs == 'a1' and op == '~~'")["est"].iloc[0]
    assert theta < 0   # the data really have a Heywood case
    return fit


@pytest.mark.parametrize("estimator, missing", [("MLR", "listwise"), ("ML", "fiml")])
def test_casewise_fit_reports_the_ml_heywood_solution(heywood_data, ml, estimator, missing):
    fit = fit_model_casewise(MODEL, heywood_data, missing=missing, estimator=estimator)
    assert fit.converged
    rows = ["=~", "~~"]
    got = fit.parameters[fit.parameters.op.isin(rows)].set_index(["lhs", "op", "rhs"])["est"]
    want = ml.parameters[ml.parameters.op.isin(rows)].set_index(["lhs", "op", "rhs"])["est"]
    assert np.allclose(got.loc[want.index], want, atol=1e-4)
    assert any("negative variance for a1" in p for p in fit.problems)
