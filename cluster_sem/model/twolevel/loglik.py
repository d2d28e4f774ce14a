"""The two-level normal log-likelihood and the saturated (h1) model by EM, as lavaan 0.6-14 computes them.

Representation (lavaan's '2l' form, ``lav_mvnorm_cluster_implied22l``): y = level-1 variables, z =
between-only variables; Σ_W = Var(within part of y), Σ_B = Var(between part of y) (zero rows for
within-only variables), Σ_zz, Σ_yz = Cov(between part of y, z), μ_y = μ_W + μ_B, μ_z.  The likelihood of
cluster j of size n_j factors into a within part (pooled within-cluster scatter, Σ_W) and a between part
(the cluster mean vector, Σ_j = Σ_W + n_j Σ_B|z), so clusters of one size share one matrix inverse
(``lav_mvnorm_cluster_loglik_samplestats_2l``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stats import ClusterStats

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class Moments2L:
    sigma_w: np.ndarray   # (p_y, p_y)
    sigma_b: np.ndarray   # (p_y, p_y)
    sigma_zz: np.ndarray  # (p_z, p_z)
    sigma_yz: np.ndarray  # (p_y, p_z)
    mu_y: np.ndarray      # (p_y,)
    mu_z: np.ndarray      # (p_z,)


def _inv_logdet(m: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Inverse and log-determinant of a symmetric matrix; None when it is not positive definite."""
    if m.shape[0] == 0:
        return m, 0.0
    try:
        chol = np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return None
    inv = np.linalg.inv(chol)
    return inv.T @ inv, 2.0 * float(np.log(np.diag(chol)).sum())


def loglik(stats: ClusterStats, mom: Moments2L, loglik_x: float = 0.0) -> float:
    """Log-likelihood with the 2π constant, minus the fixed.x part (lavaan's ``logl``); −inf when a
    matrix is not positive definite."""
    w = _inv_logdet(mom.sigma_w)
    zz = _inv_logdet(mom.sigma_zz)
    if w is None or zz is None:
        return -np.inf
    (w_inv, w_logdet), (zz_inv, zz_logdet) = w, zz
    p_z = stats.p_z
    yz_zi = mom.sigma_yz @ zz_inv
    sigma_b_z = mom.sigma_b - yz_zi @ mom.sigma_yz.T
    mu = np.concatenate([mom.mu_z, mom.mu_y])
    total = 0.0
    for nj, count, cov_d, mean_d in zip(stats.sizes, stats.size_count, stats.cov_d, stats.mean_d):
        dev = mean_d - mu
        y2yc = cov_d + np.outer(dev, dev)
        j = _inv_logdet(mom.sigma_w + nj * sigma_b_z)
        if j is None:
            return -np.inf
        j_inv, j_logdet = j
        q_yyc = -nj * float((j_inv * y2yc[p_z:, p_z:]).sum())
        if p_z:
            ji_yz_zi = j_inv @ yz_zi
            v11 = zz_inv + nj * (yz_zi.T @ ji_yz_zi)
            q_zz = float((v11 * y2yc[:p_z, :p_z]).sum())
            q_yz = -nj * float((ji_yz_zi * y2yc[p_z:, :p_z]).sum())
        else:
            q_zz = q_yz = 0.0
        total += count * (zz_logdet + j_logdet + q_zz + 2 * q_yz - q_yyc)
    df_w = float((stats.cluster_size - 1).sum())
    total += df_w * (float((w_inv * stats.s_pw).sum()) + w_logdet)
    n_obs = stats.n * stats.p_y + stats.n_clusters * p_z
    return -0.5 * total - 0.5 * n_obs * LOG_2PI - loglik_x


def loglik_gradient(stats: ClusterStats, mom: Moments2L) -> Moments2L:
    """∂logl/∂(Σ_W, Σ_B, Σ_zz, Σ_yz, μ_y, μ_z), each entry perturbed on its own (chain with ∂moments/∂θ).

    Per cluster size s the between part is a normal log-likelihood of the (z, ȳ) cluster means with
    Ω_s = [[Σ_zz, Σ_yz'], [Σ_yz, Σ_B + Σ_W/n_s]] (lavaan's Σ_j = n_s·Ω_s|z, same value up to a constant), so
    ∂/∂Ω_s = −½·count_s·(Ω_s⁻¹ − Ω_s⁻¹ A_s Ω_s⁻¹) with A_s = C_s + d_s d_s', d_s = ȳ_s − μ; the within part
    adds −½(N − J)(Σ_W⁻¹ − Σ_W⁻¹ S_PW Σ_W⁻¹)."""
    p_z = stats.p_z
    mu = np.concatenate([mom.mu_z, mom.mu_y])
    g_w = np.zeros_like(mom.sigma_w)
    g_b = np.zeros_like(mom.sigma_b)
    g_zz = np.zeros_like(mom.sigma_zz)
    g_yz = np.zeros_like(mom.sigma_yz)
    g_mu = np.zeros_like(mu)
    for nj, count, cov_d, mean_d in zip(stats.sizes, stats.size_count, stats.cov_d, stats.mean_d):
        omega = np.block([[mom.sigma_zz, mom.sigma_yz.T], [mom.sigma_yz, mom.sigma_b + mom.sigma_w / nj]])
        inv = np.linalg.inv(omega)
        dev = mean_d - mu
        g = -0.5 * count * (inv - inv @ (cov_d + np.outer(dev, dev)) @ inv)
        g_zz += g[:p_z, :p_z]
        g_yz += 2 * g[p_z:, :p_z]
        g_b += g[p_z:, p_z:]
        g_w += g[p_z:, p_z:] / nj
        g_mu += count * (inv @ dev)
    w_inv = np.linalg.inv(mom.sigma_w)
    g_w -= 0.5 * float((stats.cluster_size - 1).sum()) * (w_inv - w_inv @ stats.s_pw @ w_inv)
    return Moments2L(g_w, g_b, g_zz, g_yz, g_mu[p_z:], g_mu[:p_z])


@dataclass(frozen=True)
class Saturated:
    """The h1 model: unrestricted level moments (y and z as in ``Moments2L``) and its log-likelihood."""
    moments: Moments2L
    mu_w: np.ndarray
    mu_b: np.ndarray
    logl: float
    iterations: int


def _estep(stats: ClusterStats, sigma_w, sigma_b, sigma_yz, sigma_zz, mu_w, mu_b, mu_z):
    """One EM step per cluster size (``lav_mvnorm_cluster_em_estepb``): the expected within/between
    moments of the random cluster effects given the cluster means."""
    p_z, p_y = stats.p_z, stats.p_y
    mu = np.concatenate([mu_z, mu_w + mu_b])
    sigma_1 = np.hstack([sigma_yz, sigma_b])
    cw2 = np.zeros((p_y, p_y))
    cb = np.zeros((p_y, p_y))
    mw = np.zeros(p_y)
    mb = np.zeros(p_y)
    zy = np.zeros((p_z, p_y))
    for nj, count in zip(stats.sizes, stats.size_count):
        b_j = stats.y2[stats.cluster_size == nj]
        ybar = b_j[:, p_z:]
        omega = np.block([[sigma_zz, sigma_yz.T], [sigma_yz, (sigma_w + nj * sigma_b) / nj]])
        s1_oinv = sigma_1 @ np.linalg.inv(omega)
        ev = (b_j - mu) @ s1_oinv.T + mu_b
        covv = count * (sigma_b - s1_oinv @ sigma_1.T)
        evv = (covv + covv.T) / 2 + ev.T @ ev
        mw += nj * (ybar - ev).sum(axis=0)
        mb += ev.sum(axis=0)
        cw2 += nj * (evv - ybar.T @ ev - ev.T @ ybar)
        cb += evv
        zy += b_j[:, :p_z].T @ ev
    m_w, m_b = mw / stats.n, mb / stats.n_clusters
    new_w = (stats.y1y1 + cw2) / stats.n - np.outer(m_w, m_w)
    new_b = cb / stats.n_clusters - np.outer(m_b, m_b)
    new_yz = (zy / stats.n_clusters - np.outer(mu_z, m_b)).T
    return new_w, new_b, new_yz, m_w, m_b


def em_saturated(stats: ClusterStats, within_only: np.ndarray, loglik_x: float, *, tol: float = 1e-4,
                 max_iter: int = 5000, min_variance: float = 1e-5) -> Saturated:
    """lavaan's ``lav_mvnorm_cluster_em_sat``: start at zero means and identity matrices, iterate EM until
    the log-likelihood gains less than ``tol``.  The same start and stopping rule as lavaan (not a tighter
    one) make χ² and the ICCs agree with lavaan's to its own EM precision, not to the exact optimum."""
    p_y, p_z = stats.p_y, stats.p_z
    both = ~within_only
    sigma_w = np.eye(p_y)
    sigma_b = np.diag(both.astype(float))
    sigma_yz = np.zeros((p_y, p_z))
    mu_w, mu_b = np.zeros(p_y), np.zeros(p_y)
    mu_z = stats.between_mean[:p_z]
    sigma_zz = stats.between_cov[:p_z, :p_z]

    def logl(sw, sb, syz, mw, mb) -> float:
        return loglik(stats, Moments2L(sw, sb, sigma_zz, syz, mw + mb, mu_z), loglik_x)

    fx_old = loglik(stats, Moments2L(sigma_w, sigma_b, np.eye(p_z), sigma_yz, mu_w + mu_b, np.zeros(p_z)),
                    loglik_x)
    fx, iteration = fx_old, 0
    for iteration in range(1, max_iter + 1):
        sigma_w, sigma_b, sigma_yz, mu_w, mu_b = _estep(stats, sigma_w, sigma_b, sigma_yz, sigma_zz,
                                                        mu_w, mu_b, mu_z)
        small = np.flatnonzero(np.diag(sigma_w) < min_variance)
        if len(small):
            sigma_w[small, :] = 0.0
            sigma_w[:, small] = 0.0
            sigma_w[small, small] = min_variance
        fx = logl(sigma_w, sigma_b, sigma_yz, mu_w, mu_b)
        if fx - fx_old < tol:
            break
        fx_old = fx
    mom = Moments2L(sigma_w, sigma_b, sigma_zz, sigma_yz, mu_w + mu_b, mu_z)
    return Saturated(mom, mu_w, mu_b, fx, iteration)
