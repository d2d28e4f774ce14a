"""The two-level model: one LISREL model per level (the project's single-level builders), their means,
and the map from the free parameters to lavaan's '2l' moments (``loglik.Moments2L``).

Mean structure as lavaan's two-level defaults: at level 1 the intercepts of variables that also appear at
level 2 are fixed to 0 (their mean lives at level 2), those of within-only variables are free; at level 2
every intercept is free; latent means are 0; fixed.x covariates take their sample means and (co)variances —
the total covariance (/N) at level 1, the covariance of the cluster means (/J) at level 2 (``lav_samplestats``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from ...errors import FitError
from ..fit_indices import x_block_loglik
from ..matrices import MatrixModel, build_matrix_model, structural_inverse
from ..param import Param
from ..partable import ParTable
from .loglik import Moments2L, loglik, loglik_gradient
from .stats import ClusterStats


@dataclass(frozen=True)
class Level:
    """One level's parameter table (free indices global), LISREL model and intercept rows."""
    number: int                    # 1 = within, 2 = between
    table: ParTable                # covariance-structure rows, free indices offset into the global θ
    matrices: MatrixModel
    intercepts: tuple[Param, ...]  # one ``~1`` row per observed variable then per latent, lavaan's order
    x_cov: np.ndarray              # fixed.x sample covariance in this level's ov order (zeros elsewhere)
    x_mean: np.ndarray             # fixed.x sample means in this level's ov order

    @property
    def ov(self) -> tuple[str, ...]:
        return self.table.variables.ov

    def rows(self) -> list[Param]:
        return list(self.table.params) + list(self.intercepts)

    def moments(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(μ, Σ) of this level's observed variables for a batch θ (R, q): μ = ν + ΛAα, Σ = ΛAΨA'Λ' + Θ."""
        S = np.broadcast_to(self.x_cov, (theta.shape[0],) + self.x_cov.shape)
        mats = self.matrices.matrices(theta, S)
        lam, beta = mats[0], mats[1]
        sigma = self.matrices.implied(theta, S, mats=mats)
        nu, alpha = self.mean_vectors(theta)
        return nu + (lam @ structural_inverse(beta) @ alpha[..., None])[..., 0], sigma

    def mean_vectors(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ν, α) for a batch θ: intercepts of indicators and means of latents (covariate phantoms carry x̄)."""
        var = self.table.variables
        eta = var.eta
        nu, alpha = np.zeros((theta.shape[0], len(self.ov))), np.zeros((theta.shape[0], len(eta)))
        for row in self.intercepts:
            value = theta[:, row.free] if row.free >= 0 else row.value
            if row.lhs in var.ov_ind:
                nu[:, self.ov.index(row.lhs)] = value
            else:
                alpha[:, eta.index(row.lhs)] = value
        return nu, alpha


def _intercepts(table: ParTable, fixed_zero: set[str], x_mean: dict[str, float], first_free: int
                ) -> tuple[list[Param], int]:
    """lavaan's ``~1`` rows of one level and the next free index."""
    rows, nxt = [], first_free
    var = table.variables
    for name in list(var.ov) + list(var.lv):
        if name in var.ov_x:
            rows.append(Param(name, "~1", "", value=x_mean[name], user=False, exo=True, free=-1))
        elif name in var.lv or name in fixed_zero:
            rows.append(Param(name, "~1", "", value=0.0, user=False, free=-1))
        else:
            rows.append(Param(name, "~1", "", user=False, free=nxt))
            nxt += 1
    return rows, nxt


def _offset(table: ParTable, offset: int, level: int) -> ParTable:
    rows = tuple(replace(p, free=p.free + offset, group=level - 1) if p.free >= 0 else replace(p, group=level - 1)
                 for p in table.params)
    return replace(table, params=rows, n_free=table.n_free + offset)


@dataclass(frozen=True)
class TwoLevelModel:
    levels: tuple[Level, Level]
    stats: ClusterStats
    n_free: int

    @property
    def within_only(self) -> np.ndarray:
        """Mask over the y variables: True where the variable has no level-2 part."""
        between = set(self.levels[1].ov)
        return np.array([v not in between for v in self.stats.y_names])

    @cached_property
    def loglik_x(self) -> float:
        """lavaan's ``loglik.x``: the fixed.x covariates' own log-likelihood at each level (their sample
        moments), left out of every logl of this model; a constant of the data, computed once."""
        return sum(x_block_loglik(level.x_cov, n, [level.ov.index(v) for v in level.table.variables.ov_x])
                   for level, n in zip(self.levels, (self.stats.n, self.stats.n_clusters)))

    def loglik(self, theta: np.ndarray) -> float:
        """lavaan's ``logl`` at θ (the fixed.x part left out); −inf where a matrix is not positive definite."""
        return loglik(self.stats, self.moments(theta), self.loglik_x)

    def moments(self, theta: np.ndarray) -> Moments2L:
        """lavaan's ``implied22l`` at one θ (q,)."""
        return Moments2L(*(m[0] for m in self._moments_batch(theta[None])))

    def _moments_batch(self, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """lavaan's ``implied22l`` for a batch θ (R, q): scatter the level moments into the y/z partition;
        fields in ``Moments2L`` order, each with a leading batch axis."""
        (mu1, sig1), (mu2, sig2) = (lv.moments(theta) for lv in self.levels)
        ov2 = self.levels[1].ov
        y, z = self.stats.y_names, self.stats.z_names
        both = [i for i, v in enumerate(y) if v in ov2]
        b_in2 = [ov2.index(y[i]) for i in both]
        z_in2 = [ov2.index(v) for v in z]
        bb, b2 = np.ix_(both, both), np.ix_(b_in2, b_in2)
        R = theta.shape[0]
        sigma_b = np.zeros((R, len(y), len(y)))
        sigma_b[:, bb[0], bb[1]] = sig2[:, b2[0], b2[1]]
        sigma_yz = np.zeros((R, len(y), len(z)))
        bz = np.ix_(b_in2, z_in2)
        sigma_yz[:, both, :] = sig2[:, bz[0], bz[1]]
        mu_y = mu1.copy()
        mu_y[:, both] += mu2[:, b_in2]
        zz = np.ix_(z_in2, z_in2)
        return sig1, sigma_b, sig2[:, zz[0], zz[1]], sigma_yz, mu_y, mu2[:, z_in2]

    def jacobian(self, theta: np.ndarray, h: float = 1e-6) -> tuple[np.ndarray, ...]:
        """∂moments/∂θ by central differences in one batched call (the moments are smooth in θ, so the
        error is ~h²): fields in ``Moments2L`` order, each with a leading axis over θ."""
        steps = np.eye(len(theta)) * h
        up = self._moments_batch(theta + steps)
        down = self._moments_batch(theta - steps)
        return tuple((u - d) / (2 * h) for u, d in zip(up, down))

    def gradient(self, theta: np.ndarray, loglik_x: float = 0.0) -> np.ndarray:
        """∂logl/∂θ: the likelihood's analytic gradient in the moments, chained with their Jacobian."""
        g = loglik_gradient(self.stats, self.moments(theta))
        fields = (g.sigma_w, g.sigma_b, g.sigma_zz, g.sigma_yz, g.mu_y, g.mu_z)
        out = np.zeros(len(theta))
        for jac, grad in zip(self.jacobian(theta), fields):
            out += jac.reshape(len(theta), -1) @ grad.reshape(-1)
        return out


def build_twolevel_model(tables: tuple[ParTable, ParTable], stats: ClusterStats) -> TwoLevelModel:
    """Number the free parameters level by level (level-1 rows, level-1 intercepts, level-2 rows, level-2
    intercepts: lavaan's table order) and attach the fixed.x sample moments."""
    within, between = tables
    shared_labels = set(filter(None, within.free_labels)) & set(filter(None, between.free_labels))
    if shared_labels:
        raise FitError(f"label '{sorted(shared_labels)[0]}' is used at both levels; cross-level equality "
                       "constraints are not supported. Fix: use different labels per level")
    y_index = {v: i for i, v in enumerate(stats.y_names)}
    zy_names = stats.z_names + stats.y_names
    zy_index = {v: i for i, v in enumerate(zy_names)}
    both = set(within.variables.ov) & set(between.variables.ov)
    levels, offset = [], 0
    for number, table, cov, mean, index in ((1, within, stats.total_cov, stats.total_mean, y_index),
                                            (2, between, stats.between_cov, stats.between_mean, zy_index)):
        table = _offset(table, offset, number)
        ov = table.variables.ov
        pos = [index[v] for v in ov]
        x_cov = cov[np.ix_(pos, pos)]
        x_mean = {v: float(mean[index[v]]) for v in table.variables.ov_x}
        fixed_zero = both if number == 1 else set()
        intercepts, offset = _intercepts(table, fixed_zero, x_mean, table.n_free)
        intercepts = [replace(r, group=number - 1) for r in intercepts]
        levels.append(Level(number, replace(table, n_free=offset), build_matrix_model(replace(table, n_free=offset)),
                            tuple(intercepts), x_cov, np.array([mean[index[v]] for v in ov])))
    return TwoLevelModel(tuple(levels), stats, offset)
