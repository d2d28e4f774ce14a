"""The delta parameterization: which rows of the parameter table are free when items are ordinal.

The latent responses y* have unit variance, so an ordinal item's residual variance is not a parameter but
1 − (its model-implied variance from the factors) (lavaan ``parameterization = "delta"``).  We keep two
views of one model: the *full* lavaan table (residual variances as ordinary rows, so ``estimates``,
``standardized``, ``:=`` and admissibility are reused unchanged) and the *delta* table in which those rows
are fixed; the estimator works on the delta table and maps its θ back to the full one.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..matrices import MatrixModel, build_matrix_model
from ..partable import ParTable


@dataclass(frozen=True)
class DeltaModel:
    full: ParTable
    full_mm: MatrixModel
    delta: ParTable
    mm: MatrixModel                 # Σ*(θ) with the ordinal residual variances fixed at 0
    ordinal: tuple[str, ...]
    full_index: np.ndarray          # θ_full[k] = θ[full_index[k]] (−1: a derived residual variance)
    resid_rows: np.ndarray          # for each derived residual variance: its position among the items
    resid_free: np.ndarray          # … and its position in θ_full
    y_idx: np.ndarray               # ordinal items in mm.ov
    x_idx: np.ndarray               # fixed.x covariates in mm.ov (conditional.x)

    def moments(self, theta: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model slopes Π = Σ_yx Σ_xx⁻¹ and residual covariance Σ_y|x (ordinal residual variances at 0)."""
        sigma = self.mm.implied(theta[None], S[None])[0]
        yy = sigma[np.ix_(self.y_idx, self.y_idx)]
        if not len(self.x_idx):
            return np.zeros((len(self.y_idx), 0)), yy
        yx = sigma[np.ix_(self.y_idx, self.x_idx)]
        pi = yx @ np.linalg.inv(sigma[np.ix_(self.x_idx, self.x_idx)])
        return pi, yy - pi @ yx.T

    def moments_jacobian(self, theta: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """∂Π/∂θ (p_y, n_x, q) and ∂Σ_y|x/∂θ (p_y, p_y, q); Σ_xx is fixed (fixed.x)."""
        jac = self.mm.jacobian(theta, S)
        dyy = jac[np.ix_(self.y_idx, self.y_idx)]
        if not len(self.x_idx):
            return np.zeros((len(self.y_idx), 0, jac.shape[2])), dyy
        sigma = self.mm.implied(theta[None], S[None])[0]
        sxx_inv = np.linalg.inv(sigma[np.ix_(self.x_idx, self.x_idx)])
        pi = sigma[np.ix_(self.y_idx, self.x_idx)] @ sxx_inv
        dyx = jac[np.ix_(self.y_idx, self.x_idx)]
        dpi = np.einsum("axq,xb->abq", dyx, sxx_inv)
        cross = np.einsum("axq,bx->abq", dyx, pi)
        return dpi, dyy - cross - np.swapaxes(cross, 0, 1)

    def to_full(self, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
        """θ_full with residual variances 1 − diag(model part of Σ_y|x) of the ordinal items."""
        out = np.where(self.full_index >= 0, theta[np.maximum(self.full_index, 0)], 0.0)
        _, resid = self.moments(theta, S)
        out[self.resid_free] = 1.0 - np.diagonal(resid)[self.resid_rows]
        return out

    def full_jacobian(self, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
        """∂θ_full/∂θ (for the delta-method covariance of derived quantities)."""
        G = np.zeros((self.full.n_free, self.delta.n_free))
        keep = self.full_index >= 0
        G[np.flatnonzero(keep), self.full_index[keep]] = 1.0
        _, dres = self.moments_jacobian(theta, S)
        G[self.resid_free] = -dres[self.resid_rows, self.resid_rows, :]
        return G


def response_sd(mm: MatrixModel, theta_full: np.ndarray, S: np.ndarray, names) -> dict[str, float]:
    """Model-implied sd of observed variables (an item's y*, a control), marginal over the controls: what
    lavaan's std.all divides a threshold or a mean by (``lav_standardize_all``: τ / √diag(Λ V(η) Λ' + Θ),
    V(η) including Γ cov.x Γ').  For an item it is 1/Δ without controls, and larger with them: the delta
    scaling fixes the *conditional* variance of y* given the controls, not the total one."""
    sigma = mm.implied(theta_full[None], S[None])[0]
    return {v: float(np.sqrt(sigma[mm.ov.index(v), mm.ov.index(v)])) for v in names}


def delta_model(full: ParTable, ordinal: tuple[str, ...]) -> DeltaModel:
    """Fix the residual variances of the ordinal items and renumber the remaining free parameters."""
    old_to_new: dict[int, int] = {}
    params, labels = [], []
    resid_old: dict[int, str] = {}
    for p in full.params:
        if p.op == "~~" and p.lhs == p.rhs and p.lhs in ordinal and p.free >= 0:
            resid_old[p.free] = p.lhs
            params.append(replace(p, free=-1, value=0.0, label=""))
            continue
        if p.free >= 0:
            if p.free not in old_to_new:
                old_to_new[p.free] = len(old_to_new)
                labels.append(full.free_labels[p.free] if p.free < len(full.free_labels) else "")
            p = replace(p, free=old_to_new[p.free])
        params.append(p)
    delta = ParTable(tuple(params), full.defined, full.variables, len(old_to_new), tuple(labels))
    mm = build_matrix_model(delta)
    full_index = np.array([old_to_new.get(k, -1) for k in range(full.n_free)], dtype=int)
    resid_free = np.array(sorted(resid_old), dtype=int)
    resid_rows = np.array([list(ordinal).index(resid_old[k]) for k in resid_free], dtype=int)
    y_idx = np.array([mm.ov.index(v) for v in ordinal], dtype=int)
    x_idx = np.array([mm.ov.index(v) for v in full.variables.ov_x], dtype=int)
    return DeltaModel(full, build_matrix_model(full), delta, mm, tuple(ordinal), full_index, resid_rows,
                      resid_free, y_idx, x_idx)
