"""AIC/BIC/log-likelihood with exogenous controls follow lavaan 0.6's ``fixed.x = TRUE``.

lavaan (lav_model_loglik → lav_mvnorm_loglik_samplestats with ``x.idx``) subtracts the marginal
log-likelihood of the x block, so logl is the *conditional* likelihood of the endogenous variables given
the controls, and npar leaves the x (co)variances out.  No R here, so the reference is built from first
principles: (1) an observed-variable regression, whose conditional likelihood is the OLS likelihood with
σ̂² = RSS/N (lavaan's AIC = lm's AIC − 2 there: no intercept without a mean structure); (2) a latent model
with controls, compared with the conditional normal density y | x computed case by case with scipy.
PolDem (no controls) keeps matching lavaan's own numbers in test_model_lavaan.py.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cluster_sem.model.fitted import fit_model

REF_DIR = Path(__file__).parent / "reference"


def test_regression_loglik_equals_ols_likelihood_given_x():
    rng = np.random.default_rng(7)
    n = 400
    x1, x2 = rng.normal(50, 10, n), rng.normal(0, 3, n)
    y = 0.3 * x1 - 0.5 * x2 + rng.normal(0, 2, n)
    frame = pd.DataFrame({"y": y, "x1": x1, "x2": x2})
    fit = fit_model("y ~ x1 + x2", frame)
    X = np.column_stack([np.ones(n), x1, x2])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    rss = float(np.sum((y - X @ beta) ** 2))
    ll_ols = -n / 2 * (math.log(2 * math.pi) + math.log(rss / n) + 1)
    assert fit.fit["loglik"] == pytest.approx(ll_ols, abs=1e-6)
    assert fit.fit["npar"] == 3                     # two slopes + residual variance; no x (co)variances
    assert fit.fit["aic"] == pytest.approx(-2 * ll_ols + 2 * 3, abs=1e-6)
    assert fit.fit["bic"] == pytest.approx(-2 * ll_ols + math.log(n) * 3, abs=1e-6)


def test_latent_model_with_controls_loglik_is_conditional_normal_density():
    data = pd.read_csv(REF_DIR / "PoliticalDemocracy.csv")
    rng = np.random.default_rng(3)
    # two controls on very different scales (a raw-unit covariate like revenue, and a small one)
    data["size"] = 1e4 * (data["x1"] + rng.normal(0, 1, len(data)))
    data["age"] = rng.normal(20, 5, len(data))
    syntax = ("ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\n"
              "dem60 ~ ind60 + size + age\n")
    fit = fit_model(syntax, data)
    ov = list(fit.matrix_model.ov)
    Y = data[ov].to_numpy(float)
    n = len(Y)
    xi = [ov.index("size"), ov.index("age")]
    yi = [i for i in range(len(ov)) if i not in xi]
    sigma, mu = fit.implied_cov, Y.mean(axis=0)          # saturated mean structure: sample means
    s_yy, s_yx, s_xx = sigma[np.ix_(yi, yi)], sigma[np.ix_(yi, xi)], sigma[np.ix_(xi, xi)]
    B = s_yx @ np.linalg.inv(s_xx)
    cond_cov = s_yy - B @ s_yx.T
    resid = Y[:, yi] - mu[yi] - (Y[:, xi] - mu[xi]) @ B.T
    ll = stats.multivariate_normal(mean=np.zeros(len(yi)), cov=cond_cov).logpdf(resid).sum()
    assert fit.fit["loglik"] == pytest.approx(ll, abs=1e-6)
    npar = fit.partable.n_free
    assert fit.fit["npar"] == npar
    assert fit.fit["aic"] == pytest.approx(-2 * ll + 2 * npar, abs=1e-6)
    assert fit.fit["bic"] == pytest.approx(-2 * ll + math.log(n) * npar, abs=1e-6)
    # the x (co)variances are in the table (fixed at their sample values) but not free parameters (fixed.x)
    P = fit.parameters
    x_rows = P[(P.op == "~~") & P.lhs.isin(["size", "age"]) & P.rhs.isin(["size", "age"])]
    assert len(x_rows) == 3 and all(fit.partable.params[i].free < 0 for i in x_rows.index)


def test_poldem_without_controls_unchanged():
    import json
    ref = json.loads((REF_DIR / "lavaan_reference.json").read_text())["poldem_sem"]
    fit = fit_model(ref["model"], pd.read_csv(REF_DIR / "PoliticalDemocracy.csv"))
    assert fit.fit["aic"] == pytest.approx(ref["fit"]["aic"], abs=1e-3)
    assert fit.fit["bic"] == pytest.approx(ref["fit"]["bic"], abs=1e-3)
    if "logl" in ref["fit"]:
        assert fit.fit["loglik"] == pytest.approx(ref["fit"]["logl"], abs=1e-3)
