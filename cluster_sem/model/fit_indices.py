"""Fit indices exactly as lavaan's ``fitMeasures()`` computes them for ML with complete data.

Where semopy differs (and why we do not use its numbers):
* χ² = N·F_ML with N, not N − 1 (semopy's ``calc_stats`` uses the Wishart N − 1 variants).
* RMSEA = sqrt(max(χ²/N/df − 1/N, 0)) with N (semopy: N − 1); 90% CI by inverting the non-central χ²
  distribution (semopy has none).
* CFI = 1 − max(χ² − df, 0) / max(χ²_b − df_b, χ² − df, 0), so it is capped at 1 (semopy's is not);
  TLI is not capped, as in lavaan.
* SRMR = lavaan's "srmr" (``srmr_bentler``): root mean square of the residuals (S − Σ̂) scaled by the
  *observed* SDs, over the p(p+1)/2 lower-triangular elements (semopy has none).
* AIC/BIC from the normal log-likelihood −N/2·(p·log 2π + log|Σ̂| + tr(SΣ̂⁻¹)) and the number of free
  parameters (semopy's AIC is 2k − 2·F_ML, on another scale, and can rank models backwards).  With
  exogenous observed covariates (controls) lavaan 0.6 uses ``fixed.x = TRUE``: the marginal log-likelihood
  of the x block is subtracted (``lav_mvnorm_loglik_samplestats(x.idx = …)``), i.e. logl is the likelihood
  of the other variables *given* the controls, and the x (co)variances are not counted in npar.
"""
from __future__ import annotations

import math

import numpy as np
from ..special import chdtr, chdtrc, chndtr  # what scipy.stats.chi2/ncx2 call, without importing scipy.stats/special


def chi_square(fmin: float, n: int) -> float:
    return float(n * fmin)


def baseline_chi_square(S: np.ndarray, n: int, x_index: list[int]) -> tuple[float, int]:
    """Independence model: uncorrelated variables, except the fixed.x block which stays as observed."""
    p = S.shape[0]
    D = np.diag(np.diag(S))
    if x_index:
        ix = np.ix_(x_index, x_index)
        D[ix] = S[ix]
    _, logdet_d = np.linalg.slogdet(D)
    _, logdet_s = np.linalg.slogdet(S)
    chi2 = n * (logdet_d - logdet_s)
    nx = len(x_index)
    df = p * (p - 1) // 2 - nx * (nx - 1) // 2
    return float(chi2), int(df)


def cfi(chi2: float, df: int, chi2_b: float, df_b: int) -> float:
    num = max(chi2 - df, 0.0)
    den = max(chi2_b - df_b, chi2 - df, 0.0)
    return 1.0 if den == 0 else 1.0 - num / den


def tli(chi2: float, df: int, chi2_b: float, df_b: int) -> float:
    if df == 0 or df_b == 0:
        return 1.0
    return ((chi2_b / df_b) - (chi2 / df)) / ((chi2_b / df_b) - 1.0)


def rmsea(chi2: float, df: int, n: int) -> float:
    if df == 0:
        return 0.0
    return math.sqrt(max(chi2 / n / df - 1.0 / n, 0.0))


def rmsea_ci(chi2: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """CI of RMSEA by finding the non-centrality λ with P(χ²_df(λ) ≤ X²) = 1 − α/2 and α/2 (lavaan)."""
    if df == 0:
        return 0.0, 0.0
    lo_p, hi_p = 1 - (1 - level) / 2, (1 - level) / 2

    def solve(prob: float) -> float:
        f = lambda lam: chndtr(chi2, df, lam) - prob if lam > 0 else chdtr(df, chi2) - prob  # noqa: E731
        if f(0.0) < 0:
            return 0.0
        upper = max(chi2, 1.0)
        while f(upper) > 0:
            upper *= 2
        return _bisect(f, 0.0, upper, xtol=1e-12)

    return math.sqrt(solve(lo_p) / (n * df)), math.sqrt(solve(hi_p) / (n * df))


def _bisect(f, lo: float, hi: float, *, xtol: float) -> float:
    """Root of a decreasing ``f`` with f(lo) ≥ 0 ≥ f(hi), to ``xtol`` (the CDF is monotone in λ, so plain
    bisection is safe; ~50 cheap steps, and it spares importing scipy.optimize)."""
    while hi - lo > xtol * (1 + abs(lo)):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def srmr(S: np.ndarray, sigma: np.ndarray) -> float:
    sd_s = np.sqrt(np.diag(S))
    resid = (S - sigma) / np.outer(sd_s, sd_s)  # Bentler: both matrices scaled by the observed SDs
    low = resid[np.tril_indices_from(resid)]
    return float(np.sqrt(np.mean(low ** 2)))


def loglik(S: np.ndarray, sigma: np.ndarray, n: int, x_index: list[int] | None = None) -> float:
    """Normal log-likelihood (saturated means); with ``x_index`` conditional on the x block (fixed.x)."""
    p = S.shape[0]
    _, logdet = np.linalg.slogdet(sigma)
    ll = float(-n / 2 * (p * math.log(2 * math.pi) + logdet + np.trace(np.linalg.solve(sigma, S))))
    return ll - x_block_loglik(S, n, x_index or [])


def x_block_loglik(S: np.ndarray, n: float, x_index: list[int]) -> float:
    """Log-likelihood of the fixed.x block at its own sample moments, −n/2·(p_x log 2π + log|S_xx| + p_x).

    Why it is subtracted from every ML log-likelihood with controls (complete data, FIML, each group):
    lavaan 0.6 with ``fixed.x = TRUE`` reports logl of the endogenous variables *given* the x
    (``lav_model_loglik`` → ``lav_mvnorm_loglik_samplestats`` / ``lav_mvnorm_missing_loglik_samplestats``
    with ``x.idx``, the h1 logl likewise), and its npar leaves the x moments out, so AIC/BIC compare like
    with like.  The model reproduces S_xx (and x̄) exactly, so tr(Σ̂_xx⁻¹S_xx) = p_x and the mean term is 0;
    controls are complete (the data layer drops rows with a blank control), so the complete-data formula
    is lavaan's FIML marginal too.  0 without controls."""
    if not x_index:
        return 0.0
    _, logdet_x = np.linalg.slogdet(S[np.ix_(x_index, x_index)])
    px = len(x_index)
    return float(-n / 2 * (px * math.log(2 * math.pi) + logdet_x + px))


def fit_measures(*, fmin: float, S: np.ndarray, sigma: np.ndarray, n: int, n_free: int,
                 x_index: list[int]) -> dict:
    """The contract's FIT object (plus a few extras: baseline χ², log-likelihood, npar)."""
    p = S.shape[0]
    nx = len(x_index)
    df = p * (p + 1) // 2 - nx * (nx + 1) // 2 - n_free
    chi2 = chi_square(fmin, n)
    chi2_b, df_b = baseline_chi_square(S, n, x_index)
    ll = loglik(S, sigma, n, x_index)
    lo, hi = rmsea_ci(chi2, df, n)
    return {
        "chi2": chi2, "df": int(df),
        "pvalue": float(chdtrc(df, chi2)) if df > 0 else None,
        "cfi": cfi(chi2, df, chi2_b, df_b), "tli": tli(chi2, df, chi2_b, df_b),
        "rmsea": rmsea(chi2, df, n), "rmsea_ci90": [lo, hi],
        "srmr": srmr(S, sigma),
        "aic": -2 * ll + 2 * n_free, "bic": -2 * ll + math.log(n) * n_free,
        "n": int(n), "npar": int(n_free), "loglik": ll,
        "baseline_chi2": chi2_b, "baseline_df": int(df_b),
    }


def srmr_groups(S: np.ndarray, M: np.ndarray, sigma: np.ndarray, mu: np.ndarray, n: np.ndarray,
                meanstructure: bool) -> float:
    """lavaan's "srmr" (Bentler) for G groups: per-group root mean square of the residual covariances
    (and, with a mean structure, the mean residuals) scaled by the observed SDs, averaged with n_g/N."""
    values = []
    for g in range(len(n)):
        sd = np.sqrt(np.diag(S[g]))
        resid = (S[g] - sigma[g]) / np.outer(sd, sd)
        parts = [resid[np.tril_indices_from(resid)]]
        if meanstructure:
            parts.append((M[g] - mu[g]) / sd)
        e = np.concatenate(parts)
        values.append(np.sqrt(np.mean(e ** 2)))
    return float(np.dot(n, values) / n.sum())


def fit_measures_groups(*, test, S: np.ndarray, M: np.ndarray, sigma: np.ndarray, mu: np.ndarray,
                        n: tuple[int, ...], n_free: int, x_index: list[int], meanstructure: bool,
                        baseline_chi2: float | None = None, logl: float | None = None) -> dict:
    """The contract's FIT object for G ≥ 1 groups (lavaan ``fitMeasures``) from any test result.

    Baseline: independence model in every group (variances and means free, fixed.x block as observed);
    RMSEA and its CI multiplied by sqrt(G) (lavaan's multigroup correction); log-likelihood summed over
    groups with the mean term, given the controls (``x_block_loglik``); BIC with the total N.  An estimator whose likelihood is not the complete-data
    one (FIML: casewise) passes its own ``baseline_chi2`` and ``logl``; everything else is shared.
    """
    G = len(n)
    ntot = int(sum(n))
    chi2, df = test.chi2, test.df
    chi2_b, df_b = 0.0, 0
    ll = 0.0
    for g in range(G):
        c, d = baseline_chi_square(S[g], n[g], x_index)
        chi2_b += c
        df_b += d
        ll += loglik(S[g], sigma[g], n[g], x_index)
        if meanstructure:
            dm = M[g] - mu[g]
            ll -= n[g] / 2 * float(dm @ np.linalg.solve(sigma[g], dm))
    chi2_b = chi2_b if baseline_chi2 is None else baseline_chi2
    ll = ll if logl is None else logl
    lo, hi = rmsea_ci(chi2, df, ntot)
    out = {
        "chi2": chi2, "df": int(df), "pvalue": test.pvalue,
        "cfi": cfi(chi2, df, chi2_b, df_b), "tli": tli(chi2, df, chi2_b, df_b),
        "rmsea": rmsea(chi2, df, ntot) * math.sqrt(G), "rmsea_ci90": [lo * math.sqrt(G), hi * math.sqrt(G)],
        "srmr": srmr_groups(S, M, sigma, mu, np.asarray(n, dtype=float), meanstructure),
        "aic": -2 * ll + 2 * n_free, "bic": -2 * ll + math.log(ntot) * n_free,
        "n": ntot, "npar": int(n_free), "loglik": ll,
        "baseline_chi2": chi2_b, "baseline_df": int(df_b),
    }
    out.update(test.scaled)
    return out
