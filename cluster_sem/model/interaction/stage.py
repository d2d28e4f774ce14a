"""The moderation stage of ``cluster-sem fit``: the spec's ``interactions`` → interaction model → records.

What it adds to results.json (contract §4): ``moderation`` (one record per interaction and outcome) and
``interaction_model`` (the fitted model with the product rows, its log-likelihood, npar, AIC, BIC).  The
``structural_model`` block stays the linear model of the spec's paths, so indirect effects, bootstrap
and fit indices (which need a covariance-structure model) are unchanged; the interaction model is the
one whose ``Y ~ X:Z`` rows decide H5.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import ClusterSemError
from ...results.effects import johnson_neyman_within
from ...spec.schema import Spec
from ...spec.syntax import path_label, structural_syntax
from . import METHODS, check_interaction_method
from .moderation import Coefficients, conditional_indirect, johnson_neyman, lrt, simple_slopes


def product_label(name: str, to: str) -> str:
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
                          start=None, linear_fit=None, standard_errors: bool = True) -> FittedInteraction:
    """Fit the spec's interaction model by ``method``; ``fixed_zero`` gives the H0 model of an LRT."""
    syntax = interaction_syntax(spec)
    if method == "dblcent":
        from .dblcent import fit_dblcent
        fit, products = fit_dblcent(syntax, frame, pairs="matched", fixed_zero=fixed_zero)
        return _from_dblcent(fit, products)
    if method == "lms":
        from .lms import fit_lms
        return _from_interaction_fit(fit_lms(syntax, frame, products_fixed=set(fixed_zero) or False, start=start,
                                 linear_fit=linear_fit, standard_errors=standard_errors))
    if method == "qml":
        from .qml import fit_qml
        return _from_interaction_fit(fit_qml(syntax, frame, products_fixed=set(fixed_zero) or False, start=start,
                                 linear_fit=linear_fit, standard_errors=standard_errors))
    check_interaction_method(method)
    raise ClusterSemError(f"--interaction-method '{method}' is not known. Fix: use one of {', '.join(METHODS)}")


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _clean(d: dict) -> dict:
    """JSON-safe values: numpy scalars → Python, NaN/inf → None, whole numbers stay ints."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (bool, np.bool_)):
            out[k] = bool(v)
        elif isinstance(v, (int, np.integer)):
            out[k] = int(v)
        elif isinstance(v, (float, np.floating)):
            out[k] = _num(v)
        else:
            out[k] = v
    return out


def lms_replicates(spec: Spec, frame: pd.DataFrame, h1: FittedInteraction, bootstrap: int, seed: int, *,
                   linear_fit=None, jobs: int = 1, scheduler=None, quiet: bool = True) -> np.ndarray:
    """(B, n_free) LMS estimates of the ML bootstrap's resamples, warm-started at ``h1`` (see bootstrap.moderation)."""
    from ...bootstrap.moderation import lms_core, run_lms_bootstrap
    core = lms_core(interaction_syntax(spec), frame, h1.theta, linear_fit=linear_fit)
    return run_lms_bootstrap(core, bootstrap, seed, jobs=jobs, scheduler=scheduler, quiet=quiet)


def _moderated_mediation(spec: Spec, h1, boot, x: str, to: str, term: str, sd_w: float, level: float,
                         seed: int) -> list[dict]:
    """Index of moderated mediation and conditional indirect effects of every indirect path through x → to."""
    imm = []
    for ind in spec.indirect:
        chain = list(ind.path)
        links = list(zip(chain, chain[1:]))
        if (x, to) not in links:
            continue
        lkeys = [(b, "~", a) for a, b in links]
        coefs = h1.coefficients(lkeys + [(to, "~", term)])
        reps = None if boot is None else boot[:, [h1.free[k] for k in lkeys + [(to, "~", term)]]]
        res = conditional_indirect(coefs, ["|".join(k) for k in lkeys], "|".join((to, "~", x)),
                                   "|".join((to, "~", term)), sd_w, level=level, seed=seed,
                                   replicates=reps)
        imm.append({"indirect": ind.name, "path": chain, **_clean({k: v for k, v in res.items()
                                                                  if k != "conditional_indirect"}),
                    "conditional_indirect": [_clean(r) for r in res["conditional_indirect"]]})
    return imm


def _slope_plot(h1, P: pd.DataFrame, c, x: str, w: str, to: str, sd_w: float) -> dict:
    """Predicted outcome at focal ±2 SD for the moderator at −1, 0, +1 SD (the simple-slope plot)."""
    sd_x = math.sqrt(float(h1.latent_cov.loc[x, x]))
    c_w = P[(P.lhs == to) & (P.op == "~") & (P.rhs == w)]
    c_w = float(c_w["est"].iloc[0]) if len(c_w) else 0.0
    xs = [-2 * sd_x, 2 * sd_x]
    return {"x": xs, "focal_sd": sd_x,
            "lines": [{"at": k, "y": [c.est[0] * xv + c_w * k * sd_w + c.est[1] * xv * k * sd_w for xv in xs]}
                      for k in (-1, 0, 1)]}


def _interaction_hypothesis(it, term: str, to: str, rec: dict) -> dict:
    """The hypothesis verdict row of one product term (kind "interaction")."""
    from ...results.effects import path_verdict
    return {"id": it.hypothesis, "kind": "interaction", "name": it.name, "from": term,
            "to": to, "label": product_label(it.name, to), "est": rec["est"],
            "se": rec["se"], "std_all": rec["std"], "pvalue": rec["pvalue"],
            "expect": it.expect,
            "supported": path_verdict(rec["est"], rec["pvalue"], it.expect)}


def _interaction_model_block(spec: Spec, h1, P: pd.DataFrame, method: str) -> dict:
    """results.json ``interaction_model``: the fitted H1 model with its product rows and fit."""
    return {"method": method, "fit": {k: _num(v) if not isinstance(v, list) else [_num(u) for u in v]
                                      for k, v in h1.fit.items()},
            "parameters": [_clean(r) for r in P.to_dict(orient="records")],
            "syntax": interaction_syntax(spec), "converged": bool(h1.converged), "warnings": list(h1.warnings)}


def moderation_stage(spec: Spec, frame: pd.DataFrame, method: str = "lms", *, level: float = 0.95,
                     seed: int = 2026, linear_fit=None, bootstrap: int = 0, jobs: int = 1, scheduler=None,
                     quiet: bool = True) -> dict:
    """``{"moderation": [...], "interaction_model": {...}, "hypotheses": [...]}`` for the spec.

    ``linear_fit``: the structural model's ModelFit (same model without products) for LMS/QML start values.
    ``bootstrap`` > 0 (LMS only): conditional indirect effects and the IMM get bootstrap percentile CIs from
    B warm-started LMS refits instead of Monte Carlo CIs.
    """
    check_interaction_method(method)
    h1 = fit_interaction_model(spec, frame, method, linear_fit=linear_fit)
    boot = None
    if bootstrap > 0 and method == "lms" and any(spec.indirect):
        boot = lms_replicates(spec, frame, h1, bootstrap, seed, linear_fit=linear_fit, jobs=jobs,
                              scheduler=scheduler, quiet=quiet)
    P = h1.parameters
    records, hypotheses = [], []
    full_start = h1.theta if method != "dblcent" else None
    for it in spec.interactions:
        x, w = it.between
        terms = frozenset((to, f"{x}:{w}") for to in it.outcomes)
        # Without its only product term the model is the linear one, whose ML fit (linear_fit) is already the
        # optimum of the same conditional likelihood: start there, not at the H1 estimates (a few iterations).
        h0_start = None if len(spec.interactions) == 1 and linear_fit is not None else full_start
        h0 = fit_interaction_model(spec, frame, method, fixed_zero=terms, start=h0_start, linear_fit=linear_fit,
                                   standard_errors=False)
        test = lrt(h1.loglik, h0.loglik, len(terms))
        sd_w = math.sqrt(float(h1.latent_cov.loc[w, w]))
        for to in it.outcomes:
            term = f"{x}:{w}"
            row = P[(P.lhs == to) & (P.op == "~") & (P.rhs == term)].iloc[0]
            keys = [(to, "~", x), (to, "~", term)]
            c = h1.coefficients(keys)
            V = c.vcov
            slopes = simple_slopes(c.est[0], c.est[1], V[0, 0], V[1, 1], V[0, 1], sd_w, level)
            jn, where = johnson_neyman(c.est[0], c.est[1], V[0, 0], V[1, 1], V[0, 1], level)
            imm = _moderated_mediation(spec, h1, boot, x, to, term, sd_w, level, seed)
            plot = _slope_plot(h1, P, c, x, w, to, sd_w)
            rec = {"name": it.name, "between": [x, w], "to": to, "method": method,
                   "est": _num(row["est"]), "se": _num(row["se"]), "z": _num(row["z"]), "pvalue": _num(row["pvalue"]),
                   "std": _num(row["std_all"]), "label": product_label(it.name, to),
                   "focal": x, "moderator": w, "moderator_sd": sd_w, "level": level,
                   "main_effect": _clean(P[(P.lhs == to) & (P.op == "~") & (P.rhs == x)].iloc[0][["est", "se", "pvalue"]].to_dict()),
                   "simple_slopes": [_clean(s) for s in slopes],
                   "johnson_neyman": None if jn is None else [_num(v) for v in jn],
                   "johnson_neyman_significant": where,
                   "johnson_neyman_range": _clean(johnson_neyman_within(jn, where, sd_w)),
                   "lrt": _clean(test),
                   "index_of_moderated_mediation": imm,
                   "hypothesis": it.hypothesis, "expect": it.expect, "plot": plot}
            records.append(rec)
            if it.hypothesis:
                hypotheses.append(_interaction_hypothesis(it, term, to, rec))
    block = _interaction_model_block(spec, h1, P, method)
    return {"moderation": records, "interaction_model": block, "hypotheses": hypotheses}


__all__ = ["interaction_syntax", "moderation_stage", "fit_interaction_model", "path_label"]
