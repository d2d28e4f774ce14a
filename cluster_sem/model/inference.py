"""Standard errors, standardized solution and defined (``:=``) parameters in lavaan's conventions.

* SEs: ``se = "standard"``, ``information = "expected"``: vcov = (N · I₁)⁻¹ with the per-case expected
  information I₁ = ½ Δ'(Σ⁻¹⊗Σ⁻¹)Δ (N, not N − 1, as lavaan does for ``likelihood = "normal"``).
* ``std.all`` as ``standardizedSolution()``: loadings and regressions rescaled by model-implied SDs;
  variances divided by total variances; covariances between residuals divided by the residual SDs
  (``cov.std = TRUE``), i.e. reported as residual correlations.
* ``:=`` parameters: value of the expression; delta-method SE with a central-difference gradient;
  ``std.all`` is the expression evaluated on the standardized parameters (lavaan's rule).  Their rows are
  built by ``defined_rows`` for every estimator (single group, multigroup, WLSMV).
"""
from __future__ import annotations

import ast
import functools
import operator

import numpy as np

from .matrices import MatrixModel, latent_moments
from .partable import ParTable

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: operator.pow}


@functools.lru_cache(maxsize=256)
def _parse(expression: str) -> ast.Expression:
    return ast.parse(expression.replace("^", "**"), mode="eval")


def evaluate_expression(expression: str, values: dict):
    """Evaluate a ``:=`` right-hand side (labels, numbers, + − * / ^, parentheses) without ``eval``.

    Values may be floats or numpy arrays (one entry per bootstrap replicate): the result has their shape.
    """
    tree = _parse(expression)

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -walk(node.operand) if isinstance(node.op, ast.USub) else walk(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise KeyError(node.id)
            return values[node.id]
        raise ValueError(f"unsupported element in defined parameter '{expression}'")

    return walk(tree)


def label_values(pt: ParTable, theta: np.ndarray) -> dict:
    """Label → value; ``theta`` is (q,) or (R, q) for R replicates."""
    return {label: theta[..., i] for i, label in enumerate(pt.free_labels) if label}


def vcov_expected(mm: MatrixModel, theta: np.ndarray, S: np.ndarray, n: int) -> np.ndarray:
    """Inverse expected information; NaN-filled when singular (not identified)."""
    from .vcov import vcov_from_hessian
    return vcov_from_hessian(mm.expected_hessian(theta, S), n)  # H = 2 · I₁


def defined_values(pt: ParTable, theta: np.ndarray) -> np.ndarray:
    """Defined parameters: shape (d,) for one θ, (R, d) for R replicates."""
    return defined_from_labels(pt, label_values(pt, theta), theta.shape[:-1])


def defined_from_labels(pt: ParTable, values: dict, shape: tuple = ()) -> np.ndarray:
    """Defined parameters from label values of any common shape (e.g. (R, D) Monte Carlo draws of the
    labelled parameters only, without materialising full θ vectors); returns shape + (d,)."""
    values = dict(values)
    out = []
    for row in pt.defined:
        v = evaluate_expression(row.rhs, values) * np.ones(shape)
        values[row.lhs] = v  # later definitions may use earlier ones, as in lavaan
        out.append(v)
    return np.stack(out, axis=-1) if out else np.zeros(tuple(shape) + (0,))


def defined_gradient(pt: ParTable, theta: np.ndarray) -> np.ndarray:
    """Jacobian (n_defined × q) of the defined parameters, central differences (lavaan uses the same).

    ``theta`` may also be (R, q): then the result is (R, n_defined, q), one Jacobian per replicate.  All
    2q evaluation points of every replicate go through ``defined_values`` at once.
    """
    theta = np.asarray(theta, dtype=float)
    q = theta.shape[-1]
    h = 1e-6 * np.maximum(1.0, np.abs(theta))                  # (..., q)
    steps = h[..., :, None] * np.eye(q)                        # (..., q, q): row k moves θ_k
    up = defined_values(pt, theta[..., None, :] + steps)       # (..., q, d)
    dn = defined_values(pt, theta[..., None, :] - steps)
    return np.swapaxes((up - dn) / (2 * h[..., :, None]), -1, -2)


def defined_rows(pt: ParTable, theta: np.ndarray, vcov: np.ndarray, std: np.ndarray | None = None) -> list[list]:
    """The ``:=`` rows of a parameter table: [lhs, ":=", rhs, label (= lhs), est, se, z, pvalue, std.all].

    ``se`` is the delta-method SE √(J V J') with ``J`` = ``defined_gradient``; ``std`` the rows' std.all
    (``standardized_defined``), NaN when not given.  A negative J V J' diagonal (round-off, or a ``V`` that
    is not positive semi-definite) gives an NA SE, not 0: lavaan's ``lav_model_vcov_se`` sets those
    variances to NA before the square root.
    """
    from .fitted import pvalue
    if not pt.defined:
        return []
    dval = defined_values(pt, theta)
    jac = defined_gradient(pt, theta)
    var = np.einsum("ik,kl,il->i", jac, vcov, jac)
    dse = np.sqrt(np.where(var >= 0, var, np.nan))
    dstd = np.full(len(pt.defined), np.nan) if std is None else std
    rows = []
    for row, v, s, st in zip(pt.defined, dval, dse, dstd):
        z = v / s if s > 0 else None
        rows.append([row.lhs, ":=", row.rhs, row.lhs, float(v), float(s), z, pvalue(z), float(st)])
    return rows


def standardized(pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``std.all`` for every row of the parameter table (same order as ``pt.params``)."""
    return estimates(pt, theta, S, mm) * standardization_factors(pt, mm, theta, S)


def standardization_factors(pt: ParTable, mm: MatrixModel, theta: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Per row, the factor that turns a value of that row into lavaan's ``std.all`` metric at ``theta``.

    Why separate: ``std.all`` is linear in a row's own value, so the same factors standardize values that
    are not estimates — the expected parameter changes of ``modindices()`` (``sepc.all``).  Residual
    covariances are divided by the residual SDs (lavaan's ``cov.std = TRUE``); NaN where one is ≤ 0."""
    lam, beta, psi, th = (x[0] for x in mm.matrices(theta[None], S[None]))
    _, M, sigma = latent_moments(lam, beta, psi, th)
    sd_eta = np.sqrt(np.clip(np.diag(M), 1e-300, None))
    sd_ov = np.sqrt(np.clip(np.diag(sigma), 1e-300, None))
    ie = {v: i for i, v in enumerate(mm.eta)}
    io = {v: i for i, v in enumerate(mm.ov)}

    def sd(v):
        return sd_eta[ie[v]] if v in ie else sd_ov[io[v]]

    def resid_var(v):
        if v in ie:
            return psi[ie[v], ie[v]]
        return th[io[v], io[v]]

    out = np.empty(len(pt.params))
    for r, p in enumerate(pt.params):
        if p.op == "=~":
            out[r] = sd(p.lhs) / sd(p.rhs)
        elif p.op == "~":
            out[r] = sd(p.rhs) / sd(p.lhs)
        elif p.lhs == p.rhs:
            out[r] = 1.0 / sd(p.lhs) ** 2
        else:
            denom = np.sqrt(resid_var(p.lhs) * resid_var(p.rhs))
            out[r] = 1.0 / denom if denom > 0 else np.nan
    return out


def estimates(pt: ParTable, theta: np.ndarray, S: np.ndarray, mm: MatrixModel) -> np.ndarray:
    """Value of every row of the parameter table (free, fixed and fixed.x)."""
    io = {v: i for i, v in enumerate(mm.ov)}
    out = np.empty(len(pt.params))
    for r, p in enumerate(pt.params):
        if p.free >= 0:
            out[r] = theta[p.free]
        elif p.exo:
            out[r] = S[io[p.lhs], io[p.rhs]]
        else:
            out[r] = p.value
    return out


def standardized_defined(pt: ParTable, std_rows: np.ndarray) -> np.ndarray:
    values = {p.label: std_rows[r] for r, p in enumerate(pt.params) if p.label}
    out = []
    for row in pt.defined:
        v = evaluate_expression(row.rhs, values)
        values[row.lhs] = v
        out.append(v)
    return np.array(out)
