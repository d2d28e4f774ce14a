"""The spec's interaction model, fitted by any ``--interaction-method``, and a method-neutral view of it.

Model layer only (spec in, arrays and rows out): ``interaction_syntax`` writes the model, ``product_label``
names its product coefficients, ``fit_interaction_model`` fits it by LMS, QML or dblcent and returns a
``FittedInteraction``.  The moderation stage of ``cluster-sem fit`` (``cluster_sem.analyses.moderation``)
and the power engine's interaction checks (``power/interaction.py``) build on these.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import ClusterSemError
from ...spec.schema import Spec
from ...spec.syntax import structural_syntax
from . import METHODS, check_interaction_method
from .moderation import Coefficients


def product_label(name: str, to: str) -> str:
    """The label of interaction ``name``'s product coefficient on ``to`` (fit, hypotheses and power share it)."""
    return f"b_{name}_{to}"


def interaction_syntax(spec: Spec) -> str:
    """The spec's structural model (no ``:=`` lines) plus one labelled product term per outcome."""
    lines = [structural_syntax(spec, with_defined=False).rstrip("\n")]
    for it in spec.interactions:
        for to in it.outcomes:
            lines.append(f"{to} ~ {product_label(it.name, to)}*{it.between[0]}:{it.between[1]}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class FittedInteraction:
    """Method-neutral view of a fitted interaction model: parameter rows, loglik, coefficient lookup."""

    method: str
    parameters: pd.DataFrame
    fit: dict
    loglik: float
    theta: np.ndarray
    vcov: np.ndarray
    free: dict            # (lhs, op, rhs) -> free index
    latent_cov: pd.DataFrame
    converged: bool
    warnings: tuple[str, ...]

    def coefficients(self, keys: list[tuple[str, str, str]]) -> Coefficients:
        idx = [self.free[k] for k in keys]
        return Coefficients(tuple("|".join(k) for k in keys), self.theta[idx], self.vcov[np.ix_(idx, idx)])


def _from_interaction_fit(fit) -> FittedInteraction:
    free = {(r.lhs, r.op, r.rhs): r.free for r in fit.model.rows if r.free >= 0}
    return FittedInteraction(fit.method, fit.parameters, fit.fit, fit.loglik, fit.theta, fit.vcov, free,
                             fit.latent_cov, fit.converged, fit.problems)


def _from_dblcent(fit, products) -> FittedInteraction:
    names = {(p.interaction.outcome, p.factor): p.interaction.term for p in products}
    free = {}
    for p in fit.partable.params:
        if p.free >= 0:
            rhs = names.get((p.lhs, p.rhs), p.rhs) if p.op == "~" else p.rhs
            free[(p.lhs, p.op, rhs)] = p.free
    lam, beta, psi, _ = (x[0] for x in fit.matrix_model.matrices(fit.theta[None], fit.sample_cov[None]))
    A = np.linalg.inv(np.eye(fit.matrix_model.m) - beta)
    eta = list(fit.matrix_model.eta)
    cov = pd.DataFrame(A @ psi @ A.T, index=eta, columns=eta)
    return FittedInteraction("dblcent", fit.parameters, fit.fit, fit.fit["loglik"], fit.theta, fit.vcov, free,
                             cov, fit.converged, fit.problems)


def fit_interaction_model(spec: Spec, frame: pd.DataFrame, method: str, fixed_zero: frozenset = frozenset(),
                          start=None, linear_fit=None, standard_errors: bool = True, jobs: int = 1
                          ) -> FittedInteraction:
    """Fit the spec's interaction model by ``method``; ``fixed_zero`` gives the H0 model of an LRT.

    ``jobs``: threads sharing LMS's likelihood evaluations (large samples; the numbers do not depend on it)."""
    syntax = interaction_syntax(spec)
    if method == "dblcent":
        from .dblcent import fit_dblcent
        fit, products = fit_dblcent(syntax, frame, pairs="matched", fixed_zero=fixed_zero)
        return _from_dblcent(fit, products)
    if method == "lms":
        from .lms import fit_lms
        return _from_interaction_fit(fit_lms(syntax, frame, products_fixed=set(fixed_zero) or False, start=start,
                                 linear_fit=linear_fit, standard_errors=standard_errors, workers=jobs))
    if method == "qml":
        from .qml import fit_qml
        return _from_interaction_fit(fit_qml(syntax, frame, products_fixed=set(fixed_zero) or False, start=start,
                                 linear_fit=linear_fit, standard_errors=standard_errors))
    check_interaction_method(method)
    raise ClusterSemError(f"--interaction-method '{method}' is not known. Fix: use one of {', '.join(METHODS)}")


__all__ = ["FittedInteraction", "fit_interaction_model", "interaction_syntax", "product_label"]
