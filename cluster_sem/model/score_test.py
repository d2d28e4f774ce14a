"""Univariate score tests of equality constraints — lavaan's ``lavTestScore(fit)$uni``.

Why score tests: they tell, from the constrained fit alone, how much χ² would drop if one equality
constraint were released — the basis of partial invariance.  As lavaan: in the unconstrained parameter
space x (every free row its own parameter, ``partable_groups.unconstrained``) evaluate the per-case score
s = ∂logL/∂x / N and expected information I₁ at the constrained estimate; for constraint r,
    X²_r = N · s' Z (Z' I₁ Z)⁻¹ Z' s,
where Z spans the null space of the *other* constraints (R without row r) — ``lav_test_score_iinv``.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg, stats

from .group_model import build_group_model
from .objective_ml import single_batch
from .partable_groups import equality_constraints, row_key, unco_map, unconstrained


def univariate_score_tests(fit) -> list[dict]:
    """One record per equality constraint (lavaan order): constraint, rows, groups, chi2, df, pvalue."""
    pt = fit.partable
    R, pairs = equality_constraints(pt)
    if not pairs:
        return []
    model = build_group_model(unconstrained(pt))
    objective = type(fit.objective)(model)
    x = fit.theta[unco_map(pt)]
    _, grad = objective(x[None], single_batch(objective, fit.sample))
    score = -0.5 * grad[0]                                  # F = −2 logL / N (+ const)
    info = 0.5 * objective.expected_hessian(x, fit.sample)   # per-case expected information
    n = fit.sample.ntotal
    groups = pt.groups or ("",)
    out = []
    for r, (a, b) in enumerate(pairs):
        Z = linalg.null_space(np.delete(R, r, axis=0)) if len(pairs) > 1 else np.eye(R.shape[1])
        j_inv = Z @ np.linalg.solve(Z.T @ info @ Z, Z.T)
        chi2 = float(n * score @ j_inv @ score)
        key_a, key_b = row_key(a), row_key(b)
        out.append({"constraint": key_a if key_a == key_b else f"{key_a} == {key_b}",
                    "groups": [groups[a.group], groups[b.group]], "chi2": chi2, "df": 1,
                    "pvalue": float(stats.chi2.sf(chi2, 1))})
    return out
