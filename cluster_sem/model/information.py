"""Batched expected information: tr(Σ⁻¹ Δ_k Σ⁻¹ Δ_l) for thousands of parameter vectors at once.

Why a second route beside ``MatrixModel.expected_hessian``: the power engine needs the standard errors of
every replication (a Wald test per path per data set), i.e. one q × q information matrix per replication.
Forming the p × p × q Jacobian per replication costs O(q p³); instead every free matrix entry e changes Σ
by a symmetric rank-2 matrix  ∂Σ/∂θ_e = w_e (u_e v_e' + v_e u_e'):

    Λ_ij : u = e_i,       v = (ΛM)_·j          B_ij : u = (ΛA)_·i,  v = (ΛM)_·j
    Ψ_ij : u = (ΛA)_·i,   v = (ΛA)_·j          Θ_ij : u = e_i,      v = e_j        (w = ½ on diagonals)

so  tr(Σ⁻¹Δ_eΣ⁻¹Δ_f) = 2 w_e w_f [(u_e'Σ⁻¹v_f)(v_e'Σ⁻¹u_f) + (u_e'Σ⁻¹u_f)(v_e'Σ⁻¹v_f)]  needs only the three
Gram matrices U'Σ⁻¹U, U'Σ⁻¹V, V'Σ⁻¹V — O(p² E + p E²) per replication, all replications in one numpy
call.  Entries sharing a free parameter (equality labels) are summed by the entry → parameter map.
tests/test_power.py checks it against ``MatrixModel.expected_hessian``.
"""
from __future__ import annotations

import numpy as np

from .matrices import BETA, LAMBDA, PSI, THETA, MatrixModel, structural_inverse


class BatchedInformation:
    """``H(theta, S)`` → (R, q, q): the expected Hessian of F_ML (twice the per-case information)."""

    def __init__(self, mm: MatrixModel):
        self.mm = mm
        E = len(mm.f_mat)
        self.gmap = np.zeros((E, mm.n_free))
        self.gmap[np.arange(E), mm.f_idx] = 1.0
        self.w = np.where(np.isin(mm.f_mat, (PSI, THETA)) & (mm.f_row == mm.f_col), 0.5, 1.0)
        self.ww = np.outer(self.w, self.w)
        # one entry per free parameter (no equality labels): the entry → parameter map is a permutation
        self.perm = np.argsort(mm.f_idx) if E == mm.n_free and len(set(mm.f_idx.tolist())) == E else None

    def _uv(self, theta: np.ndarray, S: np.ndarray):
        mm = self.mm
        lam, beta, psi, _ = mm.objective.matrices(theta, S)
        A = structural_inverse(beta)
        LA = lam @ A
        LM = LA @ psi @ np.swapaxes(A, 1, 2)          # Λ M with M = AΨA'
        R, p = theta.shape[0], mm.p
        E = len(mm.f_mat)
        U = np.zeros((R, p, E))
        V = np.zeros((R, p, E))
        eye = np.eye(p)
        for mid in (LAMBDA, BETA, PSI, THETA):
            sel = np.flatnonzero(mm.f_mat == mid)
            if not len(sel):
                continue
            i, j = mm.f_row[sel], mm.f_col[sel]
            if mid == LAMBDA:
                U[:, :, sel] = eye[:, i][None]
                V[:, :, sel] = LM[:, :, j]
            elif mid == BETA:
                U[:, :, sel] = LA[:, :, i]
                V[:, :, sel] = LM[:, :, j]
            elif mid == PSI:
                U[:, :, sel] = LA[:, :, i]
                V[:, :, sel] = LA[:, :, j]
            else:
                U[:, :, sel] = eye[:, i][None]
                V[:, :, sel] = eye[:, j][None]
        return U, V

    def __call__(self, theta: np.ndarray, S: np.ndarray, sigma_inv: np.ndarray | None = None) -> np.ndarray:
        theta = np.atleast_2d(theta)
        if S.ndim == 2:
            S = np.repeat(S[None], theta.shape[0], axis=0)
        if sigma_inv is None:
            sigma_inv = np.linalg.inv(self.mm.implied(theta, S))
        U, V = self._uv(theta, S)
        KU, KV = sigma_inv @ U, sigma_inv @ V
        Ut = np.swapaxes(U, 1, 2)
        Guu, Guv, Gvv = Ut @ KU, Ut @ KV, np.swapaxes(V, 1, 2) @ KV
        H_e = Guv * np.swapaxes(Guv, 1, 2)
        H_e += Guu * Gvv
        H_e *= 2.0 * self.ww
        if self.perm is not None:
            return H_e[:, self.perm][:, :, self.perm]
        return self.gmap.T[None] @ H_e @ self.gmap[None]


def batched_standard_errors(info: BatchedInformation, theta: np.ndarray, S: np.ndarray, n: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(vcov (R, q, q), se (R, q)) in lavaan's convention vcov = (N · I₁)⁻¹ = 2 H⁻¹ / N; NaN where singular."""
    H = info(theta, S)
    vcov = np.full_like(H, np.nan)
    ok = np.all(np.isfinite(H), axis=(1, 2))
    if ok.any():
        with np.errstate(all="ignore"):
            try:
                inv = np.linalg.inv(H[ok])
                vcov[ok] = 2.0 * inv / np.asarray(n, dtype=float)[ok, None, None]
            except np.linalg.LinAlgError:
                for r in np.flatnonzero(ok):
                    try:
                        vcov[r] = 2.0 * np.linalg.inv(H[r]) / float(np.asarray(n)[r])
                    except np.linalg.LinAlgError:
                        pass
    diag = np.diagonal(vcov, axis1=1, axis2=2)
    with np.errstate(invalid="ignore"):
        se = np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)
    return vcov, se
