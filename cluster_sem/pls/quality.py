"""Quality criteria of a PLS model in seminr's conventions (Hair et al. 2022, ch. 4 and 6).

* α: Cronbach's alpha of the standardised items (seminr computes it from the item correlations).
* ρ_C and AVE from the loadings the variant reports (PLSc: the corrected loadings); ρ_A from estimate.py.
  Single-item constructs get 1 for all four, as in seminr.
* HTMT (Henseler, Ringle & Sarstedt 2015): mean |r| between the two blocks over the geometric mean of the
  mean |r| within each block; batched over replicates, so the bootstrap gets its upper CI limit.
* VIF: outer = 1/(1 − R²) of each item on the other items of its block (diag of the inverse block
  correlation matrix); inner = the same among a construct's predictors from the correlations of the
  construct scores (seminr ``antecedent_vifs``; for PLSc too); 1 for a single predictor (seminr: NA).
* f² = (R²_incl − R²_excl) / (1 − R²_incl) with R²_excl from the model *re-estimated* without the path
  (seminr ``fSquared``; 0 when the outcome keeps no predictor).
"""
from __future__ import annotations

import numpy as np

from .model import PathModel


def alpha(S: np.ndarray, model: PathModel) -> dict[str, float]:
    """Standardised Cronbach's α of each construct's block from the item correlations S (p, p)."""
    out = {}
    for c in model.constructs:
        idx = model.item_index(c)
        k = idx.size
        block = S[np.ix_(idx, idx)]
        out[c] = 1.0 if k == 1 else float(k / (k - 1) * (1 - np.trace(block) / block.sum()))
    return out


def rho_c_ave(loadings: np.ndarray, model: PathModel) -> dict[str, tuple[float, float]]:
    """(ρ_C, AVE) of each construct from its loadings (p, K): (Σλ)² / ((Σλ)² + Σ(1 − λ²)) and mean λ²."""
    out = {}
    for k, c in enumerate(model.constructs):
        lam = loadings[model.item_index(c), k]
        if lam.size == 1:
            out[c] = (1.0, 1.0)
        else:
            s = lam.sum() ** 2
            out[c] = (float(s / (s + np.sum(1 - lam ** 2))), float(np.mean(lam ** 2)))
    return out


def htmt_pairs(model: PathModel, constructs: tuple[str, ...]) -> list[tuple[str, str]]:
    """The construct pairs HTMT is reported for: every pair in order, a before b."""
    return [(a, b) for i, a in enumerate(constructs) for b in constructs[i + 1:]]


def _mean_within(S: np.ndarray, idx: np.ndarray) -> np.ndarray:
    k = idx.size
    if k == 1:
        return np.ones(S.shape[0])
    block = np.abs(S[:, idx][:, :, idx])
    return (block.sum(axis=(1, 2)) - np.trace(block, axis1=1, axis2=2)) / (k * (k - 1))


def htmt(S: np.ndarray, model: PathModel, pairs: list[tuple[str, str]]) -> np.ndarray:
    """(R, pairs) HTMT of each pair for every correlation matrix in S (R, p, p)."""
    out = np.empty((S.shape[0], len(pairs)))
    within = {c: _mean_within(S, model.item_index(c)) for pair in pairs for c in pair}
    for j, (a, b) in enumerate(pairs):
        hetero = np.abs(S[:, model.item_index(a)][:, :, model.item_index(b)]).mean(axis=(1, 2))
        out[:, j] = hetero / np.sqrt(within[a] * within[b])
    return out


def _vif(cor: np.ndarray) -> np.ndarray:
    """VIFs from the inverse correlation matrix; a singular one (an item that is an exact linear function of
    the block's others, or fewer rows than items) has no finite VIF: null (NaN) instead of a LinAlgError traceback."""
    if cor.shape[0] == 1:
        return np.ones(1)
    try:
        return np.diag(np.linalg.inv(cor))
    except np.linalg.LinAlgError:
        return np.full(cor.shape[0], np.nan)


def outer_vif(S: np.ndarray, model: PathModel) -> dict[str, dict[str, float]]:
    """{construct: {item: VIF}} of each item on the other items of its block."""
    return {c: dict(zip(model.blocks[k], map(float, _vif(S[np.ix_(model.item_index(c), model.item_index(c))]))))
            for k, c in enumerate(model.constructs)}


def inner_vif(cor: np.ndarray, model: PathModel) -> dict[str, dict[str, float]]:
    """{outcome: {predictor: VIF}} among each endogenous construct's predictors (cor: (K, K))."""
    out = {}
    for target in model.endogenous():
        src = [model.index(s) for s in model.predictors(target)]
        out[target] = dict(zip(model.predictors(target), map(float, _vif(cor[np.ix_(src, src)]))))
    return out


def f_squared(S: np.ndarray, model: PathModel, r2: np.ndarray, *, consistent: bool,
              scheme: str) -> dict[tuple[str, str], float]:
    """{(from, to): f²}: each path dropped and the model (PLS or PLSc) estimated again on S (p, p); ``r2``
    (K,) the full model's R²."""
    from .estimate import estimate
    out = {}
    for src, dst, _ in model.paths:
        reduced = model.without(src, dst)
        if reduced.predictors(dst):
            idx = [model.items.index(i) for i in reduced.items]
            fit = estimate(S[np.ix_(idx, idx)][None], reduced, consistent=consistent, scheme=scheme)
            excluded = fit.r2[0, reduced.index(dst)]
        else:
            excluded = 0.0
        full = r2[model.index(dst)]
        out[(src, dst)] = float((full - excluded) / (1 - full))
    return out


def adjusted_r2(r2: float, n: int, predictors: int) -> float:
    """1 − (1 − R²)(n − 1)/(n − k − 1), seminr's ``AdjRsq``."""
    return 1 - (1 - r2) * (n - 1) / (n - predictors - 1)
