"""The moderation stage of ``cluster-sem fit``: the spec's ``interactions`` → interaction model → records.

What it adds to results.json (contract §4): ``moderation`` (one record per interaction and outcome) and
``interaction_model`` (the fitted model with the product rows, its log-likelihood, npar, AIC, BIC).  The
``structural_model`` block stays the linear model of the spec's paths, so indirect effects, bootstrap
and fit indices (which need a covariance-structure model) are unchanged; the interaction model is the
one whose ``Y ~ X:Z`` rows decide H5.

A stage, not a model: it fits through ``model/interaction`` (``fit_interaction_model``), interprets through
``model/interaction/moderation.py``, bootstraps through ``bootstrap/moderation.py`` and writes records with
``results`` helpers, so it sits above all of them (docs/architecture.md, tests/test_architecture.py).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..model.interaction import check_interaction_method
from ..model.interaction.fit import FittedInteraction, fit_interaction_model, interaction_syntax, product_label
from ..model.interaction.moderation import conditional_indirect, johnson_neyman, lrt, simple_slopes
from ..options import DEFAULT_SEED
from ..results.effects import johnson_neyman_within, path_verdict
from ..results.jsonsafe import json_fit, json_float, json_mapping, json_records
from ..spec.schema import Spec


def lms_replicates(spec: Spec, frame: pd.DataFrame, h1: FittedInteraction, bootstrap: int, seed: int, *,
                   linear_fit=None, jobs: int = 1, scheduler=None, quiet: bool = True) -> np.ndarray:
    """(B, n_free) LMS estimates of the ML bootstrap's resamples, warm-started at ``h1`` (see bootstrap.moderation)."""
    from ..bootstrap.moderation import lms_core, run_lms_bootstrap
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
        imm.append({"indirect": ind.name, "path": chain, **json_mapping({k: v for k, v in res.items()
                                                                       if k != "conditional_indirect"}),
                    "conditional_indirect": [json_mapping(r) for r in res["conditional_indirect"]]})
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
    return {"id": it.hypothesis, "kind": "interaction", "name": it.name, "from": term,
            "to": to, "label": product_label(it.name, to), "est": rec["est"],
            "se": rec["se"], "std_all": rec["std"], "pvalue": rec["pvalue"],
            "expect": it.expect,
            "supported": path_verdict(rec["est"], rec["pvalue"], it.expect)}


def _interaction_model_block(spec: Spec, h1, P: pd.DataFrame, method: str) -> dict:
    """results.json ``interaction_model``: the fitted H1 model with its product rows and fit."""
    return {"method": method, "fit": json_fit(h1.fit, json_float), "parameters": json_records(P),
            "syntax": interaction_syntax(spec), "converged": bool(h1.converged), "warnings": list(h1.warnings)}


def moderation_stage(spec: Spec, frame: pd.DataFrame, method: str = "lms", *, level: float = 0.95,
                     seed: int = DEFAULT_SEED, linear_fit=None, bootstrap: int = 0, jobs: int = 1, scheduler=None,
                     quiet: bool = True) -> dict:
    """``{"moderation": [...], "interaction_model": {...}, "hypotheses": [...]}`` for the spec.

    ``linear_fit``: the structural model's ModelFit (same model without products) for LMS/QML start values.
    ``bootstrap`` > 0 (LMS only): conditional indirect effects and the IMM get bootstrap percentile CIs from
    B warm-started LMS refits instead of Monte Carlo CIs.  ``jobs`` threads also share each LMS likelihood
    evaluation of the H1 fit and its LRT refit (large samples; the numbers do not depend on it).
    """
    check_interaction_method(method)
    h1 = fit_interaction_model(spec, frame, method, linear_fit=linear_fit, jobs=jobs)
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
                                   standard_errors=False, jobs=jobs)
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
                   "est": json_float(row["est"]), "se": json_float(row["se"]), "z": json_float(row["z"]),
                   "pvalue": json_float(row["pvalue"]),
                   "std": json_float(row["std_all"]), "label": product_label(it.name, to),
                   "focal": x, "moderator": w, "moderator_sd": sd_w, "level": level,
                   "main_effect": json_mapping(P[(P.lhs == to) & (P.op == "~") & (P.rhs == x)].iloc[0][["est", "se", "pvalue"]].to_dict()),
                   "simple_slopes": [json_mapping(s) for s in slopes],
                   "johnson_neyman": None if jn is None else [json_float(v) for v in jn],
                   "johnson_neyman_significant": where,
                   "johnson_neyman_range": json_mapping(johnson_neyman_within(jn, where, sd_w)),
                   "lrt": json_mapping(test),
                   "index_of_moderated_mediation": imm,
                   "hypothesis": it.hypothesis, "expect": it.expect, "plot": plot}
            records.append(rec)
            if it.hypothesis:
                hypotheses.append(_interaction_hypothesis(it, term, to, rec))
    block = _interaction_model_block(spec, h1, P, method)
    return {"moderation": records, "interaction_model": block, "hypotheses": hypotheses}


__all__ = ["lms_replicates", "moderation_stage"]
