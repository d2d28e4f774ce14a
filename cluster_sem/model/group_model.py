"""Matrices per group: Λ, B, Ψ, Θ (``MatrixModel``, unchanged) plus the mean vectors ν and α.

    Σ_g = Λ A Ψ A' Λ' + Θ,     μ_g = ν + Λ A α,     A = (I − B)⁻¹

Each group's covariance rows are placed by the single-group builder (``build_matrix_model`` on
``ParTable.group_view(g)``) with the *global* free indices, so equality constraints across groups are
nothing but shared indices.  Intercepts of indicators go to ν; intercepts of observed variables that are
not indicators go to α of their phantom latent (as lavaan's all-y representation); latent means go to α;
fixed.x covariate means are taken from the sample (``exo``), like their (co)variances.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrices import BETA, LAMBDA, MatrixModel, build_matrix_model, structural_inverse
from .partable import ParTable

NU, ALPHA = 0, 1


@dataclass(frozen=True)
class MeanModel:
    """Where the ``~1`` rows of one group live: free entries (vector, position, free index) and exo means."""

    nu_base: np.ndarray          # (p,)
    alpha_base: np.ndarray       # (m,)
    f_vec: np.ndarray
    f_pos: np.ndarray
    f_idx: np.ndarray
    x_pos: np.ndarray            # α positions of fixed.x covariate means
    x_src: np.ndarray            # their observed-variable index (sample mean)

    def vectors(self, theta: np.ndarray, ybar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Batched (ν, α) for ``theta`` (R, q) and sample means ``ybar`` (R, p)."""
        R = theta.shape[0]
        nu = np.repeat(self.nu_base[None], R, axis=0)
        alpha = np.repeat(self.alpha_base[None], R, axis=0)
        for vid, vec in ((NU, nu), (ALPHA, alpha)):
            sel = self.f_vec == vid
            if sel.any():
                vec[:, self.f_pos[sel]] = theta[:, self.f_idx[sel]]
        if len(self.x_pos):
            alpha[:, self.x_pos] = ybar[:, self.x_src]
        return nu, alpha


def build_mean_model(pt: ParTable, g: int, mm: MatrixModel) -> MeanModel:
    var = pt.variables
    io = {v: i for i, v in enumerate(mm.ov)}
    ie = {v: i for i, v in enumerate(mm.eta)}
    nu, alpha = np.zeros(mm.p), np.zeros(mm.m)
    f_vec, f_pos, f_idx, x_pos, x_src = [], [], [], [], []
    for p in pt.params:
        if p.group != g or p.op != "~1":
            continue
        vid, pos = (NU, io[p.lhs]) if p.lhs in var.ov_ind else (ALPHA, ie[p.lhs])
        if p.exo:
            x_pos.append(pos)
            x_src.append(io[p.lhs])
        elif p.free >= 0:
            f_vec.append(vid)
            f_pos.append(pos)
            f_idx.append(p.free)
        else:
            (nu if vid == NU else alpha)[pos] = p.value
    arr = lambda x: np.asarray(x, dtype=int)  # noqa: E731
    return MeanModel(nu, alpha, arr(f_vec), arr(f_pos), arr(f_idx), arr(x_pos), arr(x_src))


@dataclass(frozen=True)
class GroupModel:
    """The model of every group: what objectives, vcov and fit indices evaluate."""

    partable: ParTable
    blocks: tuple[MatrixModel, ...]
    means: tuple[MeanModel | None, ...]   # None: no mean structure

    @property
    def n_free(self) -> int:
        return self.partable.n_free

    @property
    def ov(self) -> tuple[str, ...]:
        return self.blocks[0].ov

    def implied(self, theta: np.ndarray, cov: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Σ_g, μ_g) for one θ: arrays (G, p, p) and (G, p); μ is the sample mean without mean structure."""
        sig, mu = [], []
        for g, mm in enumerate(self.blocks):
            mats = mm.matrices(theta[None], cov[g][None])
            sig.append(mm.implied(theta[None], cov[g][None], mats)[0])
            mu.append(self.mean_vector(g, theta, cov[g], mean[g], mats))
        return np.stack(sig), np.stack(mu)

    def mean_vector(self, g: int, theta: np.ndarray, S: np.ndarray, ybar: np.ndarray, mats=None) -> np.ndarray:
        mm, mean = self.blocks[g], self.means[g]
        if mean is None:
            return np.asarray(ybar, dtype=float)
        lam, beta, _, _ = (x[0] for x in (mats if mats is not None else mm.matrices(theta[None], S[None])))
        nu, alpha = (x[0] for x in mean.vectors(theta[None], ybar[None]))
        return nu + lam @ np.linalg.solve(np.eye(mm.m) - beta, alpha)

    def mean_jacobian(self, g: int, theta: np.ndarray, S: np.ndarray, ybar: np.ndarray) -> np.ndarray:
        """∂μ_g/∂θ, shape (p, q): ν → e_i, α → ΛA e_j, Λ_ij → e_i (Aα)_j, B_ij → ΛA e_i (Aα)_j."""
        mm, mean = self.blocks[g], self.means[g]
        out = np.zeros((mm.p, mm.n_free))
        if mean is None:
            return out
        lam, beta, _, _ = (x[0] for x in mm.matrices(theta[None], S[None]))
        A = structural_inverse(beta)
        LA = lam @ A
        _, alpha = (x[0] for x in mean.vectors(theta[None], ybar[None]))
        a_alpha = A @ alpha
        for vid, pos, k in zip(mean.f_vec, mean.f_pos, mean.f_idx):
            if vid == NU:
                out[pos, k] += 1.0
            else:
                out[:, k] += LA[:, pos]
        for mid, i, j, k in zip(mm.f_mat, mm.f_row, mm.f_col, mm.f_idx):
            if mid == LAMBDA:
                out[i, k] += a_alpha[j]
            elif mid == BETA:
                out[:, k] += LA[:, i] * a_alpha[j]
        return out


def build_group_model(pt: ParTable) -> GroupModel:
    """Place every row of a (multigroup and/or mean-structure) table."""
    blocks, means = [], []
    for g in range(pt.n_groups):
        mm = build_matrix_model(pt.group_view(g))
        blocks.append(mm)
        means.append(build_mean_model(pt, g, mm) if pt.meanstructure else None)
    return GroupModel(pt, tuple(blocks), tuple(means))
