"""A PLS or PLSc estimate of R correlation matrices at once: outer model, PLSc correction, inner model,
construct reliabilities.  One function serves the single fit (R = 1) and every bootstrap block.

PLSc (Dijkstra & Henseler 2015, as seminr ``PLSc``): each common-factor construct's reliability ρ_A
(``rho_a``) disattenuates the score correlations, r*_ij = r_ij / √(ρ_A,i ρ_A,j); paths and R² are OLS on
those corrected correlations, and a reflective construct's loadings become w·√ρ_A / (w'w).  Composites
(mode B, and every construct in plain PLS) keep ρ_A = 1 in the correction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .algorithm import MAX_ITER, TOLERANCE, estimate_outer, path_coefficients, r_squared, total_effects
from .model import PathModel


@dataclass(frozen=True)
class Estimates:
    """Arrays of R replicates: weights, loadings (R, p, K); construct correlations used by the inner model
    (R, K, K; corrected for PLSc) and those of the scores themselves; paths and total effects B[from, to]
    (R, K, K); R² (R, K); ρ_A (R, K)."""

    weights: np.ndarray
    loadings: np.ndarray
    cor: np.ndarray
    score_cor: np.ndarray
    paths: np.ndarray
    total: np.ndarray
    r2: np.ndarray
    rho_a: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def rho_a(S: np.ndarray, W: np.ndarray, model: PathModel) -> np.ndarray:
    """(R, K) Dijkstra–Henseler ρ_A = (w'w)² · w'(S − diag S)w / w'(ww' − diag(w²))w (seminr
    ``compute_construct_rhoA``); 1 for mode-B and single-item constructs."""
    out = np.ones(W.shape[0:1] + (model.k,))
    for k, c in enumerate(model.constructs):
        idx = model.item_index(c)
        if model.modes[k] == "B" or idx.size == 1:
            continue
        w = W[:, idx, k]
        s = S[:, idx][:, :, idx]
        ww = np.einsum("rp,rp->r", w, w)
        off = np.einsum("rp,rpq,rq->r", w, s, w) - np.einsum("rp,rp,rpp->r", w, w, s)
        out[:, k] = ww ** 2 * off / (ww ** 2 - np.einsum("rp->r", w ** 4))
    return out


def estimate(S: np.ndarray, model: PathModel, *, consistent: bool = False, scheme: str = "path",
             max_iter: int = MAX_ITER, tol: float = TOLERANCE) -> Estimates:
    """PLS (``consistent=False``) or PLSc estimates of every correlation matrix in S (R, p, p)."""
    outer = estimate_outer(S, model, scheme=scheme, max_iter=max_iter, tol=tol)
    d = np.sqrt(np.diagonal(outer.score_cov, axis1=1, axis2=2))
    cor = score_cor = outer.score_cov / (d[:, :, None] * d[:, None, :])
    rho = rho_a(S, outer.weights, model)
    loadings = outer.loadings
    if consistent:
        factor = np.array(model.reflective) & (np.array(model.modes) == "A")
        rho_used = np.where(factor, rho, 1.0)
        adj = np.sqrt(rho_used[:, :, None] * rho_used[:, None, :])
        adj[:, np.arange(model.k), np.arange(model.k)] = 1.0
        cor = cor / adj
        plain = np.array([c in model.plain_loadings for c in model.constructs], dtype=bool)
        loadings = _consistent_loadings(outer.weights, loadings, rho, factor & ~plain)
        paths = path_coefficients(cor, model)
    else:
        paths = path_coefficients(outer.score_cov, model)   # seminr regresses on the scores themselves
    return Estimates(outer.weights, loadings, cor, score_cor, paths, total_effects(paths), r_squared(cor, model), rho,
                     outer.iterations, outer.converged)


def _consistent_loadings(W: np.ndarray, loadings: np.ndarray, rho: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """PLSc loadings of the common factors: w·√ρ_A / (w'w) (seminr ``PLSc``'s ``adjust_loadings``)."""
    ww = np.einsum("rpk,rpk->rk", W, W)
    corrected = W * (np.sqrt(rho) / ww)[:, None, :]
    return np.where(factor[None, None, :], corrected, loadings)
