"""The frozen result of an LMS/QML fit: parameter rows in lavaan's columns, vcov, log-likelihood.

Standardized values use the model-implied latent covariance *including* the product terms (computed on
the quadrature grid, exact for the normal model), so ``std_all`` of ``Y ~ X:Z`` is
``omega * sd(X) * sd(Z) / sd(Y)`` as in modsem's standardized solution.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..fitted import PARAM_COLUMNS
from .moments import Grid, conditional_moments
from .structure import InteractionModel


@dataclass(frozen=True)
class InteractionFit:
    """Everything the moderation block and the report need from one interaction-model fit."""

    method: str
    model: InteractionModel
    theta: np.ndarray
    vcov: np.ndarray
    loglik: float
    n: int
    parameters: pd.DataFrame
    fit: dict
    latent_cov: pd.DataFrame
    converged: bool
    iterations: int
    problems: tuple[str, ...] = field(default=())

    def row(self, lhs: str, op: str, rhs: str) -> dict | None:
        P = self.parameters
        m = P[(P.lhs == lhs) & (P.op == op) & (P.rhs == rhs)]
        return None if m.empty else m.iloc[0].to_dict()

    def free_index(self, lhs: str, op: str, rhs: str) -> int:
        """Index of a free parameter in ``theta``/``vcov`` (-1 when fixed or absent)."""
        return next((r.free for r in self.model.rows if (r.lhs, r.op, r.rhs) == (lhs, op, rhs)), -1)

    def free_index_by_label(self, label: str) -> int:
        return next((r.free for r in self.model.rows if r.label == label), -1)


def latent_covariance(model: InteractionModel, theta: np.ndarray, grid: Grid, cov_c: np.ndarray) -> np.ndarray:
    """Total covariance of the latent variables (products included), by quadrature over the moderators."""
    mom = conditional_moments(model, theta[None], grid.nodes)
    w = grid.weights
    mean, cov, slope = mom.eta_mean[0], mom.eta_cov[0], mom.eta_slope[0]
    first = np.einsum("q,qm->m", w, mean)
    second = np.einsum("q,qmn->mn", w, cov + slope @ cov_c @ np.swapaxes(slope, 1, 2)) + \
        np.einsum("q,qm,qn->mn", w, mean, mean)
    return second - np.outer(first, first)


def _pvalue(z):
    if z is None or not math.isfinite(z):
        return None
    return float(2 * stats.norm.sf(abs(z)))


def assemble_interaction_fit(method: str, model: InteractionModel, theta: np.ndarray, vcov: np.ndarray,
                             loglik: float, n: int, grid: Grid, cov_c: np.ndarray, *, converged: bool,
                             iterations: int, problems: tuple[str, ...] = ()) -> InteractionFit:
    mats = {k: v[0] for k, v in model.fill(theta[None]).items()}
    eta = latent_covariance(model, theta, grid, cov_c)
    var_x = np.diag(mats["lam"] @ eta @ mats["lam"].T) + np.diag(mats["theta"])
    sd_eta, sd_x = np.sqrt(np.maximum(np.diag(eta), 0)), np.sqrt(var_x)
    sd_c = np.sqrt(np.diag(cov_c)) if cov_c.size else np.zeros(0)
    lat = {v: k for k, v in enumerate(model.latents)}
    ind = {v: k for k, v in enumerate(model.indicators)}
    cov_i = {v: k for k, v in enumerate(model.covariates)}
    se_free = np.sqrt(np.maximum(np.diag(vcov), 0)) if vcov.size else np.zeros(0)

    def sd(name: str) -> float:
        if name in lat:
            return sd_eta[lat[name]]
        if name in ind:
            return sd_x[ind[name]]
        return sd_c[cov_i[name]]

    rows = []
    for r in model.rows:
        est = float(theta[r.free]) if r.free >= 0 else r.value
        se = float(se_free[r.free]) if r.free >= 0 else 0.0
        if r.matrix in ("lam", "beta") and r.op == "=~":
            std = est * sd(r.lhs) / sd(r.rhs)
        elif r.op == "~" and r.matrix == "omega":
            a, b = r.rhs.split(":")
            std = est * sd(a) * sd(b) / sd(r.lhs)
        elif r.op == "~":
            std = est * sd(r.rhs) / sd(r.lhs)
        elif r.op == "~1":
            std = est / sd(r.lhs)
        else:
            std = est / (sd(r.lhs) * sd(r.rhs))
        z = est / se if r.free >= 0 and se > 0 else None
        rows.append([r.lhs, r.op, r.rhs, r.label, est, se, z, _pvalue(z), float(std)])
    table = pd.DataFrame(rows, columns=PARAM_COLUMNS)
    npar = model.n_free
    fit = {"loglik": float(loglik), "npar": int(npar), "aic": -2 * loglik + 2 * npar,
           "bic": -2 * loglik + math.log(n) * npar, "n": int(n)}
    latent = pd.DataFrame(eta, index=list(model.latents), columns=list(model.latents))
    return InteractionFit(method, model, theta, vcov, float(loglik), n, table, fit, latent, converged, iterations,
                          tuple(problems))
