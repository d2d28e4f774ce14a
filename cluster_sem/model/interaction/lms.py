"""LMS — latent moderated structural equations (Klein & Moosbrugger 2000), by direct maximum likelihood.

The LMS likelihood is a finite mixture of normals: ``f(x_i) = sum_q w_q N(x_i; mu_q, Sigma_q)`` over a
Gauss–Hermite grid of the standardized exogenous moderators (:mod:`.moments`).  Klein & Moosbrugger
maximise it by EM; modsem runs EM then switches to direct optimisation.  We maximise the same observed
log-likelihood directly with L-BFGS-B and its exact gradient

    d log L / d theta = sum_q [ G_q' d mu_q + H_q : d M_q + 1/2 W_q : d Sigma_q ],

(``G, H, W`` are posterior-weighted scores of node q), then polish with Newton steps on the numerical
Hessian of that gradient — the same observed information modsem uses for SEs (``FIM = "observed"``,
``OFIM.hessian = TRUE``).  Derivatives of the node moments come from central differences of the batched
moment map (cheap: no data involved); intercepts and residual (co)variances have closed forms.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from ...blas import one_blas_thread
from ...errors import FitError
from .moments import Grid, conditional_moments, moment_gradient, quadrature_grid
from .structure import InteractionModel

_STEP = 1e-6
_YY_BUDGET = 1 << 22   # numbers in one row block of y y' products (32 MiB)


def _outer_rows(y: np.ndarray) -> np.ndarray:
    """Row-wise outer products y_i y_i', flattened: (n × k²)."""
    return (y[:, :, None] * y[:, None, :]).reshape(len(y), -1)


def logsumexp(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """log(sum(exp(a))) along ``axis`` (plain numpy: scipy's version costs more than the sum here)."""
    top = a.max(axis=axis)
    return top + np.log(np.exp(a - np.expand_dims(top, axis)).sum(axis=axis))


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


class MixtureLikelihood:
    """Observed log-likelihood of the LMS mixture and its gradient, for one model, data set and grid.

    Why sufficient statistics: with ``y_i = (x_i, c_i)`` and ``r_iq = D_q y_i - mu_q`` (``D_q = [I, -M_q]``)
    every quadratic form and every posterior-weighted score is a matrix product of the n × (p+c)^2 array
    of ``y_i y_i'`` with an n × Q array, so one evaluation costs O(n Q (p+c)^2) flops in BLAS and the
    per-node work is on small p × p matrices only.
    """

    def __init__(self, model: InteractionModel, data: MixtureData, grid: Grid):
        self.model, self.data, self.grid = model, data, grid
        self.logw = np.log(grid.weights)
        self._free = model.free_rows()
        kinds = np.array([r.matrix for r in self._free])
        self.fd_index = np.flatnonzero((kinds != "tau") & (kinds != "theta"))
        tau = [r for r in self._free if r.matrix == "tau"]
        theta = [r for r in self._free if r.matrix == "theta"]
        self._tau = (np.array([r.free for r in tau], int), np.array([r.i for r in tau], int))
        self._theta = (np.array([r.free for r in theta], int), np.array([r.i for r in theta], int),
                       np.array([r.j for r in theta], int),
                       np.array([0.5 if r.i == r.j else 1.0 for r in theta]))
        self.y = np.hstack([data.x, data.c])
        k = self.y.shape[1]
        self.block = max(1, _YY_BUDGET // (k * k))
        # small samples keep the whole n × k² array of y y' (the fastest path); larger ones rebuild it one
        # row block at a time in every evaluation, so memory stays O(block · k² + Q · n) at any n
        self._yy = _outer_rows(self.y) if len(self.y) <= self.block else None
        self.p = data.x.shape[1]

    def _yy_blocks(self):
        """(rows, y_i y_i' of those rows as a (rows × k²) array) over the sample, in order."""
        if self._yy is not None:
            yield slice(None), self._yy
            return
        for start in range(0, len(self.y), self.block):
            rows = slice(start, start + self.block)
            yield rows, _outer_rows(self.y[rows])

    def _quadratic(self, K: np.ndarray) -> np.ndarray:
        """y_i' K_q y_i for every node (rows of ``K``, Q × k²) and case: Q × n."""
        if self._yy is not None:
            return K @ self._yy.T
        out = np.empty((len(K), len(self.y)))
        for rows, yy in self._yy_blocks():
            out[:, rows] = K @ yy.T
        return out

    def _node_terms(self, theta: np.ndarray):
        """Per-node log densities (Q × n) and the node moments the gradient reuses.

        ``y' K_q y`` with ``K_q = D_q' Sigma_q^-1 D_q`` is assembled by blocks (``D_q = [I, -M_q]``) and
        evaluated for all cases at once as ``yy @ vec(K_q)``: one BLAS call for every node.
        """
        mom = conditional_moments(self.model, theta[None], self.grid.nodes)
        mean, cov, slope = mom.mean[0], mom.cov[0], mom.slope[0]
        chol = np.linalg.cholesky(cov)                                   # Q × p × p
        inv = np.linalg.inv(cov)
        p, Q = self.p, len(mean)
        k = self.y.shape[1]
        a = (inv @ mean[:, :, None])[:, :, 0]                            # Sigma^-1 mu
        K = np.empty((Q, k, k))
        K[:, :p, :p] = inv
        lin = np.empty((Q, k))
        lin[:, :p] = a
        if k > p:
            IM = inv @ slope                                             # Sigma^-1 M
            K[:, :p, p:] = -IM
            K[:, p:, :p] = -np.swapaxes(IM, 1, 2)
            K[:, p:, p:] = np.swapaxes(slope, 1, 2) @ IM
            lin[:, p:] = -(a[:, None, :] @ slope)[:, 0]
        const = (a * mean).sum(axis=1)
        quad = self._quadratic(K.reshape(Q, -1)) - 2 * lin @ self.y.T + const[:, None]   # Q × n
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        logf = -0.5 * (p * math.log(2 * math.pi) + logdet[:, None] + quad)
        return logf, mean, inv, slope

    def loglik(self, theta: np.ndarray) -> float:
        try:
            logf = self._node_terms(theta)[0]
        except np.linalg.LinAlgError:
            return -np.inf
        return float(logsumexp(logf + self.logw[:, None], axis=0).sum())

    def posterior(self, theta: np.ndarray) -> np.ndarray:
        """Q × n posterior node probabilities (the E-step of EM)."""
        logf = self._node_terms(theta)[0]
        joint = logf + self.logw[:, None]
        return np.exp(joint - logsumexp(joint, axis=0))

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        logf, mean, inv, M = self._node_terms(theta)
        joint = logf + self.logw[:, None]
        norm = logsumexp(joint, axis=0)
        post = np.exp(joint - norm)                                       # Q × n
        p, Q = self.p, len(mean)
        k = self.y.shape[1]
        nq = post.sum(axis=1)
        ybar = post @ self.y                                              # Q × (p+c)
        Syy = np.zeros((Q, k * k))                                        # sum_i P y y'
        for rows, yy in self._yy_blocks():
            Syy += post[:, rows] @ yy
        Syy = Syy.reshape(Q, k, k)
        xbar, cbar = ybar[:, :p], ybar[:, p:]
        Srr = Syy[:, :p, :p].copy()                                       # sum_i P r r', r = D y - mu
        Dy = xbar.copy()                                                  # sum_i P D y
        H = None
        if k > p:
            Sxc, Scc = Syy[:, :p, p:], Syy[:, p:, p:]
            SxcM = Sxc @ np.swapaxes(M, 1, 2)
            Srr += M @ Scc @ np.swapaxes(M, 1, 2) - SxcM - np.swapaxes(SxcM, 1, 2)
            Dy -= (M @ cbar[:, :, None])[:, :, 0]
            Src = Sxc - M @ Scc - mean[:, :, None] * cbar[:, None, :]      # sum_i P r c'
            H = inv @ Src
        outer = Dy[:, :, None] * mean[:, None, :]
        Srr += nq[:, None, None] * (mean[:, :, None] * mean[:, None, :]) - outer - np.swapaxes(outer, 1, 2)
        rbar = Dy - nq[:, None] * mean                                    # sum_i P r
        G = (inv @ rbar[:, :, None])[:, :, 0]
        W = inv @ Srr @ inv - nq[:, None, None] * inv
        grad = np.zeros(theta.size)
        free, i = self._tau
        grad[free] = G.sum(axis=0)[i]
        free, i, j, half = self._theta
        grad[free] = W.sum(axis=0)[i, j] * half
        structural = moment_gradient(self.model, theta, self.grid.nodes, G, 0.5 * W, H)
        mask = self.fd_index
        grad[mask] = structural[mask]
        return float(norm.sum()), grad

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
            grid: Grid | None = None, standard_errors: bool = True, linear_fit=None):
    """Fit a latent interaction model by LMS; ``syntax`` may contain ``Y ~ X:Z`` product terms.

    ``products_fixed`` (True, or a set of ``(outcome, "X:Z")``) fits the same model with those product
    coefficients fixed at 0 — the comparison model of the likelihood-ratio test (same likelihood, same
    data, nested).  ``start`` is a full-model parameter vector (e.g. the H1 estimates);
    ``linear_fit`` (a ModelFit of the model without products) gives start values without refitting.
    ``standard_errors=False`` skips the observed information (an LRT only needs the log-likelihood).
    """
    model, full_start = model_and_start(syntax, data, interactions, products_fixed, start, linear_fit)
    mdata = mixture_data(model, data)
    grid = grid or quadrature_grid(len(model.integrated), spacing=grid_spacing(model, full_start, mdata))
    return solve("lms", model, mdata, MixtureLikelihood(model, mdata, grid), full_start, grid, standard_errors)
