"""LISREL ("all-y") representation of a parameter table and the ML discrepancy with analytic derivatives.

    Σ(θ) = Λ A Ψ A' Λ' + Θ,     A = (I − B)⁻¹

Every observed variable that is not an indicator gets a phantom latent with loading 1 and zero residual,
exactly as lavaan does, so regressions among observed variables and second-order factors need no
special cases.  All functions are *batched*: ``theta`` has shape (R, q) and ``S`` shape (R, p, p); this is
what makes the bootstrap engine fast (one numpy call fits thousands of resamples).

The ML discrepancy is F = log|Σ| + tr(S Σ⁻¹) − log|S| − p, so χ² = N·F (lavaan, ``likelihood = "normal"``).
With Ω = Σ⁻¹(Σ − S)Σ⁻¹ and M = AΨA' its gradient is
    ∂F/∂Λ = 2 Ω Λ M,   ∂F/∂B = 2 (ΛA)' Ω Λ M,   ∂F/∂Ψ = (ΛA)' Ω (ΛA),   ∂F/∂Θ = Ω
(off-diagonal symmetric entries counted twice), and its expected Hessian is tr(Σ⁻¹ Σ_k Σ⁻¹ Σ_l).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import FitError
from .partable import ParTable

LAMBDA, BETA, PSI, THETA = 0, 1, 2, 3


def structural_inverse(beta: np.ndarray) -> np.ndarray:
    """A = (I − B)⁻¹ for one B (m, m) or a batch (R, m, m): the one place the reduced form is inverted.

    Every implied moment (Σ, latent covariances, standardized values, means, gradients) goes through A;
    the single fit, the bootstrap and the power engine all call this function.
    """
    return np.linalg.inv(np.eye(beta.shape[-1]) - beta)


def latent_moments(lam: np.ndarray, beta: np.ndarray, psi: np.ndarray, th: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, M = AΨA', Σ = ΛMΛ' + Θ), batched or not: the covariances of every latent and observed variable
    that standardized values and admissibility checks are read from."""
    A = structural_inverse(beta)
    M = A @ psi @ np.swapaxes(A, -1, -2)
    return A, M, lam @ M @ np.swapaxes(lam, -1, -2) + th


@dataclass(frozen=True)
class MatrixModel:
    ov: tuple[str, ...]
    eta: tuple[str, ...]
    n_free: int
    base: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # fixed values (free entries 0)
    # free entries: matrix id, row, col, free index
    f_mat: np.ndarray
    f_row: np.ndarray
    f_col: np.ndarray
    f_idx: np.ndarray
    # fixed.x entries of Ψ, filled from the sample covariance: row/col in Ψ and in S
    x_row: np.ndarray
    x_col: np.ndarray
    x_srow: np.ndarray
    x_scol: np.ndarray

    @property
    def p(self) -> int:
        return len(self.ov)

    @property
    def m(self) -> int:
        return len(self.eta)

    # ------------------------------------------------------------------------------------------------
    def matrices(self, theta: np.ndarray, S: np.ndarray):
        """Batched (Λ, B, Ψ, Θ) for parameter vectors ``theta`` (R, q) and sample covariances S (R, p, p)."""
        R = theta.shape[0]
        mats = [np.repeat(b[None], R, axis=0) for b in self.base]
        for mid in range(4):
            sel = self.f_mat == mid
            if sel.any():
                mats[mid][:, self.f_row[sel], self.f_col[sel]] = theta[:, self.f_idx[sel]]
        for mid in (PSI, THETA):  # symmetric matrices: mirror the free entries
            sel = (self.f_mat == mid) & (self.f_row != self.f_col)
            if sel.any():
                mats[mid][:, self.f_col[sel], self.f_row[sel]] = theta[:, self.f_idx[sel]]
        if len(self.x_row):
            vals = S[:, self.x_srow, self.x_scol]
            mats[PSI][:, self.x_row, self.x_col] = vals
            mats[PSI][:, self.x_col, self.x_row] = vals
        return tuple(mats)

    def implied(self, theta: np.ndarray, S: np.ndarray, mats=None) -> np.ndarray:
        lam, beta, psi, th = mats if mats is not None else self.matrices(theta, S)
        LA = lam @ structural_inverse(beta)
        return LA @ psi @ np.swapaxes(LA, 1, 2) + th

    @cached_property
    def objective(self):
        """Batched F_ML + gradient (``objective.BatchedObjective``), built once per model."""
        from .objective import BatchedObjective
        return BatchedObjective(self)

    def gradient(self, theta: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(F, ∂F/∂θ) for each replicate; F = +inf where Σ is not positive definite."""
        return self.objective(theta, S, np.linalg.slogdet(S)[1])

    def jacobian(self, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
        """Δ = ∂Σ/∂θ for one replicate, shape (p, p, q).

        Built for all free matrix entries at once (one outer product per entry type, then summed into
        the free index: labels shared by several entries add up), because a Python loop over entries
        dominated the time of a whole fit.
        """
        lam, beta, psi, _ = (x[0] for x in self.matrices(theta[None], S[None]))
        A = structural_inverse(beta)
        LA = lam @ A
        ML = A @ psi @ A.T @ lam.T  # M Λ'
        p = self.p
        d = np.zeros((len(self.f_idx), p, p))
        i, j = self.f_row, self.f_col
        sel = self.f_mat == LAMBDA
        if sel.any():
            e = np.flatnonzero(sel)
            d[e, i[sel], :] = ML[j[sel], :]
        sel = self.f_mat == BETA
        if sel.any():
            d[sel] = LA[:, i[sel]].T[:, :, None] * ML[j[sel], :][:, None, :]
        sel = self.f_mat == PSI
        if sel.any():
            d[sel] = LA[:, i[sel]].T[:, :, None] * LA[:, j[sel]].T[:, None, :]
        sel = self.f_mat == THETA
        if sel.any():
            d[np.flatnonzero(sel), i[sel], j[sel]] = 1.0
        # symmetrise: Λ and B entries always (d + d'), Ψ and Θ off-diagonal entries (d + d')
        sym = (self.f_mat == LAMBDA) | (self.f_mat == BETA) | (i != j)
        d[sym] = d[sym] + np.swapaxes(d[sym], 1, 2)
        # zeros, not empty: a group's block of a multigroup model holds only some of the free indices
        out = np.zeros((self.n_free, p, p))
        if len(np.unique(self.f_idx)) == len(self.f_idx):  # no shared labels: a plain scatter
            out[self.f_idx] = d
        else:
            np.add.at(out, self.f_idx, d)
        return np.moveaxis(out, 0, 2)

    def expected_hessian(self, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
        """E[∂²F/∂θ∂θ'] = tr(Σ⁻¹ Δ_k Σ⁻¹ Δ_l): twice the per-case expected information."""
        sigma = self.implied(theta[None], S[None])[0]
        sinv = np.linalg.inv(sigma)
        delta = np.moveaxis(self.jacobian(theta, S), 2, 0)  # (q, p, p), each slice symmetric
        w = sinv[None] @ delta @ sinv[None]
        q = delta.shape[0]
        return w.reshape(q, -1) @ delta.reshape(q, -1).T


def build_matrix_model(pt: ParTable) -> MatrixModel:
    """Place every parameter of the table in Λ, B, Ψ or Θ."""
    var = pt.variables
    ov, eta = var.ov, var.eta
    p, m = len(ov), len(eta)
    io = {v: i for i, v in enumerate(ov)}
    ie = {v: i for i, v in enumerate(eta)}
    lam, beta, psi, th = np.zeros((p, m)), np.zeros((m, m)), np.zeros((m, m)), np.zeros((p, p))
    for v in ov:  # phantom latents for observed variables that are not indicators
        if v not in var.ov_ind:
            lam[io[v], ie[v]] = 1.0
    base = [lam, beta, psi, th]
    f_mat, f_row, f_col, f_idx = [], [], [], []
    x_row, x_col, x_srow, x_scol = [], [], [], []

    def place(param) -> tuple[int, int, int]:
        if param.op == "=~":
            if param.rhs in var.lv:
                return BETA, ie[param.rhs], ie[param.lhs]
            return LAMBDA, io[param.rhs], ie[param.lhs]
        if param.op == "~":
            if param.lhs in var.ov_ind or param.rhs in var.ov_ind:
                raise FitError(f"regression '{param.lhs} ~ {param.rhs}' involves an indicator; "
                               "cluster-sem regresses constructs and covariates only")
            return BETA, ie[param.lhs], ie[param.rhs]
        a, b = param.lhs, param.rhs
        if a in ie and b in ie:
            return PSI, max(ie[a], ie[b]), min(ie[a], ie[b])
        if a in var.ov_ind and b in var.ov_ind:
            return THETA, max(io[a], io[b]), min(io[a], io[b])
        raise FitError(f"covariance '{a} ~~ {b}' mixes an indicator with a latent or covariate")

    for param in pt.params:
        mid, i, j = place(param)
        if param.exo:
            x_row.append(i)
            x_col.append(j)
            x_srow.append(io[param.lhs])
            x_scol.append(io[param.rhs])
        elif param.free >= 0:
            f_mat.append(mid)
            f_row.append(i)
            f_col.append(j)
            f_idx.append(param.free)
        else:
            base[mid][i, j] = param.value
            if mid in (PSI, THETA):
                base[mid][j, i] = param.value
    arr = lambda x: np.asarray(x, dtype=int)  # noqa: E731
    return MatrixModel(ov, eta, pt.n_free, tuple(base), arr(f_mat), arr(f_row), arr(f_col), arr(f_idx),
                       arr(x_row), arr(x_col), arr(x_srow), arr(x_scol))
