"""Fit by the casewise likelihood: FIML (lavaan ``missing = "ml"``) and/or robust ML (``estimator = "MLR"``).

Stages, as lavaan's: missing-data patterns → EM saturated moments (h1) → parameter table + mean structure
→ maximise the casewise log-likelihood (``casewise.maximise``) → vcov (observed information; sandwich for
MLR) → test (χ² = 2(ℓ_h1 − ℓ_h0); Yuan–Bentler Mplus scaling for MLR) → fit indices.

lavaan defaults reproduced: with ``missing = "ml"`` the model gets a mean structure (free intercepts of
every item, latent means fixed at 0), ``information = "observed"`` (finite-difference Hessian);
``estimator = "MLR"`` on complete data keeps ``meanstructure = FALSE`` (no ``~1`` rows); the baseline
model is the independence model fitted the same way; SRMR is Bentler's with the mean residuals when
there is a mean structure, measured against the EM moments.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import FitError
from ..lavoptions import LAVAAN_DEFAULTS
from .casewise import CasewiseModel, maximise
from .estimator import fisher_scoring, simple_start
from .fiml import h1_observed_information, h1_score_blocks, vech_indices, vech_trace_block
from .fit_indices import cfi, rmsea, rmsea_ci, tli, x_block_loglik
from .fitted import ModelFit, _fisher_or_none, assemble, pvalue, sample_covariance
from .matrices import build_matrix_model
from .design import SampleDesign
from .missing import LOG2PI, H1, Patterns, item_moments
from .partable import build_partable
from .sample_stats_missing import saturated_moments
from .start import lavaan_start
from .vcov import vcov_from_hessian
from .robust import (cfi_robust, fiml_corrected_k, first_order_blocks, rmsea_ci_robust, rmsea_robust,
                     sandwich_from_meat, scaled_test, tli_robust, yb_mplus_trace_meats)


def fit_casewise(call) -> ModelFit:
    """The estimator table's casewise fitter (``estimators.FitCall``): MLR, FIML, and ML with a complex sample."""
    return fit_model_casewise(call.syntax, call.data, missing=call.lav.missing, estimator=call.lav.estimator,
                              engine=call.lav.engine, cluster=call.cluster, weights=call.weights)


def fit_model_casewise(syntax: str, data: pd.DataFrame, *, missing: str = "fiml",
                       estimator: str = "ML", engine: str = "default", cluster: str | None = None,
                       weights: str | None = None) -> ModelFit:
    """Fit ``syntax`` by FIML (``missing="fiml"``, blanks allowed) or complete-data MLR (``missing="listwise"``).

    ``engine="semopy"`` (complete data only: semopy's FIML objective does not reproduce lavaan's) starts from
    semopy's ML solution, as ``fit_model`` does; MLR's point estimates are ML's, so the optimum is the same.
    ``cluster`` / ``weights`` name columns of ``data`` (lavaan's ``cluster=`` / ``sampling.weights=``, see
    ``design.py``): the cluster-robust or weighted robust SEs and scaled test plug into the vcov and test
    stages below; the estimates change only with weights (the weighted likelihood)."""
    estimator = estimator.upper()
    pt = build_partable(syntax)
    mm = build_matrix_model(pt)
    absent = [v for v in mm.ov if v not in data.columns]
    if absent:
        raise FitError(f"data has no column(s) {', '.join(absent)} used by the model")
    x = data[list(mm.ov)].to_numpy(dtype=float)
    x_index = [mm.ov.index(v) for v in pt.variables.ov_x]
    if missing == "listwise" and np.isnan(x).any():
        raise FitError("complete-data MLR needs complete rows; clean the data (listwise) first")
    if x_index and np.isnan(x[:, x_index]).any():
        raise FitError("FIML: the control variables (fixed.x covariates) must be complete; "
                       "rows with a missing control are dropped by the data layer")
    keep = ~np.isnan(x).all(axis=1)
    x = x[keep]
    design = SampleDesign.from_frame(data.loc[keep], cluster=cluster, weights=weights)
    patterns = Patterns.from_array(x, design.weights)
    h1 = saturated_moments(patterns, x, where="",
                           fix="drop items with many blanks, collect more responses, or use --missing listwise")
    n = patterns.n
    meanstructure = missing == "fiml" or design.clustered       # lavaan: cluster= implies a mean structure
    free_mu = np.array([j for j in range(mm.p) if j not in x_index], dtype=int) if meanstructure \
        else np.zeros(0, dtype=int)
    model = CasewiseModel(mm, patterns, h1.cov, h1.mean.copy(), free_mu)

    # start: complete-data ML on the EM moments (close to the FIML solution), intercepts = EM means
    first_start, start_note = simple_start(mm, h1.cov), "EM start"
    if engine == "semopy":
        if meanstructure:
            raise FitError("engine 'semopy' starts complete-data fits only; use engine 'default' with FIML")
        from .semopy_backend import semopy_estimates  # imported late: semopy is slow to import
        first_start, note = semopy_estimates(pt, mm, data[list(mm.ov)][keep], first_start)
        start_note = note if note.startswith("semopy failed") else "semopy (MLW) start"
    sol = fisher_scoring(mm, h1.cov, first_start, tol=1e-6)
    start = np.concatenate([sol.theta, h1.mean[free_mu]])
    first = maximise(model, start)
    best = first if first[3] else _restart(model, pt, mm, h1, free_mu, first)
    phi, ll, H, converged, its = best
    q = mm.n_free
    info = -H / n                                   # unit observed information
    information = "observed"
    # the estimator's own sandwich (MLR: lavaan's defaults); lavaan: cluster=/sampling.weights= make ML robust
    sandwich_se = LAVAAN_DEFAULTS[estimator].se == "robust.huber.white"
    robust = sandwich_se or design.active
    if robust:
        meat = first_order_blocks(model.score_blocks(phi), n, design.cluster)   # B0: no n × n_par scores held
        vcov_all = sandwich_from_meat(info, meat, n)
    else:
        vcov_all = vcov_from_hessian(-2.0 * H / n, n)     # = (−∂²ℓ/∂φ²)⁻¹, NaN when singular
    vcov = vcov_all[:q, :q]
    theta = phi[:q]
    mu, sigma = model.moments(phi)

    fit = _fit_measures(pt, mm, patterns, h1, model, phi, ll, x_index, meanstructure)
    labels = {"estimator": estimator, "missing": "ml" if missing == "fiml" else "listwise",
              "information": information, "test_name": "standard", "sample_mean": h1.mean,
              "design": design if design.active else None}
    if robust:
        labels["test_name"] = "yuan.bentler.mplus"
        # ML with cluster=: lavaan reports the standard and the scaled test, and then evaluates the test's
        # information with observed.information = "h1" (Δ'A1(μ̂, Σ̂)Δ) instead of the Hessian
        e_test = info
        if not sandwich_se and design.clustered:
            d = model.delta(phi, means=meanstructure)
            e_test = d.T @ h1_observed_information(patterns, *model.moments(phi), means=meanstructure) @ d
        fit.update(_robust_measures(pt, mm, patterns, h1, model, phi, e_test, meat, fit, x_index, meanstructure,
                                    design.cluster))
    mean_rows = _mean_rows(pt, mm, model, phi, sigma, vcov_all, x_index) if meanstructure else []
    if meanstructure:
        labels["implied_mean"] = mu                   # μ̂ (the casewise parameters; ~1 rows hold lavaan's τ̂)
    note = f"casewise ML ({'FIML' if meanstructure else 'complete data'}): {start_note}, BFGS + Newton" + \
        ("; restarted from lavaan's start values" if best is not first else "")
    return assemble(syntax, pt, mm, theta, h1.cov, n, converged=converged, iterations=its,
                    fmin=float("nan"), start_note=note, vcov=vcov, fit=fit, mean_rows=mean_rows, labels=labels)


def _restart(model: CasewiseModel, pt, mm, h1: H1, free_mu: np.ndarray, first: tuple) -> tuple:
    """A second start when the first did not converge: the complete-data ML solution on the EM moments from
    lavaan's start values (the route of ``fit_model``).  Why: from the simple start, Fisher scoring can stop
    far away on data with a Heywood case, and BFGS then drifts to |λ| ~ 1e7, while lavaan's MLR/FIML report
    the (inadmissible) ML optimum.  The better of the two runs is kept (converged first, then higher ℓ)."""
    sol = _fisher_or_none(mm, h1.cov, lavaan_start(pt, h1.cov), max_iter=2000)
    if sol is None:
        return first
    try:
        second = maximise(model, np.concatenate([sol.theta, h1.mean[free_mu]]))
    except np.linalg.LinAlgError:
        return first
    better = (second[3], second[1]) > (first[3], first[1]) if np.isfinite(second[1]) else False
    return second if better else first


def _mean_rows(pt, mm, model: CasewiseModel, phi: np.ndarray, sigma, vcov_all, x_index, h: float = 1e-6) -> list:
    """``~1`` rows as lavaan's parameterEstimates(): intercepts (lavaan's τ, ``CasewiseModel.intercepts``;
    = the means μ unless a control predicts something), then latent means (fixed at 0).  SEs of τ by the
    delta method, its Jacobian by central differences over φ (one batched call)."""
    sd = np.sqrt(np.diag(sigma))
    free_mu = model.free_mu
    steps = h * np.maximum(1.0, np.abs(phi))
    both = model.intercepts(np.vstack([phi[None] + np.diag(steps), phi[None] - np.diag(steps)]))
    k = len(phi)
    jac = ((both[:k] - both[k:]) / (2 * steps[:, None])).T           # (len(free_mu), n_par)
    tau = model.intercepts(phi[None])[0]
    se_tau = np.sqrt(np.clip(np.einsum("ik,kl,il->i", jac, vcov_all, jac), 0, None))
    mu_x = model.mu_fixed
    rows = []
    pos = {int(j): i for i, j in enumerate(free_mu)}
    for j, v in enumerate(mm.ov):
        if j in pos:
            est, se = float(tau[pos[j]]), float(se_tau[pos[j]])
            z = est / se if se > 0 else None
            rows.append([v, "~1", "", "", est, se, z, pvalue(z), est / sd[j]])
        elif j in x_index:
            rows.append([v, "~1", "", "", float(mu_x[j]), 0.0, None, None, float(mu_x[j] / sd[j])])
    for v in pt.variables.lv:
        rows.append([v, "~1", "", "", 0.0, 0.0, None, None, 0.0])
    return rows


def complete_loglik_f(mean: np.ndarray, cov: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float:
    """F_ML with a mean structure: log|Σ| + tr(SΣ⁻¹) − log|S| − p + (ȳ − μ)'Σ⁻¹(ȳ − μ)."""
    p = len(mean)
    sinv = np.linalg.inv(sigma)
    d = mean - mu
    return float(np.linalg.slogdet(sigma)[1] + np.trace(cov @ sinv) - np.linalg.slogdet(cov)[1] - p + d @ sinv @ d)


def baseline_fiml(patterns: Patterns, h1: H1, x_index: list[int]) -> tuple[np.ndarray, np.ndarray, float]:
    """Independence model by FIML: each item's observed mean and variance; the fixed.x block as observed."""
    mu, var = item_moments(patterns)
    sigma = np.diag(var)
    if x_index:
        ix = np.ix_(x_index, x_index)
        sigma[ix] = h1.cov[ix]
        mu[x_index] = h1.mean[x_index]
    from .missing import pattern_loglik
    return mu, sigma, pattern_loglik(patterns, mu, sigma)


def _fit_measures(pt, mm, patterns: Patterns, h1: H1, model: CasewiseModel, phi, ll, x_index,
                  meanstructure: bool) -> dict:
    n, p = patterns.n, patterns.p
    nx = len(x_index)
    q = mm.n_free
    df = p * (p + 1) // 2 - nx * (nx + 1) // 2 - q
    chi2 = max(2.0 * (h1.loglik - ll), 0.0)
    _, _, ll_b = baseline_fiml(patterns, h1, x_index)
    chi2_b = 2.0 * (h1.loglik - ll_b)
    df_b = p * (p - 1) // 2 - nx * (nx - 1) // 2
    mu, sigma = model.moments(phi)
    lo, hi = rmsea_ci(chi2, df, n)
    npar = model.n_par
    ll_x = x_block_loglik(h1.cov, n, x_index)       # fixed.x: logl given the controls, as lavaan's
    return {
        "chi2": chi2, "df": int(df), "pvalue": float(stats.chi2.sf(chi2, df)) if df > 0 else None,
        "cfi": cfi(chi2, df, chi2_b, df_b), "tli": tli(chi2, df, chi2_b, df_b),
        "rmsea": rmsea(chi2, df, n), "rmsea_ci90": [lo, hi],
        "srmr": srmr_bentler(h1.mean, h1.cov, mu, sigma, means=meanstructure),
        "aic": -2 * (ll - ll_x) + 2 * npar, "bic": -2 * (ll - ll_x) + math.log(n) * npar,
        "n": int(n), "npar": int(npar), "loglik": ll - ll_x, "loglik_h1": h1.loglik - ll_x,
        "baseline_chi2": chi2_b, "baseline_df": int(df_b),
    }


def srmr_bentler(mean: np.ndarray, cov: np.ndarray, mu: np.ndarray, sigma: np.ndarray, *, means: bool) -> float:
    """lavaan's "srmr" (Bentler): residuals scaled by the observed SDs; with a mean structure the
    standardized mean residuals join the p(p+1)/2 covariance residuals ("total")."""
    sd = np.sqrt(np.diag(cov))
    resid = (cov - sigma) / np.outer(sd, sd)
    low = resid[np.tril_indices_from(resid)]
    total = float((low ** 2).sum())
    count = len(low)
    if means:
        total += float((((mean - mu) / sd) ** 2).sum())
        count += len(mean)
    return math.sqrt(total / count)


def h1_mask(p: int, x_index: list[int], means: bool) -> np.ndarray:
    """Saturated coordinates that are not fixed.x moments (lavaan zeroes those in the h1 information)."""
    r, c = vech_indices(p)
    xs = set(x_index)
    keep_cov = np.array([not (a in xs and b in xs) for a, b in zip(r, c)])
    if not means:
        return keep_cov
    return np.concatenate([np.array([j not in xs for j in range(p)]), keep_cov])


def _robust_measures(pt, mm, patterns: Patterns, h1: H1, model: CasewiseModel, phi, info, meat, fit: dict,
                     x_index, meanstructure: bool, cluster: np.ndarray | None = None) -> dict:
    """The scaled test and robust indices; ``meat`` is the unit first-order information B0 of the model's
    casewise scores (``robust.first_order``)."""
    n, p = patterns.n, patterns.p
    df, chi2 = fit["df"], fit["chi2"]
    keep = h1_mask(p, x_index, meanstructure)
    a1 = h1_observed_information(patterns, h1.mean, h1.cov, means=meanstructure)[np.ix_(keep, keep)]
    b1 = first_order_blocks(h1_score_blocks(patterns, h1.mean, h1.cov, means=meanstructure, keep=keep), n, cluster)
    test = scaled_test(chi2, df, yb_mplus_trace_meats(a1, b1, info, meat))
    out = {"chi2_scaled": test.chi2_scaled, "df_scaled": test.df_scaled, "pvalue_scaled": test.pvalue_scaled,
           "chi2_scaling_factor": test.chi2_scaling_factor}
    chi2_b, df_b = fit["baseline_chi2"], fit["baseline_df"]
    if not meanstructure or patterns.complete:
        c_b = _baseline_scaling(patterns, h1, x_index, a1, b1, meanstructure, df_b, cluster)
        c = test.chi2_scaling_factor
        out["cfi_robust"] = cfi_robust(chi2, df, c, chi2_b, df_b, c_b)
        out["tli_robust"] = tli_robust(chi2, df, c, chi2_b, df_b, c_b)
        out["rmsea_robust"] = rmsea_robust(chi2, df, n, c)
        out["rmsea_ci90_robust"] = rmsea_ci_robust(chi2, df, n, c)
        return out
    # missing data: Zhang & Savalei's FIML-corrected statistic and scaling (lavaan >= 0.6-13, version V3)
    xx3, k, xx3_b, k_b = fiml_corrected_parts(patterns, h1, model, phi, x_index, cluster)
    c3, c3_b = k / df, k_b / df_b
    out["cfi_robust"] = cfi_robust(xx3, df, c3, xx3_b, df_b, c3_b)
    out["tli_robust"] = tli_robust(xx3, df, c3, xx3_b, df_b, c3_b)
    out["rmsea_robust"] = rmsea_robust(xx3, df, n, c3)
    out["rmsea_ci90_robust"] = rmsea_ci_robust(xx3, df, n, c3)
    return out


def fiml_corrected_parts(patterns: Patterns, h1: H1, model: CasewiseModel, phi: np.ndarray,
                         x_index: list[int], cluster: np.ndarray | None = None) -> tuple[float, float, float, float]:
    """(XX3, k, XX3_b, k_b) of Zhang & Savalei's FIML correction (lavaan ``lav_fit_fiml_corrected``, V3):
    the complete-data statistic at the EM moments and the corrected trace, for the model and the baseline.

    With fixed.x controls lavaan zeroes the x moments (x means, x–x covariances) in every h1 information
    and score matrix (``lav_mvn_zero_x_idx``) and its symmetric inverse drops zero rows, so the traces run
    over the other moments only (``h1_mask``)."""
    n, p = patterns.n, patterns.p
    keep = h1_mask(p, x_index, True)
    sub = np.ix_(keep, keep)
    mu, sigma = model.moments(phi)
    w_m = h1_observed_information(patterns, h1.mean, h1.cov, means=True)[sub]
    j_m = first_order_blocks(h1_score_blocks(patterns, h1.mean, h1.cov, means=True, keep=keep), n, cluster)
    w_c = complete_h1_information(h1.cov)[sub]
    xx3 = n * complete_loglik_f(h1.mean, h1.cov, mu, sigma)
    k = fiml_corrected_k(w_m, j_m, w_c, model.delta(phi)[keep])
    mu_b, sigma_b, _ = baseline_fiml(patterns, h1, x_index)
    xx3_b = n * complete_loglik_f(h1.mean, h1.cov, mu_b, sigma_b)
    k_b = fiml_corrected_k(w_m, j_m, w_c, baseline_delta(p, x_index)[keep])
    return xx3, k, xx3_b, k_b


def baseline_delta(p: int, x_index: list[int], means: bool = True) -> np.ndarray:
    """∂(μ, vech Σ)/∂(free baseline parameters): each free item mean and each free item variance."""
    r, c = vech_indices(p)
    free = [j for j in range(p) if j not in x_index]
    cols = []
    for j in free:
        if means:
            col = np.zeros(p + len(r))
            col[j] = 1.0
            cols.append(col)
    for j in free:
        col = np.zeros((p if means else 0) + len(r))
        col[(p if means else 0) + int(np.flatnonzero((r == j) & (c == j))[0])] = 1.0
        cols.append(col)
    return np.array(cols).T


def _baseline_scaling(patterns, h1, x_index, a1, b1, meanstructure, df_b, cluster=None) -> float:
    """Yuan–Bentler (Mplus) scaling factor of the independence model, fitted the same way."""
    p, n = patterns.p, patterns.n
    mu_b, sigma_b, _ = baseline_fiml(patterns, h1, x_index)
    if not meanstructure:
        mu_b = h1.mean
    delta = baseline_delta(p, x_index, means=meanstructure)
    h_b = h1_observed_information(patterns, mu_b, sigma_b, means=meanstructure)
    e_b = delta.T @ h_b @ delta
    b0 = first_order_blocks(h1_score_blocks(patterns, mu_b, sigma_b, means=meanstructure, project=delta), n, cluster)
    return scaled_test(1.0, df_b, yb_mplus_trace_meats(a1, b1, e_b, b0)).chi2_scaling_factor


def complete_h1_information(cov: np.ndarray) -> np.ndarray:
    """Complete-data unit information of (μ, vech Σ) at Σ: blockdiag(Σ⁻¹, ½ tr(Σ⁻¹E_αΣ⁻¹E_β))."""
    p = cov.shape[0]
    P = np.linalg.inv(cov)
    W = 0.5 * vech_trace_block(P[None], P[None])
    out = np.zeros((p + len(W), p + len(W)))
    out[:p, :p] = P
    out[p:, p:] = W
    return out


__all__ = ["fit_casewise", "fit_model_casewise", "complete_loglik_f", "srmr_bentler", "complete_h1_information",
           "LOG2PI", "sample_covariance"]
