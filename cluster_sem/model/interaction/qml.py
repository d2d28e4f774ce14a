"""QML — quasi-maximum likelihood for latent interactions (Klein & Muthén 2007), as modsem 1.0.22 computes it.

Split of the model (modsem's ``xi``/``eta``): the *x side* is every exogenous construct plus the dimensions of
an exogenous second-order construct; their items ``x`` are exactly normal.  The *y side* holds the other
constructs, the ones the products act on.  The density is factorised as

    f(x, y) = N(x; tau_x, Lambda_x Phi Lambda_x' + Theta_x) * f(y | x),

and QML's one approximation is that ``eta | x`` is normal with the moments of the nonlinear model: given x,
``xi | x ~ N(m_i, Sigma_1)`` (``m_i = L_1 (x_i - tau_x)``), and

    E(eta | x)   = B_i^-1 (Gamma m_i + sum_j omega_j (m_a m_s + Sigma_1[a, s]) e_y + Gamma_c c_i)
    Var(eta | x) = J_i Sigma_1 J_i' + B_i^-1 (Psi + Var(z)) B_i^-T

with ``J_i`` the Jacobian of the structural mean in xi at ``m_i``, ``Var(z)`` the variance of the quadratic
forms ``d' Omega_y d`` (``d ~ N(0, Sigma_1)``) and ``B_i = I - B - sum_j omega_j m_{i,s} E_{y,a}`` for
eta × xi products (modsem's ``calcBinvCpp``, ``muQmlCpp``, ``sigmaQmlCpp``, ``varZCpp``; its quirk that the
xi × xi part of the Jacobian is not premultiplied by ``B_i^-1`` is kept so the numbers agree).  modsem writes
``f(y | x)`` as ``f(u) f(y_1 | x, u)`` with the scaling items ``y_1`` and the eta-free contrasts
``u = y_rest - lambda y_1``; that is a unit-Jacobian change of variables of the same normal density, so
here ``y | x ~ N(tau_y + Lambda_y E(eta|x), Lambda_y Var(eta|x) Lambda_y' + Theta_y)`` is used directly
(which also covers second-order constructs on the y side).

The log-likelihood is evaluated for a batch of parameter vectors at once, so central-difference gradients
and the observed-information Hessian (second differences, as modsem's ``OFIM.hessian``) cost a few
vectorised calls rather than one call per coordinate.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import FitError
from .lms import MixtureData, mixture_data, model_and_start, solve
from .moments import quadrature_grid
from .structure import InteractionModel

_LOG2PI = math.log(2 * math.pi)
_CASE_BUDGET = 200_000   # parameter vectors × cases in one batch of per-case arrays


@dataclass(frozen=True)
class Sides:
    """Latent and item indices of the x side (normal) and the y side (products act here)."""

    xi: tuple[int, ...]
    eta: tuple[int, ...]
    x_items: tuple[int, ...]
    y_items: tuple[int, ...]
    xixi: tuple[tuple[int, int, int, int], ...]    # (j, y pos in eta, a pos in xi, s pos in xi)
    etaxi: tuple[tuple[int, int, int, int], ...]   # (j, y pos in eta, a pos in eta, s pos in xi)


def _x_side_constructs(model: InteractionModel) -> set[int]:
    """Latent indices on the x side: exogenous constructs, linear product partners with everything upstream,
    and the dimensions of x-side second-order constructs."""
    lat = list(model.latents)
    parents: dict[int, list] = {k: [] for k in range(len(lat))}
    for r in model.rows:
        if r.matrix == "beta":
            parents[r.i].append(r)
    nonlinear = {y for y, _, _ in model.partner}
    grew = True
    while grew:
        grew = False
        for k in range(len(lat)):
            if k not in nonlinear and any(r.j in nonlinear for r in parents[k]):
                nonlinear.add(k)
                grew = True
    x_side = {lat.index(v) for v in model.exogenous}
    todo = [v for _, a, s in model.partner for v in (a, s) if v not in nonlinear]
    while todo:
        k = todo.pop()
        if k not in x_side:
            x_side.add(k)
            todo.extend(r.j for r in parents[k])
    grew = True
    while grew:
        grew = False
        for k in range(len(lat)):
            rows = parents[k]
            if k not in x_side and k not in nonlinear and rows and \
                    all(r.op == "=~" and r.j in x_side for r in rows):
                x_side.add(k)
                grew = True
    return x_side


def _side_items(model: InteractionModel, x_side: set[int]) -> tuple[list[int], list[int]]:
    """Items of each side; rejects items, residual covariances or construct covariances linking the sides."""
    x_items, y_items = [], []
    for r in model.rows:
        if r.matrix == "lam" and (r.free >= 0 or r.value != 0):
            (x_items if r.j in x_side else y_items).append(r.i)
    both = set(x_items) & set(y_items)
    if both:
        raise FitError(f"QML: item {model.indicators[min(both)]} loads on both sides of the product model. "
                       "Fix: use --interaction-method lms")
    for r in model.rows:
        if r.matrix == "theta" and r.i != r.j and ((r.i in x_items) != (r.j in x_items)):
            raise FitError(f"QML: residual covariance {r.lhs} ~~ {r.rhs} links the two sides of the model. "
                           "Fix: use --interaction-method lms")
        if r.matrix == "psi" and r.i != r.j and ((r.i in x_side) != (r.j in x_side)):
            raise FitError(f"QML: covariance {r.lhs} ~~ {r.rhs} links an exogenous and an endogenous construct. "
                           "Fix: use --interaction-method lms")
    return x_items, y_items


def split_sides(model: InteractionModel) -> Sides:
    """modsem's xi/eta split with its QML default ``auto.split.syntax = TRUE``.

    x side: the exogenous constructs, every *linear* endogenous construct that is a product partner (no
    product term upstream of it; modsem moves its structural equations into the "covariance model") with
    everything upstream of it, and the dimensions of x-side second-order constructs.  y side: the rest.
    """
    x_side = _x_side_constructs(model)
    xi = tuple(sorted(x_side))
    eta = tuple(k for k in range(len(model.latents)) if k not in x_side)
    x_items, y_items = _side_items(model, x_side)
    xpos, epos = {k: n for n, k in enumerate(xi)}, {k: n for n, k in enumerate(eta)}
    xixi, etaxi = [], []
    for j, (y, a, s) in enumerate(model.partner):
        if a in xpos:
            xixi.append((j, epos[y], xpos[a], xpos[s]))
        else:
            etaxi.append((j, epos[y], epos[a], xpos[s]))
    return Sides(xi, eta, tuple(sorted(set(x_items))), tuple(sorted(set(y_items))), tuple(xixi), tuple(etaxi))


def _inv_small(A: np.ndarray) -> np.ndarray:
    """Inverse of a batch of k × k matrices; closed form for k = 1, 2 (numpy's batched LAPACK call costs
    ~1 microsecond per matrix, which dominates for millions of tiny per-case matrices)."""
    k = A.shape[-1]
    if k == 1:
        return 1.0 / A
    if k == 2:
        a, b, c, d = A[..., 0, 0], A[..., 0, 1], A[..., 1, 0], A[..., 1, 1]
        det = a * d - b * c
        out = np.empty_like(A)
        out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1] = d / det, -b / det, -c / det, a / det
        return out
    return np.linalg.inv(A)


def _logdet_small(A: np.ndarray) -> np.ndarray:
    """log det of a batch of k × k matrices with positive determinant (NaN otherwise)."""
    k = A.shape[-1]
    if k == 1:
        det = A[..., 0, 0]
    elif k == 2:
        det = A[..., 0, 0] * A[..., 1, 1] - A[..., 0, 1] * A[..., 1, 0]
    else:
        sign, logdet = np.linalg.slogdet(A)
        return np.where(sign > 0, logdet, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(det > 0, np.log(np.abs(det)), np.nan)


def _y_logpdf(resid: np.ndarray, G: np.ndarray, V: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """log N(resid_i; 0, G V_i G' + Theta) per case by Woodbury / Sylvester on the small eta space.

    ``resid`` T × n × p, ``G`` T × p × e, ``V`` T × n × e × e, ``theta`` T × p × p (one per T):
    ``Sigma_i^-1 = P - P G (I + V_i M)^-1 V_i G' P`` with ``P = Theta^-1``, ``M = G' P G``, and
    ``det Sigma_i = det Theta det(I + V_i M)``; only e × e matrices vary by case.
    """
    chol = np.linalg.cholesky(theta)
    P = np.linalg.inv(theta)
    logdet_t = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    Pr = resid @ P                                                       # T × n × p (P symmetric)
    base = (Pr * resid).sum(axis=2)
    GtP = np.swapaxes(G, 1, 2) @ P                                       # T × e × p
    M = GtP @ G                                                          # T × e × e
    b = resid @ np.swapaxes(GtP, 1, 2)                                   # T × n × e
    e = G.shape[2]
    C = np.eye(e) + V @ M[:, None]                                       # T × n × e × e
    Vb = (V @ b[..., None])                                              # T × n × e × 1
    corr = (b[..., None] * (_inv_small(C) @ Vb)).sum(axis=(2, 3))
    logdet = logdet_t[:, None] + _logdet_small(C)
    return -0.5 * (resid.shape[2] * _LOG2PI + logdet + base - corr)


class QuasiLikelihood:
    """QML log-likelihood of one model and data set, batched over parameter vectors."""

    def __init__(self, model: InteractionModel, data: MixtureData):
        self.model, self.data = model, data
        self.sides = split_sides(model)
        s = self.sides
        self.x = data.x[:, list(s.x_items)]
        self.y = data.x[:, list(s.y_items)]
        self.c = data.c
        # per eta (position): its scaling item (loading fixed at 1, else the first) and its other items,
        # as positions in y_items
        ypos = {k: n for n, k in enumerate(s.y_items)}
        self._scaling = []
        for e, lv in enumerate(s.eta):
            rows = [r for r in model.rows if r.matrix == "lam" and r.j == lv]
            if not rows:
                continue
            first = next((r for r in rows if r.free < 0 and r.value == 1.0), rows[0])
            self._scaling.append((e, ypos[first.i], [ypos[r.i] for r in rows if r is not first]))

    def logliks(self, thetas: np.ndarray) -> np.ndarray:
        """Log-likelihood of each row of ``thetas`` (T × n_free); -inf where a covariance is not PD."""
        thetas = np.atleast_2d(thetas)
        out = np.full(len(thetas), -np.inf)
        size = int(np.clip(_CASE_BUDGET // max(len(self.x), 1), 4, 128))   # ~10^6 numbers per per-case array
        for start in range(0, len(thetas), size):
            chunk = thetas[start:start + size]
            try:
                out[start:start + size] = self._chunk_logliks(chunk)
            except np.linalg.LinAlgError:
                for k, th in enumerate(chunk):
                    try:
                        out[start + k] = self._chunk_logliks(th[None])[0]
                    except np.linalg.LinAlgError:
                        pass
        return out

    def _chunk_logliks(self, thetas: np.ndarray) -> np.ndarray:
        """``_logliks`` summed over row blocks of at most ``_CASE_BUDGET / len(thetas)`` cases, so the per-case
        arrays (T × rows × ...) stay bounded however large n is (one block, as before, up to n = 50,000)."""
        rows = max(1, _CASE_BUDGET // len(thetas))
        if len(self.x) <= rows:
            return self._logliks(thetas)
        total = np.zeros(len(thetas))
        for start in range(0, len(self.x), rows):
            total += self._rows(slice(start, start + rows))._logliks(thetas)
        return total

    def _rows(self, rows: slice) -> "QuasiLikelihood":
        """The same likelihood on a block of cases (the case arrays sliced; model and sides shared)."""
        part = copy.copy(self)
        part.x, part.y, part.c = self.x[rows], self.y[rows], self.c[rows]
        return part

    def loglik(self, theta: np.ndarray) -> float:
        return float(self.logliks(theta[None])[0])

    def _x_density(self, M: dict, X: list, xi_: list):
        """x side: Phi of (xi, dimensions), the normal log-density of the x items (T × n) and E(xi | c)."""
        beta, psi, lam, tau, theta = M["beta"], M["psi"], M["lam"], M["tau"], M["theta"]
        nx = len(X)
        A_x = np.linalg.inv(np.eye(nx) - beta[:, X][:, :, X])
        phi = A_x @ psi[:, X][:, :, X] @ np.swapaxes(A_x, 1, 2)
        lx = lam[:, xi_][:, :, X]
        sxx = lx @ phi @ np.swapaxes(lx, 1, 2) + theta[:, xi_][:, :, xi_]
        xc = self.x[None] - tau[:, None, xi_]                               # T × n × px
        kappa = None
        if self.c.shape[1]:                                                  # E(xi | c) = A_x Gamma_x c
            kappa = self.c[None] @ np.swapaxes(A_x @ M["gamma"][:, X], 1, 2)  # T × n × nx
            xc = xc - kappa @ np.swapaxes(lx, 1, 2)
        chol = np.linalg.cholesky(sxx)
        z = xc @ np.swapaxes(np.linalg.inv(chol), 1, 2)
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        ll = -0.5 * (len(xi_) * _LOG2PI + logdet[:, None] + (z * z).sum(axis=2))
        return ll, xc, kappa, phi, lx, sxx

    def _xixi_terms(self, M: dict, m: np.ndarray, sig1: np.ndarray, X: list, E: list):
        """Linear predictor ``r`` of eta given xi with the xi·xi products, its slopes ``K`` and Var(d' Omega_y d)."""
        s, beta, omega = self.sides, M["beta"], M["omega"]
        T, n, nx, ne = m.shape[0], m.shape[1], len(X), len(E)
        b_ex = beta[:, E][:, :, X]
        r = m @ np.swapaxes(b_ex, 1, 2)                                      # T × n × ne
        if self.c.shape[1]:
            r = r + self.c[None] @ np.swapaxes(M["gamma"][:, E], 1, 2)
        K = np.zeros((T, n, ne, nx))
        varz = np.zeros((T, ne))
        omega_y = np.zeros((T, ne, nx, nx))
        for j, y, a, sx in s.xixi:
            w = omega[:, j, None]
            r[:, :, y] += w * (m[:, :, a] * m[:, :, sx] + sig1[:, a, sx, None])
            K[:, :, y, a] += w * m[:, :, sx]
            K[:, :, y, sx] += w * m[:, :, a]
            omega_y[:, y, a, sx] += omega[:, j]
        if s.xixi:   # Var(d' Omega_y d), d ~ N(0, Sigma_1): tr(O S O S) + tr(O S O' S) (modsem's varZCpp)
            OS = omega_y @ sig1[:, None]
            OtS = np.swapaxes(omega_y, 2, 3) @ sig1[:, None]
            varz = (OS * np.swapaxes(OS, 2, 3)).sum(axis=(2, 3)) + (OS * np.swapaxes(OtS, 2, 3)).sum(axis=(2, 3))
        return b_ex, r, K, varz

    def _eta_moments(self, M: dict, m, sig1, b_ex, r, K, varz, E: list):
        """Mean (T × n × ne) and covariance of eta given the x items, with the eta·xi products."""
        s, beta, psi, lam, tau, theta, omega = (self.sides, M["beta"], M["psi"], M["lam"], M["tau"], M["theta"],
                                                M["omega"])
        T, n, nx, ne = m.shape[0], m.shape[1], m.shape[2], len(E)
        b0 = np.eye(ne) - beta[:, E][:, :, E]                                # T × ne × ne
        if s.etaxi:
            Bi = np.repeat(b0[:, None], n, axis=1)
            for j, y, a, sx in s.etaxi:
                Bi[:, :, y, a] -= omega[:, j, None] * m[:, :, sx]
            binv = _inv_small(Bi)                                            # T × n × ne × ne
        else:
            binv = np.linalg.inv(b0)[:, None]
        mu = (binv @ r[..., None])[..., 0]                                   # T × n × ne
        J = binv @ b_ex[:, None] + K
        if s.etaxi:
            mu_oex = mu + self._scaling_shift(lam, theta, tau, list(s.y_items))
            O = np.zeros((T, n, ne, nx))
            for j, y, a, sx in s.etaxi:
                O[:, :, y, sx] += omega[:, j, None] * mu_oex[:, :, a]
            J = J + binv @ O
        inner = psi[:, E][:, :, E] + varz[:, :, None] * np.eye(ne)
        V = J @ sig1[:, None] @ np.swapaxes(J, 2, 3) + binv @ inner[:, None] @ np.swapaxes(binv, -1, -2)
        return mu, V

    def _logliks(self, thetas: np.ndarray) -> np.ndarray:
        """One chunk of parameter vectors: x-side normal density + y | x with the QML moments (module doc)."""
        s, M = self.sides, self.model.fill(thetas)
        X, E, xi_, yi_ = list(s.xi), list(s.eta), list(s.x_items), list(s.y_items)
        lam, tau, theta = M["lam"], M["tau"], M["theta"]
        ll, xc, kappa, phi, lx, sxx = self._x_density(M, X, xi_)
        if not E:
            return ll.sum(axis=1)
        sinv = np.linalg.inv(sxx)
        L1 = phi @ np.swapaxes(lx, 1, 2) @ sinv                              # T × nx × px
        sig1 = phi - L1 @ lx @ phi
        m = xc @ np.swapaxes(L1, 1, 2)                                       # T × n × nx
        if kappa is not None:
            m = m + kappa
        b_ex, r, K, varz = self._xixi_terms(M, m, sig1, X, E)
        mu, V = self._eta_moments(M, m, sig1, b_ex, r, K, varz, E)
        ly = lam[:, yi_][:, :, E]
        resid = self.y[None] - tau[:, None, yi_] - mu @ np.swapaxes(ly, 1, 2)
        total = (ll + _y_logpdf(resid, ly, V, theta[:, yi_][:, :, yi_])).sum(axis=1)
        if np.isnan(total).any():
            raise np.linalg.LinAlgError("conditional covariance of the y items is not positive definite")
        return total

    def _scaling_shift(self, lam, theta, tau, items) -> np.ndarray:
        """``L2 u``: E(error of each eta's scaling item | contrasts u = y_j - lambda_j y_1), T × n × ne.

        modsem's C++ log-likelihood (``logLikQmlFromModel``) evaluates the eta × xi Jacobian term at
        ``E(eta | x) + L2 u`` (the conditional mean of the scaling item, not of eta); kept for agreement.
        """
        T, n = lam.shape[0], self.y.shape[0]
        out = np.zeros((T, n, len(self.sides.eta)))
        for e, first, rest in self._scaling:
            if not rest:
                continue
            yc = self.y[None] - tau[:, None, items]
            lam_r = lam[:, [items[k] for k in rest], self.sides.eta[e]]            # T × r
            u = yc[:, :, rest] - lam_r[:, None, :] * yc[:, :, [first]]             # T × n × r
            th = theta[:, items][:, :, items]
            R = np.zeros((T, len(rest), len(items)))
            R[:, np.arange(len(rest)), rest] = 1.0
            R[:, :, first] = -lam_r
            RER = R @ th @ np.swapaxes(R, 1, 2)
            cov = (th[:, first:first + 1] @ np.swapaxes(R, 1, 2))                  # T × 1 × r
            L2 = np.linalg.solve(RER, np.swapaxes(cov, 1, 2))[:, :, 0]              # T × r
            out[:, :, e] = (u * L2[:, None, :]).sum(axis=2)
        return out

    # --- derivatives by batched finite differences -------------------------------------------------
    def steps(self, theta: np.ndarray, rel: float) -> np.ndarray:
        return rel * (1.0 + np.abs(theta))

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Forward differences, all k+1 points in one batch.

        Step 1e-7 (relative): truncation ~h f''/2 and rounding ~eps |f| / h are both ~1e-4..1e-3 on a
        log-likelihood of 1e4, which moves the optimum by ~1e-8 — far inside the agreement asked of QML.
        """
        k = theta.size
        h = self.steps(theta, 1e-7)
        f = self.logliks(np.vstack([theta, theta + np.diag(h)]))
        return float(f[0]), (f[1:] - f[0]) / h

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Observed-information Hessian by forward second differences of the log-likelihood.

        ``H_jk = (f(t + h_j + h_k) - f(t + h_j) - f(t + h_k) + f(t)) / (h_j h_k)`` on one batch of
        k(k+1)/2 + k points (relative step 1e-4: error ~1e-4 relative, SEs to ~1e-4).
        """
        k = theta.size
        h = self.steps(theta, 1e-4)
        E = np.diag(h)
        iu = np.triu_indices(k)
        pts = np.vstack([theta[None], theta + E, theta + E[iu[0]] + E[iu[1]]])
        f = self.logliks(pts)
        f0, f1, f2 = f[0], f[1:k + 1], f[k + 1:]
        H = np.zeros((k, k))
        H[iu] = (f2 - f1[iu[0]] - f1[iu[1]] + f0) / (h[iu[0]] * h[iu[1]])
        H[(iu[1], iu[0])] = H[iu]
        return H


def fit_qml(syntax: str, data: pd.DataFrame, *, interactions=(),
            products_fixed: bool | set[tuple[str, str]] = False, start: np.ndarray | None = None,
            standard_errors: bool = True, linear_fit=None):
    """Fit a latent interaction model by QML; arguments as :func:`.lms.fit_lms`."""
    model, full_start = model_and_start(syntax, data, interactions, products_fixed, start, linear_fit)
    mdata = mixture_data(model, data)
    grid = quadrature_grid(len(model.integrated), spacing=0.25)  # only for the standardized solution
    return solve("qml", model, mdata, QuasiLikelihood(model, mdata), full_start, grid, standard_errors)
