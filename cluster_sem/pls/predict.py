"""PLSpredict (Shmueli et al. 2016, 2019) with seminr's ``predict_pls`` conventions: K-fold
cross-validated predictions of the endogenous constructs' items, against a linear-model benchmark.

* Rows are shuffled once by a permutation drawn from ``SeedSequence(seed)`` and cut into K contiguous
  folds of near-equal size (R's ``cut(seq(1, n), breaks = K)``).
* Each training fold is fitted (the same variant: PLS or PLSc); a test row is standardised with the
  training means and SDs, its construct scores are Z·W, the *direct antecedent* prediction of each
  endogenous construct is Σ β·score of its predictors (seminr ``predict_DA``; exogenous scores kept),
  items are scores·λ', then un-standardised.
* LM benchmark (seminr 2.3's ``generate_lm_predictions`` with ``predict_DA``): each item of an endogenous
  construct regressed (OLS with intercept, training fold) on the items of the construct's direct
  antecedents.
* Per item: RMSE and MAE of the out-of-sample residuals for PLS and LM, and Q²_predict =
  1 − SSE(PLS) / SSE(training-fold mean) (Shmueli et al. 2019).  Per endogenous construct, Hair et al.'s
  (2022) reading: PLS RMSE below LM's for all items = high, a majority = medium, a minority = low,
  none = no predictive power.
Refused for second-order constructs (repeated indicators would predict items from themselves; seminr
refuses higher-order models too).
"""
from __future__ import annotations

import numpy as np

from ..rng import generator
from .algorithm import correlations
from .estimate import estimate
from .model import PathModel


def shuffle(n: int, seed: int) -> np.ndarray:
    """The row order PLSpredict cuts into folds: a permutation drawn from the seed's root stream (``rng.generator``)."""
    return generator(seed).permutation(n)


def folds(order: np.ndarray, k: int) -> np.ndarray:
    """(n,) fold number (0..k-1) of every row: row ``order[i]`` sits at position i, and positions are cut as
    R's ``cut(seq(1, n), breaks = k)``."""
    n = len(order)
    position = np.arange(n)
    edges = np.linspace(0, n - 1, k + 1)                          # cut() breaks over 1..n, equal widths
    label = np.minimum(np.searchsorted(edges[1:], position, side="left"), k - 1)   # intervals (a, b]
    out = np.empty(n, dtype=int)
    out[order] = label
    return out


def _targets(model: PathModel) -> list[str]:
    """Endogenous constructs of the structural model (targets of structural or control paths)."""
    return [c for c in model.endogenous()]


def _pls_predictions(train: np.ndarray, test: np.ndarray, model: PathModel, consistent: bool, scheme: str) -> np.ndarray:
    """(n_test, p) item predictions of the test rows from a model fitted to the training rows."""
    est = estimate(correlations(train)[None], model, consistent=consistent, scheme=scheme)
    mean, sd = train.mean(axis=0), train.std(axis=0, ddof=1)
    scores = ((test - mean) / sd) @ est.weights[0]
    predicted = scores @ est.paths[0]
    exogenous = [model.index(c) for c in model.constructs if c not in model.endogenous()]
    predicted[:, exogenous] = scores[:, exogenous]
    return (predicted @ est.loadings[0].T) * sd + mean


def _lm_predictions(train: np.ndarray, test: np.ndarray, model: PathModel, construct: str) -> np.ndarray:
    """(n_test, items of construct): OLS of each item on the items of the construct's direct antecedents."""
    own = model.item_index(construct)
    other = np.concatenate([model.item_index(c) for c in model.predictors(construct)])
    design = np.column_stack([np.ones(len(train)), train[:, other]])
    coef, *_ = np.linalg.lstsq(design, train[:, own], rcond=None)
    return np.column_stack([np.ones(len(test)), test[:, other]]) @ coef


def pls_predict(X: np.ndarray, model: PathModel, *, k: int, order: np.ndarray, consistent: bool,
                scheme: str) -> dict:
    """The ``predict`` block: per item Q²_predict, RMSE and MAE of PLS and LM; per construct the verdict.
    ``order``: the shuffled row order cut into ``k`` folds (``shuffle(n, seed)``)."""
    n = X.shape[0]
    fold = folds(order, k)
    pls_hat = np.empty_like(X)
    naive = np.empty_like(X)
    targets = _targets(model)
    lm_hat = {c: np.empty((n, len(model.blocks[model.index(c)]))) for c in targets}
    for f in range(k):
        test, train = fold == f, fold != f
        pls_hat[test] = _pls_predictions(X[train], X[test], model, consistent, scheme)
        naive[test] = X[train].mean(axis=0)
        for c in targets:
            lm_hat[c][test] = _lm_predictions(X[train], X[test], model, c)
    items, constructs = [], []
    for c in targets:
        idx = model.item_index(c)
        better = 0
        for j, i in enumerate(idx):
            e_pls, e_lm, e_naive = X[:, i] - pls_hat[:, i], X[:, i] - lm_hat[c][:, j], X[:, i] - naive[:, i]
            row = {"construct": c, "item": model.items[i],
                   "q2_predict": float(1 - np.sum(e_pls ** 2) / np.sum(e_naive ** 2)),
                   "pls_rmse": float(np.sqrt(np.mean(e_pls ** 2))), "pls_mae": float(np.mean(np.abs(e_pls))),
                   "lm_rmse": float(np.sqrt(np.mean(e_lm ** 2))), "lm_mae": float(np.mean(np.abs(e_lm)))}
            better += row["pls_rmse"] < row["lm_rmse"]
            items.append(row)
        constructs.append({"construct": c, "items": int(idx.size), "pls_better_rmse": int(better),
                           "power": _power(better, idx.size)})
    return {"folds": k, "technique": "direct_antecedent",
            "benchmark": "linear model of each item on the items of its construct's direct antecedents", "items": items,
            "constructs": constructs}


def _power(better: int, total: int) -> str:
    """Hair et al. (2022): PLS beats LM on RMSE for all / most / a minority / none of a construct's items."""
    if better == total:
        return "high"
    if better > total / 2:
        return "medium"
    return "low" if better > 0 else "none"
