"""LMS — latent moderated structural equations (Klein & Moosbrugger 2000), by direct maximum likelihood.

The LMS likelihood is a finite mixture of normals: ``f(x_i) = sum_q w_q N(x_i; mu_q, Sigma_q)`` over a
Gauss–Hermite grid of the standardized exogenous moderators (:mod:`.moments`).  Klein & Moosbrugger
maximise it by EM; modsem runs EM then switches to direct optimisation.  We maximise the same observed
log-likelihood directly with L-BFGS-B and its exact gradient

    d log L / d theta = sum_q [ G_q' d mu_q + H_q : d M_q + 1/2 W_q : d Sigma_q ],

(``G, H, W`` are posterior-weighted scores of node q), then polish with Newton steps on the numerical
Hessian of that gradient — the same observed information modsem uses for SEs (``FIM = "observed"``,
``OFIM.hessian = TRUE``).  The node moments differ only inside the span of the loadings, so both are
evaluated in an m-dimensional factored form (:class:`MixtureLikelihood`), row block by row block;
derivatives of the node moments are closed-form reverse mode (:func:`.moments.moment_gradient`, no data
involved); intercepts and residual (co)variances have closed forms.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from ...blas import one_blas_thread
from ...errors import FitError
from .moments import Grid, MomentGradient, conditional_moments, moment_gradient, quadrature_grid
from .structure import InteractionModel

_STEP = 1e-6
_BLOCK_BUDGET = 1 << 22   # numbers in one row block's rows × Q × k array (32 MiB)


@dataclass(frozen=True)
class MixtureData:
    """Indicator matrix and centred covariates in model order."""

    x: np.ndarray   # n × p
    c: np.ndarray   # n × c (centred)

    @property
    def n(self) -> int:
        return self.x.shape[0]


def mixture_data(model: InteractionModel, data: pd.DataFrame) -> MixtureData:
    cols = list(model.indicators) + list(model.covariates)
    missing = [v for v in cols if v not in data.columns]
    if missing:
        raise FitError(f"data has no column(s) {', '.join(missing)} used by the interaction model")
    frame = data[cols].astype(float)
    if frame.isna().any().any():
        raise FitError("the interaction model needs complete data; clean the data (listwise) first")
    x = frame[list(model.indicators)].to_numpy()
    c = frame[list(model.covariates)].to_numpy() if model.covariates else np.zeros((len(frame), 0))
    return MixtureData(x, c - c.mean(axis=0))


@dataclass(frozen=True)
class NodeAlgebra:
    """Per-node matrices of the factored likelihood (see :class:`MixtureLikelihood`).

    ``k = 1 + m + c`` (y~ = (1, z, c)); ``l = 1 + rho + c`` (w = (1, kappa, c)) with ``rho`` the dimension of
    the latent subspace ``R`` in which the nodes differ from the reference node r.
    """

    const: np.ndarray     # Q: p log 2 pi + log det Sigma_q
    wquad: np.ndarray     # Q × l(l+1)/2: packed, node part of r' Sigma_q^-1 r - d' U d - (case part)
    mix: np.ndarray       # Q × (2 rho l): [B_q; C_q] with beta_iq = B_q w_i, gamma_iq = C_q w_i
    H: np.ndarray         # Q × m × k: h_iq = H_q y~_i, with Sigma_q^-1 r_iq = U d_i - Psi h_iq
    T: np.ndarray         # Q × m × k: t_iq = T_q y~_i = Lambda' Sigma_q^-1 r_iq
    O: np.ndarray         # Q × m × k: what d_i meets in dL/dLambda
    F: np.ndarray         # Q × m × m: Sigma_q^-1 = U - Psi F_q Psi'
    U: np.ndarray         # p × p: Sigma_r^-1 of the reference node
    Psi: np.ndarray       # p × m: U Lambda
    G: np.ndarray         # m × m: Lambda' U Lambda
    R: np.ndarray         # m × rho: orthonormal basis of the node differences
    tau: np.ndarray       # p
    V: np.ndarray         # Q × m × m: eta_cov
    eta_r: np.ndarray     # m: eta_mean of the reference node
    Xi_r: np.ndarray      # m × c: eta_slope of the reference node


def _packed(M: np.ndarray) -> np.ndarray:
    """Upper triangles of symmetric (… × l × l) matrices, off-diagonal entries doubled: x' M x = packed · (x x')."""
    iu = np.triu_indices(M.shape[-1])
    return M[..., iu[0], iu[1]] * np.where(iu[0] == iu[1], 1.0, 2.0)


def _outer_packed(y: np.ndarray) -> np.ndarray:
    """Row-wise upper triangles of y_i y_i' (rows × l(l+1)/2), one column slice per row of the triangle."""
    rows, l = y.shape
    out = np.empty((rows, l * (l + 1) // 2))
    at = 0
    for i in range(l):
        out[:, at:at + l - i] = y[:, i:i + 1] * y[:, i:]
        at += l - i
    return out


def _difference_basis(parts: list[np.ndarray], m: int) -> np.ndarray:
    """Orthonormal m × rho basis of the columns of ``parts`` (each m × ·), rank cut at 1e-12 of the largest.

    Why exact: with one product term the nodes' latent means, slopes and conditional covariances differ
    from the reference node's only along A_r e_y, A_r C A_r' e_a and the moderator's direction (Woodbury on
    A_q = (I - B - sum omega v E)^-1), so the singular values beyond that rank are rounding (~1e-16).
    """
    M = np.concatenate(parts, axis=1)
    if not M.size:
        return np.zeros((m, 0))
    U, sv, _ = np.linalg.svd(M, full_matrices=False)
    if sv[0] == 0:
        return np.zeros((m, 0))
    return U[:, :int(np.sum(sv > 1e-12 * sv[0]))]


class MixtureLikelihood:
    """Observed log-likelihood of the LMS mixture and its gradient, for one model, data set and grid.

    Why a factored form: node q's indicator moments differ only inside the span of Lambda,
    ``mean_q + M_q c = tau + Lambda g_q(c)`` and ``Sigma_q = Sigma_r + Lambda (V_q - V_r) Lambda'`` (r: the
    node of largest weight), so with ``U = Sigma_r^-1``, ``Psi = U Lambda`` and Woodbury
    ``Sigma_q^-1 = U - Psi F_q Psi'`` every case enters the node densities and posterior-weighted scores only
    through ``d_i' U d_i`` (the same for every node: it cancels from the posterior and sums to
    ``tr(U sum d d')``) and the m-vector ``z_i = Psi' d_i`` (``d_i = x_i - tau``) with its covariates.  The
    nodes differ from node r only in a small latent subspace R (rank 3 for one product term, ``_reduced``),
    so the node densities and the posterior means the loading/residual scores need cost O(Q (1+rho+c)^2)
    per case; only the posterior moments S_q of y~ = (1, z, c) cost O(Q (1+m+c)^2).  The numbers are those
    of the dense p-variate mixture (algebraically identical; tests/test_lms_factored.py), at ~1/8 of the
    CPU time for the shipped spec (42 items, 14 constructs; benchmarks/lms_scale.py).  Rows are processed in blocks of
    ``block`` rows (memory O(block · Q · k), linear in n overall) that ``workers`` threads share (BLAS and
    numpy's ufuncs release the GIL); blocks are summed in row order, so the numbers do not depend on it.
    """

    def __init__(self, model: InteractionModel, data: MixtureData, grid: Grid, workers: int = 1):
        self.model, self.data, self.grid = model, data, grid
        self.logw = np.log(grid.weights)
        self._ref = int(np.argmax(grid.weights))
        self._free = model.free_rows()
        kinds = np.array([r.matrix for r in self._free])
        self.fd_index = np.flatnonzero((kinds != "tau") & (kinds != "theta"))
        tau = [r for r in self._free if r.matrix == "tau"]
        theta = [r for r in self._free if r.matrix == "theta"]
        self._tau = (np.array([r.free for r in tau], int), np.array([r.i for r in tau], int))
        self._theta = (np.array([r.free for r in theta], int), np.array([r.i for r in theta], int),
                       np.array([r.j for r in theta], int),
                       np.array([0.5 if r.i == r.j else 1.0 for r in theta]))
        p, m, c, _ = model.dims
        self.p, self.m = p, m
        self.k = 1 + m + c
        self._iu = np.triu_indices(self.k)
        x = data.x
        self.xsum = x.sum(axis=0)
        self.xx = x.T @ x                                   # sum x x' (d' U d sums through it)
        self.block = max(256, _BLOCK_BUDGET // (len(grid.weights) * self.k))
        self.workers = max(1, int(workers))

    def _algebra(self, theta: np.ndarray) -> NodeAlgebra:
        """The node matrices at ``theta`` (raises LinAlgError when a node covariance is not positive definite)."""
        mom = conditional_moments(self.model, theta[None], self.grid.nodes)
        mats = {k: v[0] for k, v in self.model.fill(theta[None]).items()}
        cov, V, eta, Xi = mom.cov[0], mom.eta_cov[0], mom.eta_mean[0], mom.eta_slope[0]
        chol = np.linalg.cholesky(cov)                                    # every node must be PD
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        lam, m, k, Q, r = mats["lam"], self.m, self.k, len(V), self._ref
        U = np.linalg.inv(cov[r])
        U = 0.5 * (U + U.T)
        Psi = U @ lam
        G = lam.T @ Psi
        G = 0.5 * (G + G.T)
        D = V - V[r]
        F = np.linalg.solve(np.eye(m) + D @ G, D)                         # (I + D G)^-1 D = D (I + G D)^-1
        F = 0.5 * (F + np.swapaxes(F, 1, 2))
        Gg = np.zeros((Q, m, k))                                         # g_q(c) = Gg_q y~
        Gg[:, :, 0] = eta
        Gg[:, :, 1 + m:] = Xi
        Z = np.zeros((m, k))
        Z[:, 1:1 + m] = np.eye(m)
        H = Gg + F @ (Z - G @ Gg)
        T = Z - G @ H
        O = V @ T
        O[:, :, 0] += eta
        O[:, :, 1 + m:] += Xi
        wquad, mix, R = self._reduced(G, D, eta - eta[r], Xi - Xi[r])
        const = self.p * math.log(2 * math.pi) + logdet
        return NodeAlgebra(const, wquad, mix, H, T, O, F, U, Psi, G, R, mats["tau"], V, eta[r], Xi[r])

    def _reduced(self, G: np.ndarray, D: np.ndarray, de: np.ndarray, dX: np.ndarray):
        """Node matrices on w = (1, kappa, c), kappa = R' zeta (see ``_block``): packed quadratic, [B_q; C_q], R.

        With delta_q = a_q + X_q c (R delta_q = g_q - g_r), S_q = R' (V_q - V_r) R, G_R = R' G R and
        Phi_q = (I + S_q G_R)^-1 S_q (F_q = R Phi_q R'):  r' Sigma_q^-1 r - d'Ud = (case part)
        - 2 delta' kappa + delta' G_R delta - e' Phi_q e with e = kappa - G_R delta;  h_iq = g_r + R beta_iq,
        beta = delta + Phi_q e;  R' t_iq = kappa - G_R beta,  and O_q y~ = V_r t + R gamma + eta_r + Xi_r c with
        gamma = S_q (kappa - G_R beta) + delta.
        """
        Q, m = de.shape
        c = dX.shape[2]
        R = _difference_basis([de.T, np.swapaxes(D, 0, 1).reshape(m, -1), np.swapaxes(dX, 0, 1).reshape(m, -1)], m)
        rho = R.shape[1]
        l = 1 + rho + c
        GR = R.T @ G @ R
        Sq = R.T @ D @ R
        Phi = np.linalg.solve(np.eye(rho) + Sq @ GR, Sq)
        Phi = 0.5 * (Phi + np.swapaxes(Phi, 1, 2))
        Dq = np.zeros((Q, rho, l))                                      # delta_iq = Dq w_i
        Dq[:, :, 0] = de @ R
        Dq[:, :, 1 + rho:] = R.T @ dX
        Kz = np.zeros((rho, l))                                         # kappa = Kz w
        Kz[:, 1:1 + rho] = np.eye(rho)
        E = Kz - GR @ Dq
        DK = np.swapaxes(Dq, 1, 2) @ Kz
        quad = np.swapaxes(Dq, 1, 2) @ GR @ Dq - DK - np.swapaxes(DK, 1, 2) - np.swapaxes(E, 1, 2) @ Phi @ E
        B = Dq + Phi @ E
        C = Sq @ (Kz - GR @ B) + Dq
        return _packed(quad), np.concatenate([B, C], axis=1).reshape(Q, -1), R

    def _rows(self):
        n = self.data.n
        return [slice(s, min(n, s + self.block)) for s in range(0, n, self.block)]

    def _block(self, rows: slice, alg: NodeAlgebra):
        """One row block's per-case data, posterior node probabilities and log-likelihood terms.

        z = Psi' d, g_r = eta_r + Xi_r c (node r's latent mean), zeta = z - G g_r, kappa = R' zeta,
        w = (1, kappa, c); the node log densities log w_q + log f_iq are computed without the terms every
        node shares: ``norm`` is their logsumexp per case, ``shared`` the block sum of those terms except
        d'Ud (summed over the sample from X'X).
        """
        x, c = self.data.x[rows], self.data.c[rows]
        z = x @ alg.Psi - alg.tau @ alg.Psi
        g_r = alg.eta_r + c @ alg.Xi_r.T
        Gg = g_r @ alg.G
        zeta = z - Gg
        rho = alg.R.shape[1]
        w = np.empty((len(x), 1 + rho + c.shape[1]))
        w[:, 0] = 1.0
        w[:, 1:1 + rho] = zeta @ alg.R
        w[:, 1 + rho:] = c
        joint = (self.logw - 0.5 * alg.const) - 0.5 * (_outer_packed(w) @ alg.wquad.T)    # rows × Q
        shared = -0.5 * float(np.sum(Gg * g_r) - 2 * np.sum(g_r * z))
        top = joint.max(axis=1)
        ratio = np.exp(joint - top[:, None])                               # rows × Q, <= 1
        total = ratio.sum(axis=1)
        return z, c, g_r, zeta, w, ratio / total[:, None], top + np.log(total), shared

    def _block_value(self, rows: slice, alg: NodeAlgebra) -> float:
        out = self._block(rows, alg)
        return float(out[6].sum()) + out[7]

    def _block_stats(self, rows: slice, alg: NodeAlgebra):
        """One block's log-likelihood part and posterior sums: (value, sum_i P y~y~' packed, sum_i d_i [o_i, h_i]')."""
        z, c, g_r, zeta, w, post, norm, shared = self._block(rows, alg)
        y = np.empty((len(z), self.k))
        y[:, 0] = 1.0
        y[:, 1:1 + self.m] = z
        y[:, 1 + self.m:] = c
        syy = post.T @ _outer_packed(y)                                     # Q × packed
        rho = alg.R.shape[1]
        bg = np.einsum("rjk,rk->rj", (post @ alg.mix).reshape(len(z), 2 * rho, -1), w)   # posterior means
        beta, gamma = bg[:, :rho] @ alg.R.T, bg[:, rho:] @ alg.R.T
        h = g_r + beta                                                      # sum_q P_iq h_iq
        o = (zeta - beta @ alg.G) @ alg.V[self._ref] + gamma + g_r          # sum_q P_iq O_q y~_i
        d = self.data.x[rows] - alg.tau
        return float(norm.sum()) + shared, syy, d.T @ np.hstack([o, h])

    def _map(self, fn, *args) -> list:
        rows = self._rows()
        if self.workers > 1 and len(rows) > 1:
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(self.workers) as pool:
                return list(pool.map(lambda r: fn(r, *args), rows))
        return [fn(r, *args) for r in rows]

    def _dd(self, tau: np.ndarray) -> np.ndarray:
        """sum_i d_i d_i' with d_i = x_i - tau."""
        out = np.outer(self.xsum, tau)
        return self.xx - out - out.T + self.data.n * np.outer(tau, tau)

    def loglik(self, theta: np.ndarray) -> float:
        try:
            alg = self._algebra(theta)
        except np.linalg.LinAlgError:
            return -np.inf
        parts = self._map(self._block_value, alg)
        return float(sum(parts) - 0.5 * np.sum(alg.U * self._dd(alg.tau)))

    def posterior(self, theta: np.ndarray) -> np.ndarray:
        """Q × n posterior node probabilities (the E-step of EM)."""
        alg = self._algebra(theta)
        out = np.empty((len(self.logw), self.data.n))
        for rows in self._rows():
            out[:, rows] = self._block(rows, alg)[5].T
        return out

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log-likelihood and its exact gradient.

        With posterior weights P_iq, ``u_iq = Sigma_q^-1 r_iq = U d_i - Psi h_iq`` and ``t_iq = Lambda' u_iq``
        the node scores of the dense form are ``G_q = sum_i P u``, ``Lambda' W_q Lambda`` and ``sum_i P u c'``;
        here each is assembled from S_q = sum_i P_iq y~ y~' (Q × k × k) and the two p × m sums
        ``sum_i d_i o_i'`` and ``sum_i d_i h_i'``, whose per-case vectors ``o_i, h_i`` are posterior means
        of ``O_q y~_i`` and ``H_q y~_i`` (formed on the subspace R, ``_block_stats``).
        """
        alg = self._algebra(theta)
        Q, m, k = len(self.logw), self.m, self.k
        parts = self._map(self._block_stats, alg)
        dd = self._dd(alg.tau)
        value = sum(p[0] for p in parts) - 0.5 * np.sum(alg.U * dd)
        packed = sum(p[1] for p in parts)
        S = np.empty((Q, k, k))
        S[:, self._iu[0], self._iu[1]] = packed
        S[:, self._iu[1], self._iu[0]] = packed
        DOH = sum(p[2] for p in parts)
        DO, DH = DOH[:, :m], DOH[:, m:]
        return float(value), self._gradient(theta, alg, S, DO, DH, dd)

    def _gradient(self, theta, alg: NodeAlgebra, S, DO, DH, dd) -> np.ndarray:
        """Gradient from the posterior sums (notation of ``value_and_gradient``)."""
        m, k, n = self.m, self.k, self.data.n
        U, Psi, G, F, H, T, O = alg.U, alg.Psi, alg.G, alg.F, alg.H, alg.T, alg.O
        nq = S[:, 0, 0]
        Py = S[:, :, 0]                                                     # sum_i P_iq y~_i
        HS = H @ S
        IFG = np.eye(m) - F @ G                                             # Sigma_q^-1 Lambda = Psi (I - F G)
        grad = np.zeros(theta.size)
        free, i = self._tau                                                 # sum_q G_q
        g_tau = U @ (self.xsum - n * alg.tau) - Psi @ np.einsum("qmk,qk->m", H, Py)
        grad[free] = g_tau[i]
        # sum_q W_q, W_q = sum_i P u u' - n_q Sigma_q^-1
        UDH = U @ DH @ Psi.T
        inner = (HS @ np.swapaxes(H, 1, 2)).sum(axis=0) + np.einsum("q,qmk->mk", nq, F)
        W = U @ dd @ U - UDH - UDH.T + Psi @ inner @ Psi.T - n * U
        free, i, j, half = self._theta
        grad[free] = W[i, j] * half
        Tt = np.swapaxes(T, 1, 2)
        lam = U @ DO - Psi @ ((HS @ np.swapaxes(O, 1, 2)).sum(axis=0) + (nq[:, None, None] * IFG @ alg.V).sum(axis=0))
        g = MomentGradient(
            lam=lam,
            eta_mean=(T @ Py[:, :, None])[:, :, 0],
            eta_cov=0.5 * (T @ S @ Tt - nq[:, None, None] * (G @ IFG)),
            eta_slope=(T @ S[:, :, 1 + m:]) if k > 1 + m else None)
        structural = moment_gradient(self.model, theta, self.grid.nodes, g)
        mask = self.fd_index
        grad[mask] = structural[mask]
        return grad

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Numerical Hessian of the log-likelihood: forward differences of the exact gradient, symmetrised.

        Forward differences (one gradient per parameter) are accurate to ~1e-5 relative here, ample for
        standard errors, at half the cost of central ones.
        """
        k = theta.size
        Hm = np.zeros((k, k))
        g0 = self.value_and_gradient(theta)[1]
        for t in range(k):
            h = 1e-6 * (1 + abs(theta[t]))
            e = np.zeros(k)
            e[t] = h
            Hm[:, t] = (self.value_and_gradient(theta + e)[1] - g0) / h
        return 0.5 * (Hm + Hm.T)


@dataclass(frozen=True)
class MixtureSolution:
    theta: np.ndarray
    loglik: float
    hessian: np.ndarray
    converged: bool
    iterations: int
    message: str


def variance_bounds(model: InteractionModel) -> list[tuple[float | None, float | None]]:
    """Residual and latent variances stay positive (as modsem's bounds do); everything else is free."""
    return [(1e-8, None) if r.matrix in ("theta", "psi") and r.i == r.j else (None, None)
            for r in model.free_rows()]


def maximise(objective, start: np.ndarray, bounds, hessian_fn, *, newton_steps: int = 5,
             tol: float = 1e-9) -> MixtureSolution:
    """L-BFGS-B on the scaled negative log-likelihood, then Newton polishing with one numerical Hessian.

    ``objective(theta) -> (loglik, gradient)``.  The Hessian (needed anyway for the observed-information
    SEs) is computed once at the L-BFGS-B solution and reused by the polishing steps, which are accepted
    only while they raise the log-likelihood.
    """
    scale = max(1.0, abs(objective(start)[0]))

    def f(th):
        try:
            v, g = objective(th)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(th)
        if not np.isfinite(v):
            return 1e10, np.zeros_like(th)
        return -v / scale, -g / scale

    res = optimize.minimize(f, start, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 5000, "maxcor": 30, "ftol": 1e-15, "gtol": 1e-9})
    theta = res.x
    ll, g = objective(theta)
    if hessian_fn is None:
        return MixtureSolution(theta, float(ll), np.zeros((0, 0)), bool(res.success or np.max(np.abs(g)) < 1e-2),
                               int(res.nit), str(res.message))
    H = hessian_fn(theta)
    for _ in range(newton_steps):
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        trial = theta - step
        try:
            ll_t, g_t = objective(trial)
        except np.linalg.LinAlgError:
            break
        if not np.isfinite(ll_t) or ll_t < ll - 1e-9:
            break
        theta, ll, g = trial, ll_t, g_t
        if np.max(np.abs(step)) < tol:
            break
    converged = bool(res.success or np.max(np.abs(g)) < 1e-2)
    return MixtureSolution(theta, float(ll), H, converged, int(res.nit), str(res.message))


def grid_spacing(model: InteractionModel, theta: np.ndarray, data: MixtureData) -> float:
    """Node spacing (standard-normal units) from how sharply the items pin down the moderators.

    The integrand of case i is peaked around its factor score with the posterior SD of the standardized
    moderator, ``sqrt(1 - reliability)``; a trapezoidal spacing equal to that SD integrates a normal
    peak to ~1e-9 relative error (error ~ exp(-2 pi^2 sd^2 / h^2)).  Clamped to [0.1, 0.5].
    """
    mats = {k: v[0] for k, v in model.fill(theta[None]).items()}
    A = np.linalg.inv(np.eye(len(model.latents)) - mats["beta"])
    eta = A @ mats["psi"] @ A.T
    sigma = mats["lam"] @ eta @ mats["lam"].T + mats["theta"]
    S = list(model.integrated)
    cross = mats["lam"] @ eta[:, S]
    post = eta[np.ix_(S, S)] - cross.T @ np.linalg.solve(sigma, cross)
    sd = np.sqrt(np.clip(np.diag(post) / np.diag(eta[np.ix_(S, S)]), 0, 1))
    return float(np.clip(sd.min(), 0.1, 0.5))


def linear_start(model: InteractionModel, data: pd.DataFrame, fit=None) -> np.ndarray:
    """Start values from the ordinary ML fit of the model without product terms; products start at 0."""
    if fit is None:
        from ..fitted import fit_model
        fit = fit_model(model.linear_syntax, data, use_semopy=False)
    P = fit.parameters
    lookup = {(r.lhs, r.op, r.rhs): r.est for r in P.itertuples()}
    means = data[list(model.indicators)].astype(float).mean()
    start = np.zeros(model.n_free)
    for r in model.free_rows():
        if r.matrix == "tau":
            start[r.free] = means[r.lhs]
        elif r.matrix == "omega":
            start[r.free] = 0.0
        else:
            value = lookup.get((r.lhs, r.op, r.rhs), lookup.get((r.rhs, r.op, r.lhs)))
            start[r.free] = value if value is not None else (0.5 if r.lhs == r.rhs else 0.0)
    return start


def observed_vcov(hessian: np.ndarray, n_free: int) -> tuple[np.ndarray, list[str]]:
    """Inverse observed information (NaN without a Hessian) and the problems found inverting it."""
    if hessian.size == 0:
        return np.full((n_free, n_free), np.nan), []
    try:
        vcov = np.linalg.inv(-hessian)
    except np.linalg.LinAlgError:
        return np.full_like(hessian, np.nan), ["the observed information matrix is singular; no SEs"]
    if np.any(np.diag(vcov) <= 0):
        return vcov, ["the observed information matrix is not positive definite; SEs are unreliable"]
    return vcov, []


def model_and_start(syntax: str, data: pd.DataFrame, interactions=(),
                    products_fixed: bool | set[tuple[str, str]] = False, start: np.ndarray | None = None,
                    linear_fit=None):
    """The interaction model (products fixed at 0 where asked) and its start vector — shared by LMS and QML."""
    from .structure import build_interaction_model, with_products_fixed
    model = build_interaction_model(syntax, tuple(interactions))
    full_start = linear_start(model, data, linear_fit) if start is None else start
    if products_fixed:
        which = None if products_fixed is True else set(products_fixed)
        keep = [r.free for r in model.free_rows()
                if not (r.matrix == "omega" and (which is None or (r.lhs, r.rhs) in which))]
        model = with_products_fixed(model, which)
        full_start = full_start[keep]
    return model, full_start


def solve(method: str, model: InteractionModel, mdata: MixtureData, likelihood, start: np.ndarray, grid: Grid,
          standard_errors: bool):
    """Maximise ``likelihood`` (``value_and_gradient``/``hessian``) and assemble the frozen fit.

    One BLAS thread inside: the work is many small products, where threads only hand off (4-20x slower
    on a busy machine).  ``grid`` serves the standardized solution (latent covariance with products).
    """
    from .result import assemble_interaction_fit
    with one_blas_thread():
        sol = maximise(likelihood.value_and_gradient, start, variance_bounds(model),
                       likelihood.hessian if standard_errors else None)
    vcov, problems = observed_vcov(sol.hessian, model.n_free)
    if not sol.converged:
        problems.append(f"{method.upper()} did not converge ({sol.message})")
    cov_c = np.cov(mdata.c.T, bias=True).reshape(mdata.c.shape[1], mdata.c.shape[1])
    return assemble_interaction_fit(method, model, sol.theta, vcov, sol.loglik, mdata.n, grid, cov_c,
                                    converged=sol.converged, iterations=sol.iterations, problems=tuple(problems))


def fit_lms(syntax: str, data: pd.DataFrame, *, interactions=(),
            products_fixed: bool | set[tuple[str, str]] = False, start: np.ndarray | None = None,
            grid: Grid | None = None, standard_errors: bool = True, linear_fit=None, workers: int = 1):
    """Fit a latent interaction model by LMS; ``syntax`` may contain ``Y ~ X:Z`` product terms.

    ``products_fixed`` (True, or a set of ``(outcome, "X:Z")``) fits the same model with those product
    coefficients fixed at 0 — the comparison model of the likelihood-ratio test (same likelihood, same
    data, nested).  ``start`` is a full-model parameter vector (e.g. the H1 estimates);
    ``linear_fit`` (a ModelFit of the model without products) gives start values without refitting.
    ``standard_errors=False`` skips the observed information (an LRT only needs the log-likelihood).
    ``workers`` threads share each evaluation's row blocks (same numbers for any count).
    """
    model, full_start = model_and_start(syntax, data, interactions, products_fixed, start, linear_fit)
    mdata = mixture_data(model, data)
    grid = grid or quadrature_grid(len(model.integrated), spacing=grid_spacing(model, full_start, mdata))
    return solve("lms", model, mdata, MixtureLikelihood(model, mdata, grid, workers), full_start, grid,
                 standard_errors)
