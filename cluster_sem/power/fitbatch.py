"""Fit one chunk of replications of one sample size together and test every effect in each.

All replications of the chunk are fitted by the bootstrap's batched ML engine (``fit_covariances``:
batched quasi-Newton from the population values with the population expected Hessian as the first metric,
then one-at-a-time Fisher scoring from several starts for the few that fail).  Standard errors come from
the batched expected information (lavaan's ``se = "standard"``).  Per replication and effect we keep the
estimate, its SE, "significant in the expected direction" and "the 95% CI covers the population value";
the summary (:mod:`.summarise`) only averages these arrays.

With ``--estimator MLR`` or ``--missing fiml`` the linear model is fitted one replication at a time by the
casewise fitter instead (:mod:`.casewise`).  Latent interactions are a second model per replication, the
double-mean-centred product-indicator model (:mod:`.interaction`), fitted by the same batched engine; the
SE of its product coefficient is the sandwich (``robust.sem``) SE, as product indicators are not normal.

Tests:
* a path or an interaction: Wald z = est/SE, two-sided level ``alpha``, significant in the direction
  :mod:`.effects` assigns (either sign when two-sided).  Coverage: est ± 1.96·SE.
* an indirect effect, ``ci="monte-carlo"`` (default): the labelled path coefficients are drawn
  ``MC_DRAWS`` times from N(θ̂, V̂) of *that* replication (Selig & Preacher 2008) from the replication's own
  seed stream; significant when the (1 − alpha) percentile interval excludes 0 on the expected side;
  coverage from the 95% interval.  ``ci="delta"``: Wald test and CI with the delta-method SE.
  ``ci="bootstrap"``: a percentile bootstrap (``BOOT_DRAWS`` resamples, lavaan's rule) inside every
  replication, by the bootstrap engine — ~500 times the work of the other two.
  The reported SE of an indirect effect is the delta-method SE in every case.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..bootstrap.batched import fit_covariances
from ..model.inference import defined_gradient, defined_values, evaluate_expression
from ..model.information import BatchedInformation, batched_standard_errors
from ..model.matrices import MatrixModel
from ..model.partable import ParTable
from ..rng import normal_draws
from ..simulate.simulator import SurveySampler
from .casewise import CasewiseFitter
from .draw import covariance, draw_rows, replication_seed
from .effects import Effect
from .interaction import ProductModel, robust_se

MC_DRAWS = 2000     # Monte Carlo CI draws per replication (percentile noise is averaged out over replications)
BOOT_DRAWS = 500    # bootstrap resamples per replication with --ci bootstrap (percentile CI, lavaan's rule)
CI_METHODS = ("monte-carlo", "delta", "bootstrap")
PRODUCT_ITER = 200   # batched iterations for the interaction (product-indicator) model, which has no
                     # one-at-a-time fallback: its ~50-variable refits cost seconds each; the replications it
                     # does not converge (a few % at n ≈ 128, improper solutions) are counted, not used
FALLBACK_ITER = 200  # BFGS iterations per fallback stage (bootstrap.batched._rescue; a replication that needs more is
                     # counted as not converged: at small n such data sets are improper, not slow)


@dataclass(frozen=True)
class PowerCore:
    """Everything a worker needs (picklable): sampler, model, population values, effects, options."""

    sampler: SurveySampler
    columns: list
    partable: ParTable
    matrix_model: MatrixModel
    theta_pop: np.ndarray
    metric_inv: np.ndarray
    effects: tuple[Effect, ...]
    seed: int
    alpha: float
    ci: str
    mc_draws: int = MC_DRAWS
    boot_draws: int = BOOT_DRAWS
    products: ProductModel | None = None      # the dblcent interaction model (None: no interactions)
    casewise: CasewiseFitter | None = None    # MLR / FIML: one-at-a-time casewise fits instead of batched ML
    cluster_size: int | None = None           # clustered design: firms per cluster (cluster-robust casewise fits)


@dataclass(frozen=True)
class ChunkResult:
    n: int
    start: int                 # first replication number
    est: np.ndarray            # (b, E)
    se: np.ndarray             # (b, E)
    significant: np.ndarray    # (b, E) bool
    covered: np.ndarray        # (b, E) bool
    converged: np.ndarray      # (b,) bool
    admissible: np.ndarray     # (b,) bool
    fallback: np.ndarray       # (b,) bool: converged only in the one-at-a-time refit
    n_used: np.ndarray         # (b,) rows used (after listwise deletion; FIML keeps incomplete rows)
    product_converged: np.ndarray   # (b,) bool: the interaction model converged (all False without one)
    product_admissible: np.ndarray  # (b,) bool

    ARRAYS = ("est", "se", "significant", "covered", "converged", "admissible", "fallback", "n_used",
              "product_converged", "product_admissible")


def _directional(lo: np.ndarray, hi: np.ndarray, direction: int) -> np.ndarray:
    """A (1 − alpha) interval [lo, hi] is significant in the expected direction."""
    if direction > 0:
        return lo > 0
    if direction < 0:
        return hi < 0
    return (lo > 0) | (hi < 0)


def _mc_intervals(core: PowerCore, n: int, reps: np.ndarray, theta: np.ndarray, vcov: np.ndarray,
                  which: list[int], probs: list[float]) -> np.ndarray:
    """Percentiles (len(probs), b, len(which)) of the defined effects ``which`` under θ* ~ N(θ̂_r, V̂_r).

    Only the labelled coefficients the named effects multiply are drawn (their marginal normal), and only
    those effects are evaluated: per replication that is D × (a few) normals, not D × q.
    """
    pt = core.partable
    rows = [pt.defined[d] for d in which]
    used = {name for row in rows for name in re.findall(r"[A-Za-z_][A-Za-z_0-9.]*", row.rhs)}
    lab = [i for i, label in enumerate(pt.free_labels) if label and label in used]
    b = len(reps)
    V = vcov[:, lab][:, :, lab]
    out = np.empty((len(probs), b, len(which)))
    for lo in range(0, b, 50):                                       # bounded memory: 50 replications at a time
        sl = slice(lo, lo + 50)
        draws = np.stack([normal_draws(theta[i, lab], V[i], core.mc_draws, core.seed, n, r, 1)
                          for i, r in zip(range(lo, lo + 50), reps[sl])])   # (b', D, L), stream (n, r, 1)
        values = {pt.free_labels[i]: draws[..., k] for k, i in enumerate(lab)}
        effect = np.stack([evaluate_expression(row.rhs, values) for row in rows], axis=-1)   # (b', D, e)
        out[:, sl] = np.quantile(effect, probs, axis=1)
    return out


def _boot_intervals(core: PowerCore, n: int, reps: np.ndarray, data: list[np.ndarray], theta: np.ndarray,
                    hessian_inv: np.ndarray, which: list[int], levels: list[float]) -> np.ndarray:
    """Percentile bootstrap CIs (len(levels), 2, b, len(which)) inside each replication, by the bootstrap
    engine itself (batched refits of ``boot_draws`` resamples warm-started at θ̂_r; resamples the batched
    fit cannot converge are dropped, without one-at-a-time refits); the resample indices come from the
    replication's own seed stream 2."""
    from ..bootstrap.batched import sample_covariances
    from ..bootstrap.ci import percentile_ci
    out = np.full((len(levels), 2, len(reps), len(which)), np.nan)
    for i, r in enumerate(reps):
        x = data[i]
        rng = np.random.default_rng(replication_seed(core.seed, n, r, 2))
        idx = rng.integers(0, len(x), size=(core.boot_draws, len(x)))
        theta_b, conv, _, _, _ = fit_covariances(core.partable, core.matrix_model, sample_covariances(x, idx),
                                                 theta[i], hessian_inv[i], fallback_max_iter=0)
        res_defined = defined_values(core.partable, theta_b)
        for k, d in enumerate(which):
            t = res_defined[conv, d]
            for j, level in enumerate(levels):
                out[j, :, i, k] = percentile_ci(t, level)
    return out


@dataclass(frozen=True)
class Fitted:
    """One model fitted to every replication of a chunk: θ̂ (NaN rows where not converged), vcov, SEs."""

    theta: np.ndarray          # (b, q)
    vcov: np.ndarray           # (b, q, q)
    se: np.ndarray             # (b, q)
    converged: np.ndarray      # (b,) bool, with finite SEs
    admissible: np.ndarray     # (b,) bool
    fallback: np.ndarray       # (b,) bool


def fit_batched(pt: ParTable, mm: MatrixModel, data: list[np.ndarray], start: np.ndarray, metric_inv: np.ndarray,
                *, max_iter: int = 100, fallback_max_iter: int = FALLBACK_ITER) -> Fitted:
    """ML fits of all replications together (the bootstrap's engine), expected-information SEs."""
    n_used = np.array([len(x) for x in data])
    S = np.stack([covariance(x) for x in data])
    usable = np.all(np.isfinite(S), axis=(1, 2))
    S_fit = np.where(usable[:, None, None], S, np.eye(mm.p))
    theta, converged, admissible, fallback, _ = fit_covariances(
        pt, mm, S_fit, start, metric_inv, max_iter=max_iter, data_of=lambda r: data[r] if fallback_max_iter else None,
        fallback_max_iter=fallback_max_iter)
    converged &= usable
    b, q = len(data), mm.n_free
    vcov, se = np.full((b, q, q), np.nan), np.full((b, q), np.nan)
    ok = np.flatnonzero(converged)
    if len(ok):
        vcov[ok], se[ok] = batched_standard_errors(BatchedInformation(mm), theta[ok], S[ok], n_used[ok])
        converged[ok[~np.all(np.isfinite(se[ok]), axis=1)]] = False
    return Fitted(theta, vcov, se, converged, admissible & converged, fallback & converged)


@dataclass(frozen=True)
class _Tests:
    """Per replication × effect arrays a chunk fills: estimate, SE, significant, CI covers the population."""

    est: np.ndarray
    se: np.ndarray
    sig: np.ndarray
    cov: np.ndarray

    @classmethod
    def empty(cls, b: int, e: int) -> "_Tests":
        return cls(np.full((b, e), np.nan), np.full((b, e), np.nan), np.zeros((b, e), dtype=bool),
                   np.zeros((b, e), dtype=bool))


def fit_chunk(core: PowerCore, n: int, start: int, stop: int) -> ChunkResult:
    """Draw, fit and test replications start..stop−1 of sample size n."""
    reps = np.arange(start, stop)
    drawn = [draw_rows(core.sampler, core.columns, n, core.seed, r,
                       keep_missing=core.casewise is not None and core.casewise.missing == "fiml",
                       cluster_size=core.cluster_size) for r in reps]
    data = [x for x, _ in drawn]
    n_used = np.array([len(x) for x in data])
    if core.casewise is None:
        linear = fit_batched(core.partable, core.matrix_model, data, core.theta_pop, core.metric_inv)
    else:
        linear = core.casewise.fit(data, [c for _, c in drawn] if core.cluster_size is not None else None)
    converged = linear.converged.copy()
    out = _Tests.empty(len(reps), len(core.effects))
    z = (stats.norm.ppf(1 - core.alpha / 2), stats.norm.ppf(0.975))
    ok = np.flatnonzero(converged)
    if len(ok):
        _test_linear_effects(core, n, reps, data, n_used, linear, ok, out, z)
    p_conv, p_adm = np.zeros(len(reps), dtype=bool), np.zeros(len(reps), dtype=bool)
    if core.products is not None:
        p_conv, p_adm = _test_interactions(core, data, out, z)
    return ChunkResult(n, start, out.est, out.se, out.sig, out.cov, converged, linear.admissible & converged,
                       linear.fallback & converged, n_used, p_conv, p_adm)


def _test_linear_effects(core: PowerCore, n: int, reps: np.ndarray, data: list[np.ndarray], n_used: np.ndarray,
                         linear: "Fitted", ok: np.ndarray, out: _Tests, z: tuple[float, float]) -> None:
    """Paths and indirect effects of the converged replications ``ok``: estimates, SEs (delta method for
    indirect effects), then Wald tests, or the Monte Carlo / bootstrap intervals for indirect effects."""
    th, vcov, se_free = linear.theta[ok], linear.vcov[ok], linear.se[ok]
    paths = [(e, eff) for e, eff in enumerate(core.effects) if eff.kind == "path"]
    for e, eff in paths:
        out.est[ok, e], out.se[ok, e] = th[:, eff.index], se_free[:, eff.index]
    indirect = [(e, eff) for e, eff in enumerate(core.effects) if eff.kind == "indirect"]
    if indirect:
        dval = defined_values(core.partable, th)
        jac = defined_gradient(core.partable, th)                        # (b, d, q)
        dse = np.sqrt(np.einsum("rdk,rkl,rdl->rd", jac, vcov, jac))
        for e, eff in indirect:
            out.est[ok, e], out.se[ok, e] = dval[:, eff.index], dse[:, eff.index]
    for e, eff in paths + ([] if core.ci == "monte-carlo" else indirect):
        out.sig[ok, e], out.cov[ok, e] = _wald(out.est[ok, e], out.se[ok, e], eff, *z)
    if indirect and core.ci == "bootstrap":
        which = [eff.index for _, eff in indirect]
        hinv = vcov * n_used[ok][:, None, None] / 2.0          # inverse expected Hessian = N·vcov/2
        ci = _boot_intervals(core, n, reps[ok], [data[i] for i in ok], th, hinv, which,
                             [1 - core.alpha, 0.95])
        for k, (e, eff) in enumerate(indirect):
            out.sig[ok, e] = _directional(ci[0, 0, :, k], ci[0, 1, :, k], eff.direction)
            out.cov[ok, e] = (ci[1, 0, :, k] <= eff.population) & (eff.population <= ci[1, 1, :, k])
    if indirect and core.ci == "monte-carlo":
        which = [eff.index for _, eff in indirect]
        q = _mc_intervals(core, n, reps[ok], th, vcov, which,
                          [core.alpha / 2, 1 - core.alpha / 2, 0.025, 0.975])
        for k, (e, eff) in enumerate(indirect):
            out.sig[ok, e] = _directional(q[0][:, k], q[1][:, k], eff.direction)
            out.cov[ok, e] = (q[2][:, k] <= eff.population) & (eff.population <= q[3][:, k])


def _test_interactions(core: PowerCore, data: list[np.ndarray], out: _Tests,
                       z: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Fit the product-indicator model to every replication; Wald-test each interaction with its sandwich
    SE where that model converged.  Returns (converged, admissible) of the product model."""
    pm = core.products
    pdata = [pm.data(x) for x in data]
    product = fit_batched(pm.partable, pm.matrix_model, pdata, pm.theta_pop, pm.metric_inv,
                          max_iter=PRODUCT_ITER, fallback_max_iter=0)
    okp = np.flatnonzero(product.converged)
    for e, eff in enumerate(core.effects):
        if eff.kind == "interaction" and len(okp):
            out.est[okp, e] = product.theta[okp, eff.index]
            out.se[okp, e] = [robust_se(pm.matrix_model, product.theta[r], pdata[r], product.vcov[r], eff.index)
                              for r in okp]
            out.sig[okp, e], out.cov[okp, e] = _wald(out.est[okp, e], out.se[okp, e], eff, *z)
    return product.converged, product.admissible


def _wald(x: np.ndarray, s: np.ndarray, eff: Effect, z_crit: float, z95: float) -> tuple[np.ndarray, np.ndarray]:
    """Wald test in the effect's direction, and whether est ± 1.96·SE covers the population value."""
    return _directional(x - z_crit * s, x + z_crit * s, eff.direction), np.abs(x - eff.population) <= z95 * s
