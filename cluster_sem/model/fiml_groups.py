"""Multigroup FIML: the vcov, test and fit-index stages that differ from complete-data ML.

* vcov ``"observed"``: the inverse observed information −∂²ℓ/∂θ∂θ' (central differences of the objective's
  analytic gradient), lavaan's default ``information = "observed"`` for ``missing = "ml"``;
* fit indices (``fit_measures_fiml``): the complete-data formulas with the casewise pieces lavaan uses
  for missing = "ml" — log-likelihood Σ_g ℓ_g (casewise, given the controls as lavaan's fixed.x), baseline = the independence model fitted by FIML
  in every group (each item's observed mean and variance), χ²_b = Σ_g 2(ℓ_h1,g − ℓ_b,g); RMSEA·√G with the
  total N; SRMR (Bentler, with mean residuals) against the EM moments, n_g/N-weighted (``lav_fit_srmr``);
* test ``"yuan.bentler.mplus.fiml"`` (MLR): the Yuan–Bentler (Mplus) scaled χ² of ``robust_groups`` (its
  h1 information and scores are taken at the EM moments, as lavaan) and, with blanks, the robust CFI/TLI/
  RMSEA from Zhang & Savalei's FIML-corrected statistic (lavaan ``lav_fit_fiml_corrected``, version V3)
  over the groups: block-diagonal h1 matrices weighted by n_g/N, Δ stacked over groups.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import block_diag

from .fiml import h1_observed_information, h1_score_blocks
from .fit_indices import fit_measures_groups, x_block_loglik
from .missing import pattern_loglik
from .robust import cfi_robust, fiml_corrected_k, first_order_blocks, rmsea_ci_robust, rmsea_robust, tli_robust
from .sample_stats_missing import MissingSampleStats


def vcov_observed(objective, theta: np.ndarray, stats) -> np.ndarray:
    """Inverse observed information (total N); NaN-filled when singular (model not identified)."""
    from .robust_groups import _observed_information
    from .vcov import vcov_from_hessian
    n = stats.ntotal
    return vcov_from_hessian(2.0 * _observed_information(objective, theta, stats) / n, n)


def independence_moments(stats: MissingSampleStats, g: int, x_index: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """FIML estimates of the independence (baseline) model in group g (``fitted_casewise.baseline_fiml``:
    each item's observed mean and variance, the fixed.x block at its EM moments)."""
    from .fitted_casewise import baseline_fiml
    mu, sigma, _ = baseline_fiml(stats.patterns[g], stats.h1[g], x_index)
    return mu, sigma


def fit_measures_fiml(*, test, stats: MissingSampleStats, sigma: np.ndarray, mu: np.ndarray, n_free: int,
                      x_index: list[int], meanstructure: bool = True) -> dict:
    """The FIT object of a multigroup FIML fit (lavaan ``fitMeasures`` with missing = "ml")."""
    ll_x = [x_block_loglik(stats.cov[g], stats.n[g], x_index) for g in range(stats.n_groups)]
    ll = sum(pattern_loglik(stats.patterns[g], mu[g], sigma[g]) - ll_x[g] for g in range(stats.n_groups))
    chi2_b = 0.0
    for g in range(stats.n_groups):
        mu_b, sigma_b = independence_moments(stats, g, x_index)
        chi2_b += 2.0 * (stats.h1[g].loglik - pattern_loglik(stats.patterns[g], mu_b, sigma_b))
    out = fit_measures_groups(test=test, S=stats.cov, M=stats.mean, sigma=sigma, mu=mu, n=stats.n,
                              n_free=n_free, x_index=x_index, meanstructure=meanstructure,
                              baseline_chi2=chi2_b, logl=ll)
    out["loglik_h1"] = float(stats.h1_loglik.sum() - sum(ll_x))
    return out


def fiml_corrected_indices(stats: MissingSampleStats, model, objective, theta: np.ndarray, chi2: float,
                           df: int) -> dict:
    """Robust CFI/TLI/RMSEA with blanks (Zhang & Savalei 2023, lavaan ≥ 0.6-13, V3) for G groups."""
    from .fitted_casewise import baseline_delta, complete_h1_information, complete_loglik_f, h1_mask
    G, N = stats.n_groups, stats.ntotal
    p = len(model.ov)
    x_index = [model.ov.index(v) for v in model.partable.variables.ov_x]
    keep = h1_mask(p, x_index, True)          # fixed.x: x moments left out, as lavaan's zeroed rows
    sub = np.ix_(keep, keep)
    fg = np.asarray(stats.n, dtype=float) / N
    w_m, j_m, w_c = [], [], []
    for g in range(G):
        pat, m, s = stats.patterns[g], stats.mean[g], stats.cov[g]
        w_m.append(fg[g] * h1_observed_information(pat, m, s, means=True)[sub])
        j_m.append(fg[g] * first_order_blocks(h1_score_blocks(pat, m, s, means=True, keep=keep), pat.n))
        w_c.append(fg[g] * complete_h1_information(s)[sub])
    W_m, J_m, W_c = block_diag(*w_m), block_diag(*j_m), block_diag(*w_c)
    sigma, mu = model.implied(theta, stats.cov, stats.mean)
    xx3 = sum(stats.n[g] * complete_loglik_f(stats.mean[g], stats.cov[g], mu[g], sigma[g]) for g in range(G))
    c3 = fiml_corrected_k(W_m, J_m, W_c, np.vstack([d[keep] for d in objective.deltas(theta, stats)])) / df
    xx3_b = 0.0
    for g in range(G):
        mu_b, sigma_b = independence_moments(stats, g, x_index)
        xx3_b += stats.n[g] * complete_loglik_f(stats.mean[g], stats.cov[g], mu_b, sigma_b)
    delta_b = block_diag(*[baseline_delta(p, x_index)[keep] for _ in range(G)])
    nx = len(x_index)
    df_b = G * (p * (p - 1) // 2 - nx * (nx - 1) // 2)
    c3_b = fiml_corrected_k(W_m, J_m, W_c, delta_b) / df_b
    return {"cfi_robust": cfi_robust(xx3, df, c3, xx3_b, df_b, c3_b),
            "tli_robust": tli_robust(xx3, df, c3, xx3_b, df_b, c3_b),
            "rmsea_robust": rmsea_robust(xx3, df, N, c3, groups=G),
            "rmsea_ci90_robust": rmsea_ci_robust(xx3, df, N, c3, groups=G)}


def yuan_bentler_mplus_fiml_test(fmin: float, stats: MissingSampleStats, model, *, theta: np.ndarray, objective):
    """MLR with FIML: the Yuan–Bentler (Mplus) scaled χ²; with blanks the FIML-corrected robust indices."""
    from .robust_groups import yuan_bentler_mplus_test
    from .statistic import TestResult
    test = yuan_bentler_mplus_test(fmin, stats, model, theta=theta, objective=objective)
    if all(pat.complete for pat in stats.patterns):
        return test
    scaled = dict(test.scaled)
    scaled.update(fiml_corrected_indices(stats, model, objective, theta, test.chi2, test.df))
    return TestResult(test.name, test.chi2, test.df, test.pvalue, scaled)
