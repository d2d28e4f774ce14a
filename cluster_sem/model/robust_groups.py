"""MLR for the multigroup / mean-structure core (complete data): the vcov and test stages of lavaan's
``estimator = "MLR"`` named in the estimator table (``model/estimators/mlr.py``: ``vcov_sandwich``,
``yuan_bentler_mplus_test``; ``yuan_bentler_mplus_h1_test``, the same test with the h1-based information, for
ML with clusters).

Per group g the casewise scores are the saturated scores (``fiml.h1_scores``: ∂ℓ_i/∂(μ_g, vech Σ_g)) times
Δ_g = ∂(μ_g, vech Σ_g)/∂θ' (central differences of ``GroupModel.implied``, which is all the seam exposes).
* vcov = A⁻¹BA⁻¹ with A = (N/2)∇²F the total observed information (finite differences of the objective's
  analytic gradient, as lavaan) and B = Σ_i s_i s_i';
* Yuan–Bentler (Mplus): tr(UΓ) = Σ_g tr(A1_g⁻¹B1_g) − tr(E⁻¹B0) (lavaan ``lav_test_yb_mplus_trace``), c = tr/df;
  the independence baseline gets its own c_b the same way, for robust CFI/TLI; robust RMSEA = √G·√(max(χ²/N/df
  − c/N, 0)).
With clusters (``SampleStats.cluster``, lavaan ``cluster=``) the meat is built per group, as lavaan's
``lav_model_information_firstorder``: group g's scores are summed within its clusters and scaled by
G_g/(G_g − 1) (``lav_mvn_info_firstorder(cluster_idx = Lp[[g]]$cluster.idx[[2]])``), divided by n_g, and
the groups are added with weights n_g/N — so B = Σ_g G_g/(G_g − 1)·Σ_{c∈g} s_c s_c' (total).  The
Yuan–Bentler traces use the same per-group meats (``lav_test_yb_mplus_trace``: Σ_g tr(A1_g⁻¹B1_g) −
tr(E⁻¹ Σ_g f_g B0_g)).
fixed.x covariates: their h1 moments (x means, x–x covariances) are left out of the h1 information and scores,
as lavaan zeroes them (``lav_mvn_zero_x_idx``).  Multigroup FIML uses the same test on the EM moments
(``fiml_groups``).
"""
from __future__ import annotations

import numpy as np

from .fiml import h1_observed_information, h1_score_blocks, vech_indices
from .fit_indices import baseline_chi_square
from .missing import Patterns
from .robust import (cfi_robust, first_order_blocks, rmsea_ci_robust, rmsea_robust, scaled_test, tli_robust,
                     yb_mplus_trace_meats)


def _deltas(model, theta: np.ndarray, stats, h: float = 1e-6) -> list[np.ndarray]:
    """Δ_g = ∂(μ_g, vech Σ_g)/∂θ' per group, (p + p*, q), by central differences."""
    p = len(model.ov)
    r, c = vech_indices(p)
    q = len(theta)
    out = [np.zeros((p + len(r), q)) for _ in range(stats.n_groups)]
    for k in range(q):
        step = h * max(1.0, abs(theta[k]))
        up, dn = theta.copy(), theta.copy()
        up[k] += step
        dn[k] -= step
        su, mu_u = model.implied(up, stats.cov, stats.mean)
        sd, mu_d = model.implied(dn, stats.cov, stats.mean)
        for g in range(stats.n_groups):
            out[g][:p, k] = (mu_u[g] - mu_d[g]) / (2 * step)
            out[g][p:, k] = (su[g][r, c] - sd[g][r, c]) / (2 * step)
    return out


def _meat_of_model(objective, theta: np.ndarray, stats) -> np.ndarray:
    """Total first-order information Σ_g n_g·B_g of the casewise scores ∂ℓ_i/∂θ = h1 scores × Δ_g (B_g the
    unit meat of group g, cluster-summed within the group when there are clusters) — lavaan's Σ_g f_g·B_g
    times N.  The scores are summed in row blocks (``fiml.h1_score_blocks``), never held for all cases."""
    model = objective.model
    sigma, mu = model.implied(theta, stats.cov, stats.mean)
    deltas = _deltas(model, theta, stats)
    total = 0.0
    for g in range(stats.n_groups):
        pats = Patterns.from_array(stats.data[g])
        total = total + pats.n * _first_order_h1(pats, mu[g], sigma[g], stats, g, project=deltas[g])
    return total


def _first_order_h1(pats: Patterns, mu: np.ndarray, sigma: np.ndarray, stats, g: int, **kw) -> np.ndarray:
    """Unit first-order information of group g's h1 scores at (μ, Σ), ``keep``/``project``/``means`` as
    ``fiml.h1_score_blocks``."""
    return first_order_blocks(h1_score_blocks(pats, mu, sigma, **kw), pats.n, _cluster(stats, g))


def _cluster(stats, g: int) -> np.ndarray | None:
    """Group g's cluster codes, or None without clusters."""
    return stats.cluster[g] if getattr(stats, "cluster", ()) else None


def _observed_information(objective, theta: np.ndarray, stats, h: float = 1e-6) -> np.ndarray:
    """Total observed information (N/2)·∇²F, central differences of the analytic gradient — all 2q
    perturbed θ in one batched objective call."""
    from .objective_ml import BatchStats, single_batch
    q = len(theta)
    steps = h * np.maximum(1.0, np.abs(theta))
    thetas = np.vstack([theta[None] + np.diag(steps), theta[None] - np.diag(steps)])
    batch = single_batch(objective, stats)
    if isinstance(batch, BatchStats):      # moments per replicate: repeat the data's for every θ
        R = len(thetas)
        batch = BatchStats(np.repeat(batch.cov, R, axis=1), np.repeat(batch.mean, R, axis=1),
                           np.repeat(batch.logdet, R, axis=1), batch.weights)
    grad = objective(thetas, batch)[1]
    H = ((grad[:q] - grad[q:]) / (2 * steps[:, None])).T
    return stats.ntotal / 2 * 0.5 * (H + H.T)


def _h1_information(objective, theta: np.ndarray, stats, pats: list[Patterns]) -> np.ndarray:
    """Unit h0 information Σ_g (n_g/N)·Δ_g'A1_g(μ̂_g, Σ̂_g)Δ_g (lavaan ``observed.information = "h1"``)."""
    model = objective.model
    sigma, mu = model.implied(theta, stats.cov, stats.mean)
    deltas = _deltas(model, theta, stats)
    return sum(w * d.T @ h1_observed_information(pats[g], mu[g], sigma[g]) @ d
               for g, (w, d) in enumerate(zip(stats.weights, deltas)))


def yuan_bentler_mplus_h1_test(fmin: float, stats, model, *, theta: np.ndarray, objective):
    """The Yuan–Bentler test with the h1-based h0 information (ML with clusters, see below)."""
    return yuan_bentler_mplus_test(fmin, stats, model, theta=theta, objective=objective, information="h1")


def vcov_sandwich(objective, theta: np.ndarray, stats) -> np.ndarray:
    """Huber–White vcov (lavaan ``se = "robust.huber.white"`` with observed information)."""
    a = _observed_information(objective, theta, stats)
    meat = _meat_of_model(objective, theta, stats)
    try:
        a_inv = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.full_like(a, np.nan)
    return a_inv @ meat @ a_inv


def yuan_bentler_mplus_test(fmin: float, stats, model, *, theta: np.ndarray, objective, information: str = "observed"):
    """Standard χ² plus the robust keys (contract names) in ``TestResult.scaled``.

    ``information="h1"``: the h0 information of the trace is Σ_g f_g Δ_g'A1_g(μ̂_g, Σ̂_g)Δ_g instead of the
    Hessian — lavaan's ``observed.information = "h1"`` for the test, which it uses with ``estimator = "ML"``
    and ``cluster=`` (as ``fit_model_casewise`` for one group)."""
    from .statistic import TestResult, standard_test
    base = standard_test(fmin, stats, model)
    n = stats.ntotal
    means = model.partable.meanstructure
    from .fitted_casewise import h1_mask
    p = len(model.ov)
    x_index = [model.ov.index(v) for v in model.partable.variables.ov_x]
    keep = h1_mask(p, x_index, means)     # fixed.x: lavaan zeroes the x moments' rows (lav_mvn_zero_x_idx)
    sub = np.ix_(keep, keep)
    pats = [Patterns.from_array(stats.data[g]) for g in range(stats.n_groups)]
    a1 = [h1_observed_information(pats[g], stats.mean[g], stats.cov[g], means=means)[sub]
          for g in range(stats.n_groups)]
    b1 = [_first_order_h1(pats[g], stats.mean[g], stats.cov[g], stats, g, means=means, keep=keep)
          for g in range(stats.n_groups)]
    trace_h1 = sum(float(np.trace(np.linalg.solve(a, b))) for a, b in zip(a1, b1))
    info = _h1_information(objective, theta, stats, pats) if information == "h1" \
        else _observed_information(objective, theta, stats) / n
    trace_h0 = float(np.trace(np.linalg.solve(info, _meat_of_model(objective, theta, stats) / n)))
    test = scaled_test(base.chi2, base.df, trace_h1 - trace_h0)
    # independence baseline (means and variances free per group), fitted the same way
    chi2_b, df_b, trace_b = 0.0, 0, 0.0
    r, c = vech_indices(p)
    free = np.array([j not in x_index for j in range(p)])
    var_pos = p * means + np.flatnonzero((r == c) & free[r])
    diag = np.concatenate([np.flatnonzero(free), var_pos]) if means else var_pos
    for g in range(stats.n_groups):
        cb, db = baseline_chi_square(stats.cov[g], stats.n[g], x_index)
        chi2_b += cb
        df_b += db
        cov_b = np.diag(np.diag(stats.cov[g]))
        if x_index:
            cov_b[np.ix_(x_index, x_index)] = stats.cov[g][np.ix_(x_index, x_index)]
        d = np.eye(len(keep))[np.ix_(keep, diag)]
        e_b = d.T @ h1_observed_information(pats[g], stats.mean[g], cov_b, means=means)[sub] @ d
        b0 = _first_order_h1(pats[g], stats.mean[g], cov_b, stats, g, means=means, keep=keep, project=d)
        trace_b += yb_mplus_trace_meats(a1[g], b1[g], e_b, b0)
    c_b = trace_b / df_b
    G = stats.n_groups
    ch = test.chi2_scaling_factor
    scaled = {"chi2_scaled": test.chi2_scaled, "df_scaled": test.df_scaled, "pvalue_scaled": test.pvalue_scaled,
              "chi2_scaling_factor": ch,
              "cfi_robust": cfi_robust(base.chi2, base.df, ch, chi2_b, df_b, c_b),
              "tli_robust": tli_robust(base.chi2, base.df, ch, chi2_b, df_b, c_b),
              "rmsea_robust": rmsea_robust(base.chi2, base.df, n, ch, groups=G),
              "rmsea_ci90_robust": rmsea_ci_robust(base.chi2, base.df, n, ch, groups=G)}
    return TestResult("yuan.bentler.mplus", base.chi2, base.df, base.pvalue, scaled)


def satorra_bentler_difference(restricted, free) -> dict:
    """lavTestLRT(method = "satorra.bentler.2001") between two MLR fits (``Estimator.delta_test``)."""
    from .robust import satorra_bentler_2001
    r, f = restricted.fit, free.fit
    out = satorra_bentler_2001(r["chi2"], r["df"], r["chi2_scaling_factor"], f["chi2"], f["df"],
                               f["chi2_scaling_factor"])
    return {"chi2": out["chi2"], "df": out["df"], "pvalue": out["pvalue"]}
