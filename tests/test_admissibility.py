"""Admissibility problems are detected and reported, never silent."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_sem.model.admissibility import admissibility_problems
from cluster_sem.model.fitted import assemble, fit_model
from cluster_sem.model.inference import standardized

REF_DIR = Path(__file__).parent / "reference"
MODEL = json.loads((REF_DIR / "lavaan_reference.json").read_text())["hs_cfa"]["model"]
HS = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")


def test_clean_fit_has_no_problems():
    assert fit_model(MODEL, HS).problems == ()


def test_negative_residual_variance_is_a_heywood_case():
    fit = fit_model(MODEL, HS)
    theta = fit.theta.copy()
    x1 = next(p.free for p in fit.partable.params if p.lhs == "x1" and p.op == "~~" and p.rhs == "x1")
    theta[x1] = -0.05
    std = standardized(fit.partable, fit.matrix_model, theta, fit.sample_cov)
    problems = admissibility_problems(fit.partable, fit.matrix_model, theta, fit.sample_cov, std, n=fit.n,
                                      converged=True, se_available=True)
    assert any("negative variance for x1" in p and "Heywood" in p for p in problems)
    assert any("standardized loading visual =~ x1" in p for p in problems)


def test_too_few_cases_and_nonconvergence_are_flagged():
    fit = fit_model(MODEL, HS)
    small = assemble(MODEL, fit.partable, fit.matrix_model, fit.theta, fit.sample_cov, 15, converged=False,
                     iterations=500, fmin=0.3)
    assert any("fewer cases (n = 15) than free parameters (21)" in p for p in small.problems)
    assert any("did not converge" in p for p in small.problems)


def test_heywood_case_in_real_data_is_reported():
    """Item correlations .8/.8/.5 force λ₁² = .8·.8/.5 = 1.28 in a one-factor model: θ₁₁ < 0."""
    R = np.array([[1, 0.8, 0.8], [0.8, 1, 0.5], [0.8, 0.5, 1]])
    z = np.random.default_rng(1).normal(size=(200, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T  # exactly white
    df = pd.DataFrame(z @ np.linalg.cholesky(R).T, columns=["a1", "a2", "a3"])
    fit = fit_model("A =~ a1 + a2 + a3", df)
    theta11 = fit.parameters.query("lhs == 'a1' and op == '~~'")["est"].item()
    assert theta11 < 0
    assert any("negative variance for a1" in p for p in fit.problems)
    assert any("standardized loading A =~ a1" in p for p in fit.problems)


SECOND_ORDER = MODEL + "\ng =~ visual + textual + speed\nx1 ~~ x4\n"


def _matrix_problems(fit, theta):
    std = standardized(fit.partable, fit.matrix_model, theta, fit.sample_cov)
    return admissibility_problems(fit.partable, fit.matrix_model, theta, fit.sample_cov, std, n=fit.n,
                                  converged=True, se_available=True)


def test_bootstrap_and_single_fit_share_one_rule():
    """The batched rule (bootstrap, power) flags a solution exactly when the single fit would warn, including
    |r| > 1 and second-order loadings > 1, which the bootstrap's former private check skipped."""
    from cluster_sem.model.admissibility import admissible
    fit = fit_model(SECOND_ORDER, HS)
    free = {(p.lhs, p.op, p.rhs): p.free for p in fit.partable.params if p.free >= 0}
    theta = np.repeat(fit.theta[None], 3, axis=0)
    theta[1, free[("x1", "~~", "x4")]] = 0.9          # residual correlation of x1 and x4 above 1
    theta[2, free[("textual", "~~", "textual")]] = -0.05   # Heywood disturbance: second-order loading > 1
    ok = admissible(fit.partable, fit.matrix_model, theta, np.repeat(fit.sample_cov[None], 3, axis=0))
    assert ok.tolist() == [True, False, False]
    assert any("correlation x1 ~~ x4" in p and "|r| > 1" in p for p in _matrix_problems(fit, theta[1]))
    assert any("standardized loading g =~ textual" in p for p in _matrix_problems(fit, theta[2]))
    assert any("negative variance for textual" in p for p in _matrix_problems(fit, theta[2]))
    rng = np.random.default_rng(7)
    draws = fit.theta[None] + rng.normal(0, 0.3, size=(40, len(fit.theta)))
    ok = admissible(fit.partable, fit.matrix_model, draws, np.repeat(fit.sample_cov[None], 40, axis=0))
    assert 0 < ok.sum() < 40
    assert ok.tolist() == [not _matrix_problems(fit, t) for t in draws]
