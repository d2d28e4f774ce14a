"""The PLS path-modelling algorithm (Wold 1982; Lohmöller 1989), batched over correlation matrices.

With standardised indicators every step of the algorithm is a function of the items' correlation matrix
S: construct scores Y = Z·W have covariance W'SW, an outer mode-A update cov(Z, Ỹ) is S·W·E (E the inner
weights), a mode-B update solves S_bb.  So the algorithm runs on S alone, and a stack of R correlation
matrices (the bootstrap's resamples) is estimated in one pass of array operations.  Each replicate stops at
its own iteration, by seminr's rule (sum of |Δw| < 10⁻⁷, at most 300 iterations), so a replicate's
numbers equal a single fit of that sample.

Conventions are seminr 2.3.1's (``simplePLS``): unit starting weights; scores standardised with the sd
(n − 1) in every step; path weighting = regression weights for a construct's predictors and correlations
for its successors; weights rescaled so each score has unit variance; loadings = cov(item, score).
No sign correction is applied (seminr applies none, in the fit or the bootstrap).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import PathModel

MAX_ITER = 300          # seminr maxIt
TOLERANCE = 1e-7        # seminr stopCriterion = 7 → 10^-7
SCHEMES = ("path", "factorial", "centroid")


@dataclass(frozen=True)
class OuterSolution:
    """The estimated outer model of R replicates: weights and loadings (R, p, K), score covariance (R, K, K)
    (= correlations: scores have unit variance), iterations (R,) and whether each replicate converged."""

    weights: np.ndarray
    loadings: np.ndarray
    score_cov: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def correlations(data: np.ndarray) -> np.ndarray:
    """Correlation matrices of (…, n, p) data with the n − 1 divisor (R's ``cor``); NaN where an item has
    no variance (seminr stops there: "zero variance items cannot be scaled")."""
    x = data - data.mean(axis=-2, keepdims=True)
    cov = np.swapaxes(x, -1, -2) @ x / (data.shape[-2] - 1)
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return cov / (sd[..., :, None] * sd[..., None, :])


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``np.linalg.solve`` that gives NaN for a singular or non-finite replicate instead of failing
    the whole batch (a bootstrap resample can be degenerate; seminr drops such resamples)."""
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        out = np.full(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], np.nan)
        for r in np.ndindex(out.shape[:-2]):
            try:
                out[r] = np.linalg.solve(a[r] if a.ndim > 2 else a, b[r] if b.ndim > 2 else b)
            except np.linalg.LinAlgError:
                pass
        return out


def inner_weights(cor: np.ndarray, model: PathModel, scheme: str) -> np.ndarray:
    """Inner weights E (R, K, K): the proxy of construct j is Σ_i Y_i·E[i, j].

    path (seminr ``path_weighting``): E[i, j] = the regression weight of predictor i when j is regressed on
    all its predictors, and E[i, j] = cor(i, j) when i is a successor of j; factorial: cor(i, j) for every
    neighbour; centroid: sign(cor(i, j)).
    """
    adj = model.adjacency()
    if scheme == "factorial":
        return cor * (adj + adj.T)
    if scheme == "centroid":
        return np.sign(cor) * (adj + adj.T)
    if scheme != "path":
        raise ValueError(f"unknown inner weighting scheme {scheme!r} ({', '.join(SCHEMES)})")
    return _regressions(cor * adj.T, cor, model)   # predecessors: regression weights; successors: correlations


def _outer_update(S: np.ndarray, W: np.ndarray, SW: np.ndarray, model: PathModel, mask: np.ndarray,
                  scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """One outer step: standardised scores → inner proxies → new weights, rescaled to unit score variance.
    Takes and returns S·W with W, so each step costs one (p × p)·(p × K) product per replicate."""
    var = np.einsum("rpk,rpk->rk", W, SW)
    sd = np.sqrt(var)
    cor = np.swapaxes(W, 1, 2) @ SW / (sd[:, :, None] * sd[:, None, :])
    E = inner_weights(cor, model, scheme)
    proxy_sd = np.sqrt(np.einsum("rik,rij,rjk->rk", E, cor, E))
    G = (SW / sd[:, None, :]) @ E / proxy_sd[:, None, :]        # cov(item, standardised proxy)
    new = np.where(mask, G, 0.0)
    for k, mode in enumerate(model.modes):
        if mode == "B":
            idx = model.item_index(model.constructs[k])
            new[:, idx, k] = solve(S[:, idx][:, :, idx], G[:, idx, k][..., None])[..., 0]
    S_new = S @ new
    scale = np.sqrt(np.einsum("rpk,rpk->rk", new, S_new))[:, None, :]
    return new / scale, S_new / scale


def estimate_outer(S: np.ndarray, model: PathModel, *, scheme: str = "path", max_iter: int = MAX_ITER,
                   tol: float = TOLERANCE) -> OuterSolution:
    """Iterate the outer weights of every replicate in ``S`` (R, p, p) to seminr's stopping rule.

    seminr counts ``for (iterations in 0:maxIt)`` and breaks when Σ|w − w_last| < tol, so ``iterations`` is
    the 0-based index of the step that met the rule (max_iter when none did).  Replicates that have stopped
    leave the working set (their weights are final), so later steps only touch the ones still iterating.
    """
    R = S.shape[0]
    mask = model.mask()
    W = np.broadcast_to(mask.astype(float), (R,) + mask.shape).copy()
    iterations = np.full(R, max_iter)
    converged = np.zeros(R, dtype=bool)
    active = np.flatnonzero(np.isfinite(S).all(axis=(1, 2)))
    W[np.setdiff1d(np.arange(R), active)] = np.nan
    S_a, W_a = S[active], W[active]
    SW_a = S_a @ W_a
    for it in range(max_iter + 1):
        if active.size == 0:
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            new, SW_new = _outer_update(S_a, W_a, SW_a, model, mask, scheme)
        diff = np.abs(new - W_a).sum(axis=(1, 2))
        W[active] = new
        iterations[active] = it
        done, bad = diff < tol, ~np.isfinite(diff)
        converged[active[done]] = True
        W[active[bad]] = np.nan
        keep = ~done & ~bad
        if keep.all():
            W_a, SW_a = new, SW_new
        else:
            active, S_a, W_a, SW_a = active[keep], S_a[keep], new[keep], SW_new[keep]
    SW = S @ W
    loadings = np.where(mask, SW, 0.0)
    score_cov = np.swapaxes(W, 1, 2) @ SW
    return OuterSolution(W, loadings, score_cov, iterations, converged)


def path_coefficients(cor: np.ndarray, model: PathModel) -> np.ndarray:
    """(R, K, K) OLS path coefficients B[from, to] from construct correlations (seminr
    ``estimate_path_coef``, and PLSc's regression on the disattenuated correlations)."""
    return _regressions(np.zeros(cor.shape), cor, model)


def _regressions(out: np.ndarray, cor: np.ndarray, model: PathModel) -> np.ndarray:
    """``out`` with out[:, predictors, target] = the OLS coefficients of every endogenous construct on its
    predictors (from the correlations): the path scheme's inner weights and the path coefficients alike."""
    for target in model.endogenous():
        j = model.index(target)
        src = [model.index(s) for s in model.predictors(target)]
        out[:, src, j] = solve(cor[:, src][:, :, src], cor[:, src, j][..., None])[..., 0]
    return out


def r_squared(cor: np.ndarray, model: PathModel) -> np.ndarray:
    """(R, K) R² of every endogenous construct (NaN elsewhere): c'R⁻¹c from the correlations (seminr
    ``calc_insample``)."""
    out = np.full(cor.shape[:2], np.nan)
    for dst in model.endogenous():
        j = model.index(dst)
        src = [model.index(s) for s in model.predictors(dst)]
        c = cor[:, src, j][..., None]
        out[:, j] = (np.swapaxes(c, 1, 2) @ solve(cor[:, src][:, :, src], c))[:, 0, 0]
    return out


def total_effects(B: np.ndarray) -> np.ndarray:
    """(R, K, K) total effects T[from, to] = B + B² + … (the model is recursive, so the series ends)."""
    total = B.copy()
    power = B.copy()
    for _ in range(B.shape[-1]):
        power = power @ B
        if not np.any(power):
            break
        total = total + power
    return total
