"""Batched F_ML and its analytic gradient — the implementation behind ``MatrixModel.gradient``.

The bootstrap calls it ~20 times per resample, so it precomputes what does not change between calls and
avoids p×p×p products where it can:
* free parameters are scattered into the (flattened) matrices by one fancy-index assignment, and
  ∂F/∂matrix is gathered back to ∂F/∂θ by a small (entries × q) 0/1 matmul — equality-constrained labels
  and the two mirrored entries of a symmetric off-diagonal parameter are summed automatically, which is
  the "off-diagonal counted twice" rule;
* log|S| of every resample is passed in instead of recomputed;
* a Cholesky factor both checks Σ > 0 and gives log|Σ|;
* with K = Σ⁻¹ΛA the gradient needs only ΩΛA = K − Σ⁻¹SK (p×p×m work), since
  ΩΛM = (ΩΛA)(ΨA'),  ∂F/∂Ψ = (ΛA)'ΩΛA,  and only the free entries of Ω = Σ⁻¹ − Σ⁻¹SΣ⁻¹ are formed.
tests/test_bootstrap_exact.py checks it against tr(Ω ∂Σ/∂θ) built from ``MatrixModel.jacobian``.
"""
from __future__ import annotations

import numpy as np

from .matrices import BETA, LAMBDA, PSI, THETA, MatrixModel, structural_inverse


class BatchedObjective:
    def __init__(self, mm: MatrixModel):
        self.p, self.m, self.q = mm.p, mm.m, mm.n_free
        self.shapes = {LAMBDA: (mm.p, mm.m), BETA: (mm.m, mm.m), PSI: (mm.m, mm.m), THETA: (mm.p, mm.p)}
        self.base = [b.reshape(-1).copy() for b in mm.base]
        self.pos, self.src, self.gmap = [], [], []
        for mid in range(4):
            cols = self.shapes[mid][1]
            pos, src = [], []
            for e in np.flatnonzero(mm.f_mat == mid):
                i, j, k = int(mm.f_row[e]), int(mm.f_col[e]), int(mm.f_idx[e])
                pos.append(i * cols + j)
                src.append(k)
                if mid in (PSI, THETA) and i != j:
                    pos.append(j * cols + i)
                    src.append(k)
            gmap = np.zeros((len(pos), self.q))
            gmap[np.arange(len(pos)), src] = 1.0
            self.pos.append(np.asarray(pos, dtype=int))
            self.src.append(np.asarray(src, dtype=int))
            self.gmap.append(gmap)
        m, p = mm.m, mm.p
        self.x_psi = np.concatenate([mm.x_row * m + mm.x_col, mm.x_col * m + mm.x_row]).astype(int)
        self.x_s = np.concatenate([mm.x_srow * p + mm.x_scol, mm.x_scol * p + mm.x_srow]).astype(int)
        self.eye_m = np.eye(m)
        self.has_beta = len(self.pos[BETA]) > 0 or bool(np.any(mm.base[BETA]))
        # recursive (acyclic) models: B is nilpotent, so A = (I − B)⁻¹ = I + B + … + B^k exactly
        pattern = (mm.base[BETA] != 0)
        pattern[mm.f_row[mm.f_mat == BETA], mm.f_col[mm.f_mat == BETA]] = True
        self.nil_order = _nilpotency(pattern)
        th_pos = self.pos[THETA]
        self.th_i, self.th_j = th_pos // p, th_pos % p

    def matrices(self, theta: np.ndarray, S: np.ndarray):
        R = theta.shape[0]
        out = []
        for mid in range(4):
            flat = np.empty((R, self.base[mid].size))
            flat[:] = self.base[mid]
            if len(self.pos[mid]):
                flat[:, self.pos[mid]] = theta[:, self.src[mid]]
            out.append(flat)
        if len(self.x_psi):
            out[PSI][:, self.x_psi] = S.reshape(R, -1)[:, self.x_s]
        p, m = self.p, self.m
        return (out[LAMBDA].reshape(R, p, m), out[BETA].reshape(R, m, m), out[PSI].reshape(R, m, m),
                out[THETA].reshape(R, p, p))

    def __call__(self, theta: np.ndarray, S: np.ndarray, logdet_S: np.ndarray, S_fit: np.ndarray | None = None):
        """(F[R], ∂F/∂θ[R, q]); F = +inf (and g = nan) where Σ is not positive definite.

        ``S_fit`` (default S) is the matrix in the tr(S Σ⁻¹) term: the mean-structure objective passes
        S + (ȳ − μ)(ȳ − μ)', which adds the mean term (ȳ − μ)'Σ⁻¹(ȳ − μ) and its Σ-derivatives; S itself
        still fills the fixed.x block of Ψ and ``logdet_S`` stays log|S|.
        """
        R = theta.shape[0]
        lam, beta, psi, th = self.matrices(theta, S)
        if S_fit is not None:
            S = S_fit
        if self.has_beta:
            if self.nil_order is not None:
                A = self.eye_m + beta
                power = beta
                for _ in range(self.nil_order - 2):
                    power = power @ beta
                    A = A + power
            else:
                A = structural_inverse(beta)
            LA = lam @ A
            PA = psi @ np.swapaxes(A, 1, 2)            # Ψ A'
        else:
            LA, PA = lam, psi
        LA_t = np.swapaxes(LA, 1, 2)
        sigma = LA @ psi @ LA_t + th
        try:
            chol = np.linalg.cholesky(sigma)
            pd = None
        except np.linalg.LinAlgError:
            pd = np.array([_is_pd(s) for s in sigma])
            sigma = np.where(pd[:, None, None], sigma, np.eye(self.p))
            chol = np.linalg.cholesky(sigma)
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        sinv = np.linalg.inv(sigma)
        T = sinv @ S
        f = logdet + np.trace(T, axis1=1, axis2=2) - logdet_S - self.p
        K = sinv @ LA
        OLA = K - T @ K                              # Ω Λ A  (Σ⁻¹ S Σ⁻¹ΛA = T K)
        g = self.chain(LA_t, OLA, PA, lambda: sinv[:, self.th_i, self.th_j]
                       - np.einsum("rek,rke->re", T[:, self.th_i, :], sinv[:, :, self.th_j]))
        if pd is not None and not pd.all():
            f = np.where(pd, f, np.inf)
            g[~pd] = np.nan
        return f, g


    def chain(self, LA_t: np.ndarray, OLA: np.ndarray, PA: np.ndarray, theta_entries) -> np.ndarray:
        """∂/∂θ from Ω, a batch of derivatives with respect to Σ, by the chain rule through Σ = ΛAΨA'Λ' + Θ:
        ∂/∂Λ = 2ΩΛM, ∂/∂B = 2(ΛA)'ΩΛM (M = AΨA'), ∂/∂Ψ = (ΛA)'Ω(ΛA), ∂/∂Θ = Ω; mirrored entries summed
        by ``gmap``.  One rule for F_ML (Ω = Σ⁻¹ − Σ⁻¹SΣ⁻¹, here) and casewise FIML (Ω = ∂ℓ/∂Σ,
        ``casewise.sigma_chain``).  ``OLA`` = ΩΛA, ``PA`` = ΨA', ``theta_entries()`` = Ω at the Θ positions
        (computed only when Θ has free entries)."""
        R = OLA.shape[0]
        g = np.zeros((R, self.q))
        if len(self.pos[LAMBDA]) or len(self.pos[BETA]):
            OLM = OLA @ PA                           # Ω Λ M
            if len(self.pos[LAMBDA]):
                g += (2.0 * OLM).reshape(R, -1)[:, self.pos[LAMBDA]] @ self.gmap[LAMBDA]
            if len(self.pos[BETA]):
                g += (2.0 * (LA_t @ OLM)).reshape(R, -1)[:, self.pos[BETA]] @ self.gmap[BETA]
        if len(self.pos[PSI]):
            g += (LA_t @ OLA).reshape(R, -1)[:, self.pos[PSI]] @ self.gmap[PSI]
        if len(self.pos[THETA]):
            g += theta_entries() @ self.gmap[THETA]
        return g


def _is_pd(s: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(s)
        return True
    except np.linalg.LinAlgError:
        return False


def _nilpotency(pattern: np.ndarray) -> int | None:
    """Smallest k with pattern^k = 0 (k ≤ m), or None when the path diagram has a cycle."""
    power = np.eye(len(pattern), dtype=bool)
    for k in range(1, len(pattern) + 1):
        power = (power.astype(int) @ pattern.astype(int)) > 0
        if not power.any():
            return k
    return None
