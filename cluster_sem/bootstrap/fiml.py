"""FIML bootstrap: resampled rows keep their blanks and every resample is refitted by FIML, batched.

Why it is fast: a resample is a vector of integer case weights w_i (how often row i was drawn), so the
FIML log-likelihood of every resample is a weighted sum over the *original* cases, whose missing-data
patterns are shared by all resamples (``model.fiml.WeightedCases``: one p × p inverse per resample and
small |M| × |M| solves per pattern instead of a p_k × p_k inverse per pattern).  All resamples of a block are then fitted together by the batched BFGS of the complete-data
engine (``batched.batched_quasi_newton``), warm-started at φ̂ with the inverse full-sample observed information
as metric, with the analytic batched gradient (``fiml.loglik`` + ``casewise.sigma_chain``).

Objective per resample: F = −2ℓ/N (the scale of F_ML), converged when max|∂F/∂φ| < 1e-9.  A resample the
batch cannot finish is refitted alone (``casewise.maximise`` on the physically resampled rows); resamples
that still fail are excluded from SEs and CIs, as in the complete-data engine.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..model.casewise import CasewiseModel, maximise, sigma_chain
from ..model.fiml import WeightedCases
from ..model.inference import defined_values
from ..model.matrices import MatrixModel
from ..model.missing import Patterns
from ..model.partable import ParTable
from .batched import BlockResult, admissible, batched_quasi_newton

RULE_FIML = ("FIML bootstrap: resampled rows keep their blanks; a resample counts as converged when "
             "max|dF/dphi| < 1e-9 (F = -2 logL / N) after batched BFGS from the full-sample estimates or, "
             "failing that, after a single-resample Newton refit; resamples that still fail are excluded "
             "from SEs and CIs, inadmissible but converged solutions are kept, as lavaan does")


@dataclass(frozen=True)
class FimlCore:
    """What a worker needs to refit resamples by FIML (picklable)."""

    partable: ParTable
    matrix_model: MatrixModel
    data: np.ndarray            # n × p with NaN for blanks, columns in matrix_model.ov order
    phi_hat: np.ndarray         # (θ̂, ν̂)
    metric_inv: np.ndarray      # inverse of the full-sample unit Hessian of F = −2ℓ/N
    S_x: np.ndarray
    mu_fixed: np.ndarray
    free_mu: np.ndarray
    tol: float = 1e-9
    max_iter: int = 200
    chunk: int = 250            # resamples per numpy call (casewise arrays are R × n × p)
    patterns: Patterns = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "patterns", Patterns.from_array(self.data))

    @property
    def rule(self) -> str:
        return RULE_FIML

    def model(self, data: Patterns | None = None) -> CasewiseModel:
        return CasewiseModel(self.matrix_model, data or self.patterns, self.S_x, self.mu_fixed, self.free_mu)

    def weights(self, indices: np.ndarray) -> np.ndarray:
        b, n = indices.shape
        w = np.zeros((b, n))
        np.add.at(w, (np.repeat(np.arange(b), n), indices.ravel()), 1.0)
        return w

    def batched_objective(self, cases: WeightedCases, w: np.ndarray):
        """grad(φ[r], rows) → (F, ∂F/∂φ) for the resamples ``rows`` of the weights ``w`` (F = −2ℓ/N)."""
        mm, q = self.matrix_model, self.matrix_model.n_free
        obj = mm.objective
        n = self.data.shape[0]
        free_mu = self.free_mu

        def grad(phi, rows):
            R = phi.shape[0]
            theta = phi[:, :q]
            mu = np.repeat(self.mu_fixed[None], R, axis=0)
            mu[:, free_mu] = phi[:, q:]
            S = np.repeat(self.S_x[None], R, axis=0)
            sigma = mm.implied(theta, S)
            ll, gmu, G = cases.loglik(w[rows], mu, sigma)
            bad = ~np.isfinite(ll)
            G = np.where(bad[:, None, None], 0.0, G)
            g = np.hstack([sigma_chain(obj, theta, S, G), np.where(bad[:, None], 0.0, gmu)[:, free_mu]])
            f = -2.0 * ll / n
            g = -2.0 * g / n
            f[bad] = np.inf
            g[bad] = np.nan
            return f, g
        return grad

    def fit_resamples(self, indices: np.ndarray, start: int = 0) -> BlockResult:
        """Batched FIML fits of the resamples ``indices`` (b, n); the BlockResult holds φ = (θ, ν)."""
        w = self.weights(indices)
        cases = WeightedCases.from_patterns(self.patterns)
        q = self.matrix_model.n_free
        phi = np.empty((len(w), len(self.phi_hat)))
        converged = np.zeros(len(w), dtype=bool)
        iterations = 0
        for lo in range(0, len(w), self.chunk):
            sl = slice(lo, lo + self.chunk)
            phi[sl], converged[sl], its = batched_quasi_newton(self.batched_objective(cases, w[sl]), len(w[sl]),
                                                       self.phi_hat, self.metric_inv, tol=self.tol,
                                                       max_iter=self.max_iter)
            iterations = max(iterations, its)
        fallback = np.zeros(len(w), dtype=bool)
        for r in np.flatnonzero(~converged):
            try:
                ph, ok = refit_one(self, indices[r])
            except (np.linalg.LinAlgError, ValueError):
                continue
            if ok:
                phi[r], converged[r], fallback[r] = ph, True, True
        phi[~converged] = np.nan
        S = np.repeat(self.S_x[None], len(phi), axis=0)
        with np.errstate(all="ignore"):
            adm = np.zeros(len(phi), dtype=bool)
            if converged.any():
                adm[converged] = admissible(self.partable, self.matrix_model, phi[converged, :q], S[converged])
            dvals = defined_values(self.partable, phi[:, :q])
        return BlockResult(start, phi, dvals, converged, adm, fallback, iterations)


def refit_one(core: FimlCore, rows: np.ndarray) -> tuple[np.ndarray, bool]:
    """One resample refitted alone by FIML (Newton from φ̂) on the physically resampled rows."""
    data = Patterns.from_array(core.data[rows])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        phi, _, _, _, _ = maximise(core.model(data), core.phi_hat, tol=1e-11)
    g = core.model(data).value_gradient(phi)[1]
    return phi, bool(np.all(np.isfinite(g)) and np.abs(-2.0 * g / len(rows)).max() < 10 * core.tol)


def intercept_replicates(fit, estimates: np.ndarray | None) -> dict[str, np.ndarray | None]:
    """Variable → lavaan's intercept τ in every replicate (``estimates`` rows (θ, μ) of the non-fixed.x
    variables, ``casewise.lavaan_intercepts``); the variables in column order, values None without replicates."""
    from ..model.casewise import lavaan_intercepts
    mm, pt = fit.matrix_model, fit.partable
    x_index = [mm.ov.index(v) for v in pt.variables.ov_x]
    free_mu = np.array([j for j in range(mm.p) if j not in x_index], dtype=int)
    free = [mm.ov[j] for j in free_mu]
    if estimates is None or not len(estimates):
        return dict.fromkeys(free)
    tau = lavaan_intercepts(mm, np.asarray(fit.sample_cov, float), np.asarray(fit.sample_mean, float),
                            free_mu, np.asarray(estimates, float))
    return {v: tau[:, k] for k, v in enumerate(free)}


def make_fiml_core(fit, x: np.ndarray, **kw) -> FimlCore:
    """FimlCore from a FIML ``ModelFit`` and its n × p item matrix (rows with every item blank dropped)."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x).all(axis=1)]
    if len(x) != fit.n:
        raise ValueError(f"data has {len(x)} usable rows but the model was fitted to n = {fit.n}")
    mm, pt = fit.matrix_model, fit.partable
    x_index = [mm.ov.index(v) for v in pt.variables.ov_x]
    free_mu = np.array([j for j in range(mm.p) if j not in x_index], dtype=int)
    mu_hat = np.asarray(fit.implied_mean, dtype=float)   # μ̂: the casewise parameters (~1 rows hold lavaan's τ̂)
    mu_fixed = np.asarray(fit.sample_mean, dtype=float).copy()
    phi_hat = np.concatenate([np.asarray(fit.theta, float), mu_hat[free_mu]])
    model = CasewiseModel(mm, Patterns.from_array(x), fit.sample_cov, mu_fixed, free_mu)
    H = model.hessian(phi_hat)
    metric = -2.0 * H / len(x)
    try:
        metric_inv = np.linalg.inv(metric)
    except np.linalg.LinAlgError:
        metric_inv = np.linalg.pinv(metric)
    return FimlCore(pt, mm, x, phi_hat, metric_inv, np.asarray(fit.sample_cov, float), mu_fixed, free_mu, **kw)


def mean_rows_se(fit, se_free: np.ndarray, estimates: np.ndarray | None = None) -> list[float]:
    """Bootstrap SEs of the ``~1`` rows of a FIML ``fit.parameters`` (free intercepts; 0 for fixed rows).

    Replicate columns are (θ, μ) with μ the means of the variables that are not fixed.x covariates; the
    rows hold lavaan's intercepts τ(θ, μ) (``casewise.lavaan_intercepts``), so with ``estimates`` (the
    converged replicates) their SEs are those of τ per replicate (= of μ when no control predicts)."""
    if getattr(fit, "group_model", None) is not None:   # multigroup FIML: the ~1 rows are in the table already
        return []
    from .ci import bootstrap_se
    mm = fit.matrix_model
    q = mm.n_free
    if estimates is not None and len(estimates):
        se = {v: bootstrap_se(t) for v, t in intercept_replicates(fit, estimates).items()}
    else:
        se = {v: float(se_free[q + k]) for k, v in enumerate(intercept_replicates(fit, None))}
    rows = fit.parameters[fit.parameters.op == "~1"]
    return [float(se[v]) if v in se else 0.0 for v in rows.lhs]
