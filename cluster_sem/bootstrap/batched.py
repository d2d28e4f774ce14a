"""Batched ML for bootstrap resamples: all replicates of a block are fitted together in numpy.

Why it is fast: every resample's solution is close to the full-sample θ̂, so we (1) compute all B
sample covariances with one BLAS call from resampling multiplicities, (2) warm-start at θ̂, (3) use the
analytic batched gradient of F_ML (``objective.BatchedObjective``, same formulas as
``MatrixModel.gradient``), and (4) take quasi-Newton steps whose metric starts as the inverse
full-sample expected Hessian (the first step is a Fisher-scoring step) and is refined per replicate by
BFGS — no q×q information matrix is ever formed per replicate.  Measured: the fixed metric alone
(constant-metric Fisher scoring) converges only linearly and needs > 100 iterations for 1e-9 at n = 128;
BFGS needs ~20–35.  Per-replicate backtracking keeps each step downhill and Σ positive definite.
Replicates are processed ~50 at a time (the cache sweet spot for numpy's stacked small-matrix calls).

Rule for non-convergence (one sentence, reported as ``BootstrapResult.rule``): see ``RULE``.
Inadmissible solutions (``model.admissibility``: the single fit's rule — negative variance, |standardized
loading| > 1 at either order, |r| > 1, non-positive-definite latent or residual covariance matrix) are
kept, as lavaan keeps them, and counted.

Exactness: converged means max|∂F/∂θ| < 1e-9 (F per case), which leaves estimates within ~1e-7 of a full
refit — tested in tests/test_bootstrap_exact.py.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..model.estimator import simple_start
from ..model.inference import defined_values
from ..model.admissibility import admissible  # noqa: F401  (the one rule; re-exported for the engines)
from ..model.matrices import MatrixModel
from ..model.partable import ParTable
from ..model.start import lavaan_start
from ..model.objective import BatchedObjective
from ..model.quasi_newton import batched_ml, batched_quasi_newton  # noqa: F401  (re-exported: the engine's solvers)

RULE = ("a resample counts as converged when max|dF/dtheta| < 1e-9 after batched quasi-Newton (BFGS) "
        "iterations from the full-sample estimates or, failing that, after up to 200 more BFGS iterations "
        "from the batched end point or from lavaan's default or simple start values; "
        "resamples that still fail (estimates running off to infinity: no finite ML solution) or whose "
        "sample covariance is singular are excluded from SEs and CIs, while inadmissible but converged "
        "solutions are kept, as lavaan does")


CHUNK = 50
MEMORY_BUDGET = 256 * 2 ** 20   # bytes of working arrays per block (weights, indices, products)


@dataclass(frozen=True)
class ModelCore:
    """What a worker needs to fit resamples (picklable; no semopy objects, no DataFrame)."""

    partable: ParTable
    matrix_model: MatrixModel
    data: np.ndarray            # n × p, columns in matrix_model.ov order
    theta_hat: np.ndarray
    metric_inv: np.ndarray      # inverse of the full-sample expected Hessian of F_ML
    tol: float = 1e-9
    max_iter: int = 100
    # semopy refit as the very last start: off by default (42-item example, B = 5000: it converged 2 of the
    # ~34 resamples left over, at ~0.5 s per attempt plus ~1.5 s to import semopy in every worker)
    semopy_fallback: bool = False


@dataclass(frozen=True)
class BlockResult:
    start: int                  # first replicate number of the block
    theta: np.ndarray           # (b, q)
    defined: np.ndarray         # (b, d)
    converged: np.ndarray       # (b,) bool
    admissible: np.ndarray      # (b,) bool
    fallback: np.ndarray        # (b,) bool: finished by the single-replicate fallback
    iterations: int


def make_core(fit, data, **kw) -> ModelCore:
    """ModelCore from a ModelFit and a DataFrame (or an n × p array already in ``mm.ov`` order)."""
    if getattr(fit, "group_model", None) is not None:
        raise ValueError("this bootstrap engine takes single-group covariance-structure fits; "
                         "multigroup/mean-structure fits use bootstrap.groups")
    mm = fit.matrix_model
    if hasattr(data, "columns"):
        missing = [v for v in mm.ov if v not in data.columns]
        if missing:
            raise ValueError(f"data has no column(s) {', '.join(missing)} used by the model")
        x = data[list(mm.ov)].to_numpy(dtype=float)
    else:
        x = np.asarray(data, dtype=float)
    if getattr(fit, "missing", "listwise") == "ml":
        from .fiml import make_fiml_core
        return make_fiml_core(fit, x)
    if np.isnan(x).any():
        raise ValueError("the bootstrap needs complete data (the same rows the model was fitted to)")
    if len(x) != fit.n:
        raise ValueError(f"data has {len(x)} rows but the model was fitted to n = {fit.n}")
    H = mm.expected_hessian(fit.theta, fit.sample_cov)
    try:
        metric_inv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        metric_inv = np.linalg.pinv(H)
    return ModelCore(fit.partable, mm, x, np.asarray(fit.theta, float), metric_inv, **kw)


def sample_covariances(data: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """ML covariance (divisor N) of every resample, shape (b, p, p), in one BLAS call.

    With multiplicities w_b (how often each row is drawn) S_b = Σ_i w_bi x_i x_i'/N − x̄_b x̄_b'; the data
    are centred at the full-sample mean first, which keeps the subtraction well conditioned.
    """
    return sample_moments(data, indices)[1]


def sample_moments(data: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(means (b, p), ML covariances (b, p, p)) of every resample (see ``sample_covariances``)."""
    n = indices.shape[1]
    w = draw_counts(indices, n)
    w /= n
    return weighted_moments(data, w)


def draw_counts(indices: np.ndarray, units: int) -> np.ndarray:
    """(b, units) multiplicities: how often each unit (row or cluster) is drawn in each resample."""
    b, n = indices.shape
    w = np.zeros((b, units))
    np.add.at(w, (np.repeat(np.arange(b), n), indices.ravel()), 1.0)
    return w


def weighted_moments(data: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(means (b, p), ML covariances (b, p, p)) of resamples given as row weights w (b, n), each row of w
    summing to 1: S_b = Σ_i w_bi x_i x_i' − x̄_b x̄_b' (one BLAS call, data centred at the full-sample mean)."""
    n, p = data.shape
    b = len(w)
    centre = data.mean(axis=0)
    x = data - centre
    outer = (x[:, :, None] * x[:, None, :]).reshape(n, p * p)
    mean = w @ x
    S = (w @ outer).reshape(b, p, p) - mean[:, :, None] * mean[:, None, :]
    return mean + centre, 0.5 * (S + np.swapaxes(S, 1, 2))


def needs_counts(n: int, p: int, b: int) -> bool:
    """Whether ``sample_covariances`` on a (b, n) block would exceed the memory budget (n·p² outer
    products, b·n weights and b·n int64 indices), so that ``count_covariances`` must be used instead."""
    return 8 * (n * p * p + 2 * b * n) > MEMORY_BUDGET


def count_covariances(data: np.ndarray, index_chunks) -> np.ndarray:
    """ML covariances of resamples from their multiplicities, in memory bounded by ``MEMORY_BUDGET``.

    ``index_chunks`` yields (first, indices (c, n)); each replicate's counts w (``bincount``) give
    S = X'diag(w)X/N − x̄_w x̄_w' with X centred at the full-sample mean, computed as (√w·X)'(√w·X) over row
    blocks — no resample matrix, no n × p² outer products.  Same statistic as ``sample_covariances``
    (equal up to rounding), used only when that one would not fit the budget.
    """
    n, p = data.shape
    x = data - data.mean(axis=0)
    rows = max(1024, MEMORY_BUDGET // (4 * 8 * p))
    out = []
    for _, chunk in index_chunks:
        for idx in chunk:
            w = np.bincount(idx, minlength=n) / n
            acc = np.zeros((p, p))
            mean = np.zeros(p)
            for lo in range(0, n, rows):
                xb, wb = x[lo:lo + rows], w[lo:lo + rows]
                xs = xb * np.sqrt(wb)[:, None]
                acc += xs.T @ xs
                mean += wb @ xb
            S = acc - np.outer(mean, mean)
            out.append(0.5 * (S + S.T))
    return np.asarray(out).reshape(-1, p, p)


def _semopy_start(pt: ParTable, mm: MatrixModel, data: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    try:
        import pandas as pd

        from ..model.semopy_backend import semopy_estimates
        frame = pd.DataFrame(data, columns=list(mm.ov))
        theta, note = semopy_estimates(pt, mm, frame, start)
        return None if note.startswith("semopy failed") else theta
    except Exception:  # noqa: BLE001 - any semopy failure just means this start is unavailable
        return None


def _rescue(pt: ParTable, mm: MatrixModel, S: np.ndarray, todo: np.ndarray, theta: np.ndarray,
            converged: np.ndarray, fallback: np.ndarray, start: np.ndarray, metric_inv: np.ndarray, *,
            tol: float, max_iter: int, data_of=None) -> None:
    """Second chances for the replicates ``todo`` the batched fit left unconverged (updates the arrays).

    In this order, each stage batched over the replicates still failing and bounded by ``max_iter`` BFGS
    iterations: (1) continue from where the batched fit stopped (a fresh metric: most failures are slow
    Heywood cases that converge within ~200 more iterations); (2) lavaan's default start values
    (``start.lavaan_start``, FABIN 3) and its "simple" start, side by side in one batched call, each with
    the inverse expected Hessian at its start as metric (the lower optimum wins) — they now and then find a
    finite optimum where the warm start runs off to a boundary at infinity; (3) only when ``data_of`` is
    given, a semopy refit as the very last resort (one at a time: ~0.5 s each plus ~1.5 s to import semopy
    once per process).  Measured on the 42-item example (B = 5000, seed 1; 52 resamples unconverged after
    the batched fit): (1) converges 14, (2) 4 more (all from the simple start), semopy 2 more; on PolDem
    resamples cold-started (tests/test_bootstrap_fallback.py) the simple start needs > 200 iterations
    where lavaan's default start converges, hence both.  Why not Fisher scoring, as before: one
    scoring iteration forms and solves the q × q expected information (~20 ms at q = 120), a BFGS
    iteration costs ~1 ms; 500 scoring iterations from each of three starts plus semopy made the fallback
    cost ~30 s per failing resample there.  Resamples whose estimates run off to infinity (no finite ML
    solution: a loading → ∞ with its factor variance → 0, or a residual variance → −∞, F still falling)
    stay unconverged and are excluded, as lavaan excludes non-converged bootstrap runs.
    """
    def attempt(rows: np.ndarray, starts: np.ndarray, metrics: np.ndarray):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return batched_ml(mm, S[rows], starts, metrics, tol=tol, max_iter=max_iter)[:2]

    if not len(todo):
        return
    # (1) continuation from the batched end point
    th, ok = attempt(todo, np.array([theta[r] if np.all(np.isfinite(theta[r])) else start for r in todo]),
                     np.repeat(metric_inv[None], len(todo), axis=0))
    theta[todo], converged[todo[ok]], fallback[todo[ok]] = th, True, True
    # (2) both cold starts in one batched call (cheaper than two calls for the few replicates of a block)
    todo = todo[~ok]
    if len(todo):
        rows = np.concatenate([todo, todo])
        starts = np.array([lavaan_start(pt, S[r]) for r in todo] + [simple_start(mm, S[r]) for r in todo])
        with np.errstate(all="ignore"):
            metrics = np.array([_inverse_metric(mm, st, S[r], metric_inv) for st, r in zip(starts, rows)])
        th, ok = attempt(rows, starts, metrics)
        with np.errstate(all="ignore"):
            f = np.where(ok, mm.gradient(th, S[rows])[0], np.inf)
        k = len(todo)
        pick = np.where(f[k:] < f[:k], np.arange(k, 2 * k), np.arange(k))   # the lower optimum; ties: lavaan's
        won = ok[pick]
        theta[todo[won]], converged[todo[won]], fallback[todo[won]] = th[pick[won]], True, True
        todo = todo[~won]
    for r in todo[~converged[todo]] if data_of is not None else ():
        st = _semopy_start(pt, mm, data_of(r), start)
        if st is None:
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            th, ok, _ = batched_ml(mm, S[r][None], st, _inverse_metric(mm, st, S[r], metric_inv), tol=tol,
                                   max_iter=max_iter)
        if ok[0]:
            theta[r], converged[r], fallback[r] = th[0], True, True


def _inverse_metric(mm: MatrixModel, theta: np.ndarray, S: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Inverse expected Hessian at ``theta`` (the BFGS start metric), or ``default`` where it is singular."""
    try:
        inv = np.linalg.inv(mm.expected_hessian(theta, S))
    except (np.linalg.LinAlgError, ValueError):
        return default
    return inv if np.all(np.isfinite(inv)) else default


def fit_covariances(pt: ParTable, mm: MatrixModel, S: np.ndarray, start: np.ndarray, metric_inv: np.ndarray, *,
                    tol: float = 1e-9, max_iter: int = 100, data_of=None, fallback_max_iter: int = 200
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """ML fits of many sample covariances S (R, p, p): batched first, then one-at-a-time for the failures.

    Shared by the bootstrap (resamples) and the power engine (simulated data sets).  ``data_of(r)``, when
    given, returns replicate r's raw rows (n × p) for a last-resort semopy start; ``fallback_max_iter``
    bounds the BFGS iterations of each fallback stage (``_rescue``; 0: no fallback at all).  Returns (theta
    with NaN rows where not converged, converged, admissible, fallback, iterations).
    """
    pd_ok = np.linalg.eigvalsh(S).min(axis=1) > 1e-12
    objective = BatchedObjective(mm)
    theta = np.empty((len(S), mm.n_free))
    converged = np.zeros(len(S), dtype=bool)
    iterations = 0
    for lo in range(0, len(S), CHUNK):   # ~50 replicates per numpy call is the cache sweet spot
        sl = slice(lo, lo + CHUNK)
        theta[sl], converged[sl], its = batched_ml(mm, S[sl], start, metric_inv, tol=tol, max_iter=max_iter,
                                                   objective=objective)
        iterations = max(iterations, its)
    converged &= pd_ok
    fallback = np.zeros(len(theta), dtype=bool)
    if fallback_max_iter > 0:
        _rescue(pt, mm, S, np.flatnonzero(~converged & pd_ok), theta, converged, fallback, start, metric_inv,
                tol=tol, max_iter=fallback_max_iter, data_of=data_of)
    theta[~converged] = np.nan
    ok = np.zeros(len(theta), dtype=bool)
    if converged.any():
        ok[converged] = admissible(pt, mm, theta[converged], S[converged])
    return theta, converged, ok, fallback, iterations


def fit_resamples(core: ModelCore, indices: np.ndarray, start: int = 0) -> BlockResult:
    """Fit the resamples given by ``indices`` (b, n): batched first, then the per-replicate fallback."""
    if hasattr(core, "fit_resamples"):          # other engines (FIML) bring their own
        return core.fit_resamples(indices, start)
    return fit_covariance_block(core, sample_covariances(core.data, indices), start, lambda r: indices[r])


def fit_covariance_block(core: ModelCore, S: np.ndarray, start: int, rows_of) -> BlockResult:
    """Fit resamples given by their covariances S (b, p, p); ``rows_of(r)`` gives replicate r's row indices
    (needed only by the semopy fallback, so large-n blocks regenerate them instead of keeping them)."""
    data_of = (lambda r: core.data[rows_of(r)]) if core.semopy_fallback else None
    theta, converged, ok, fallback, iterations = fit_covariances(
        core.partable, core.matrix_model, S, core.theta_hat, core.metric_inv, tol=core.tol,
        max_iter=core.max_iter, data_of=data_of)
    with np.errstate(all="ignore"):
        dvals = defined_values(core.partable, theta)
    return BlockResult(start, theta, dvals, converged, ok, fallback, iterations)
