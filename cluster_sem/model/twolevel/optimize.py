"""Maximise the two-level log-likelihood and take its observed information.

Correctness first: the gradient and Hessian are central finite differences of the exact log-likelihood
(the model has tens of parameters and the likelihood costs one small inverse per distinct cluster size, so
this is cheap).  BFGS gets close; Newton steps on the numerical Hessian then polish to a gradient norm far
below what lavaan's nlminb stops at, so estimates agree to the digits lavaan prints.  lavaan's observed
information for two-level ML is also a numerical Hessian (``lav_model_hessian``, information = "observed").
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from ...errors import FitError


def _gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences; with f = −logl/N of order 1, h = 1e-5 balances truncation and rounding (~1e-10)."""
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Hessian by central second differences of f (4 evaluations per pair, about 2q² in all): with f of
    order 1 the rounding error is ~1e-8 and the truncation error ~h², far below the 1e-4 relative
    agreement asked of the standard errors."""
    q = len(x)
    out = np.empty((q, q))
    steps = np.eye(q) * h
    for i in range(q):
        for j in range(i, q):
            ei, ej = steps[i], steps[j]
            out[i, j] = out[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return out


def maximise(loglik: Callable[[np.ndarray], float], start: np.ndarray, n: int, *, newton_steps: int = 10,
             gtol: float = 1e-9, xtol: float = 1e-8) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """(θ̂, Hessian of −logl at θ̂, iterations, converged) maximising ``loglik``.

    The objective is −logl/N as in lavaan.  BFGS brings θ near the optimum; Newton steps on the numerical
    Hessian then polish until the gradient is at its rounding floor (~2e-10 for an objective of order 1)
    or the step is below ``xtol`` — tighter than lavaan's nlminb, whose solution sits ~1e-6 below the
    maximum log-likelihood (so estimates differ from lavaan's in the 5th decimal where the likelihood is
    flat, with ours at the higher log-likelihood).
    """
    def f(x: np.ndarray) -> float:
        value = loglik(x)
        return 1e10 if not np.isfinite(value) else -value / n

    if not np.isfinite(loglik(start)):
        raise FitError("two-level model: the start values imply a non-positive-definite covariance matrix. "
                       "Fix: check that each level's constructs have at least two indicators")
    res = minimize(f, start, jac=lambda x: _gradient(f, x), method="BFGS", options={"gtol": 1e-7, "maxiter": 5000})
    x, iterations, converged = res.x, int(res.nit), False
    H = hessian(f, x)
    for _ in range(newton_steps):
        g = _gradient(f, x)
        if np.max(np.abs(g)) < gtol:
            converged = True
            break
        step = np.linalg.solve(H, g)
        t = 1.0
        while f(x - t * step) > f(x) + 1e-13 and t > 1e-3:
            t /= 2
        x = x - t * step
        iterations += 1
        if np.max(np.abs(t * step)) < xtol:
            converged = True
            break
        H = hessian(f, x)
    return x, H * n, iterations, converged
