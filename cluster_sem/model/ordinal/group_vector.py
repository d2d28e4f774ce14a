"""σ(θ) and its Jacobian for a multigroup WLSMV model, stacked over groups (lavaan ``computeTH``,
``computePI``, ``computeSigmaHat`` with the delta scale factors).

For group g, item a with scale factor Δ_a and model mean μ_a (ν + ΛAα; ν = 0 for items, covariate means
0: under conditional.x the thresholds are the probit intercepts at x = 0):

    threshold  τ*_ak = Δ_a (τ_ak − μ_a)
    slope      π*_ax = Δ_a π_ax                    (π = Σ_yx Σ_xx⁻¹)
    correlation ρ_ab = Δ_a Δ_b M_ab   (a ≠ b)      (M = Σ_y|x of the delta table)

The item residual variances are 1/Δ_a² − M_aa, so the y* have unit variance after scaling (they never
enter σ).  The same interface as ``dwls.ModelVector`` (``sigma``, ``jacobian``, ``q``) so ``gauss_newton``
runs unchanged on the stacked vector.
"""
from __future__ import annotations

import numpy as np

from .group_layout import GroupLayout


class GroupModelVector:
    def __init__(self, layout: GroupLayout, S: list[np.ndarray], pair_a: np.ndarray, pair_b: np.ndarray):
        self.layout = layout
        self.S = S                       # per group: 'sample covariance' (covariate block used, fixed.x)
        self.ra, self.ca = pair_b, pair_a
        self.q = layout.q
        self.q_model = layout.q_model
        self.th_item = layout.th_item
        p = len(layout.items)
        self.zero_mean = np.zeros(len(layout.model.ov))
        self.sizes = [len(self.th_item) + p * len(layout.covariates) + len(pair_a)] * layout.n_groups

    def _parts(self, theta: np.ndarray, g: int):
        lay = self.layout
        tm = theta[: self.q_model]
        block = lay.blocks[g]
        pi, M = block.moments(tm, self.S[g])
        mu = lay.model.mean_vector(g, tm, self.S[g], self.zero_mean)[block.y_idx]
        return tm, block, pi, M, mu, lay.scale(theta, g)

    def sigma_group(self, theta: np.ndarray, g: int) -> np.ndarray:
        _, _, pi, M, mu, d = self._parts(theta, g)
        tau = theta[self.layout.th_index[g]]
        a = self.th_item
        return np.concatenate([d[a] * (tau - mu[a]), (d[:, None] * pi).ravel(),
                               d[self.ra] * d[self.ca] * M[self.ra, self.ca]])

    def sigma(self, theta: np.ndarray, S=None) -> np.ndarray:
        return np.concatenate([self.sigma_group(theta, g) for g in range(self.layout.n_groups)])

    def jacobian_group(self, theta: np.ndarray, g: int) -> np.ndarray:
        lay = self.layout
        tm, block, pi, M, mu, d = self._parts(theta, g)
        n_th, p, nx = len(self.th_item), len(lay.items), len(lay.covariates)
        J = np.zeros((self.sizes[g], self.q))
        a = self.th_item
        rows_th = np.arange(n_th)
        tau = theta[lay.th_index[g]]
        np.add.at(J, (rows_th, lay.th_index[g]), d[a])
        sidx = lay.scale_index[g]
        free_scale = sidx >= 0
        if self.q_model:
            dpi, dM = block.moments_jacobian(tm, self.S[g])
            dmu = lay.model.mean_jacobian(g, tm, self.S[g], self.zero_mean)[block.y_idx]
            J[:n_th, : self.q_model] = -d[a, None] * dmu[a]
            J[n_th:n_th + p * nx, : self.q_model] = (d[:, None, None] * dpi).reshape(p * nx, self.q_model)
            J[n_th + p * nx:, : self.q_model] = (d[self.ra] * d[self.ca])[:, None] * dM[self.ra, self.ca, :]
        if free_scale.any():
            rows = rows_th[free_scale[a]]
            J[rows, sidx[a[rows]]] += tau[rows] - mu[a[rows]]
            if nx:
                for item in np.flatnonzero(free_scale):
                    J[n_th + item * nx:n_th + (item + 1) * nx, sidx[item]] += pi[item]
            base = n_th + p * nx
            m_pair = M[self.ra, self.ca]
            for side, other in ((self.ra, self.ca), (self.ca, self.ra)):
                sel = np.flatnonzero(free_scale[side])
                np.add.at(J, (base + sel, sidx[side[sel]]), d[other[sel]] * m_pair[sel])
        return J

    def jacobian(self, theta: np.ndarray, S=None) -> np.ndarray:
        return np.vstack([self.jacobian_group(theta, g) for g in range(self.layout.n_groups)])
