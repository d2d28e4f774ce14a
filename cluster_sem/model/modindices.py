"""Modification indices — lavaan's ``modindices()`` for a single-group ML fit (lav_modification.R).

Why a score test per row: a modification index is the χ² drop expected if one fixed-to-zero (or fixed)
parameter were freed, computed from the fitted model alone (Sörbom 1989; Saris, Satorra & Sörbom 1987).
As lavaan: the model is *extended* by every candidate row of ``lav_pt_full`` that it lacks (cross-loadings
``lv =~ ov``, residual covariances ``ov ~~ ov``, latent covariances ``lv ~~ lv``, regressions among the
variables of the ``~`` equations) and by its own fixed rows, all freed at their current value (0 for the
new ones).  At the estimate, with per-case score s = ∂logL/∂x / N and expected information I (partitioned
into extra rows 1 and model rows 2),

    V = I₁₁ − I₁₂ I₂₂⁻¹ I₂₁,   mi = N s₁² / diag(V),   epc = s₁ / diag(V),

rows with diag(V) < ε^(1/3) (not identified once freed) get no index, and ``sepc.all`` is the epc in the
``std.all`` metric of the fitted model (residual covariances scaled by the residual SDs, ``cov.std``).

Deviation, on purpose: lavaan also lists regressions of a fixed.x control on model variables; with the
control's moments fixed at the sample values such a row has no meaning, so none is listed here.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import ClusterSemError
from .inference import estimates, standardization_factors
from .matrices import build_matrix_model
from .param import Param
from .partable import ParTable

MI_MIN = 3.84          # χ²(1) at α = .05: the rows worth printing (lavaan users' usual filter)
_SMALL_V = np.finfo(float).eps ** (1 / 3)   # lavaan ≥ 0.6-14


def candidate_rows(pt: ParTable) -> list[Param]:
    """The rows of lavaan's full table (``lav_pt_full``) that ``pt`` does not have, in lavaan's order."""
    var = pt.variables
    ov_x = set(var.ov_x)
    ov_nox = [v for v in var.ov if v not in ov_x]
    eqs = list(dict.fromkeys([p.lhs for p in pt.params if p.op == "~"] + [p.rhs for p in pt.params if p.op == "~"]))
    have = {(p.lhs, p.op, p.rhs) for p in pt.params} | {(p.rhs, p.op, p.lhs) for p in pt.params if p.op == "~~"}
    rows: list[Param] = []
    rows += [Param(f, "=~", v) for f in var.lv for v in ov_nox if v not in eqs]
    # residual covariances: only among indicators (a covariate's moments are fixed.x)
    ind = [v for v in ov_nox if v in set(var.ov_ind)]
    rows += [Param(ind[j], "~~", ind[i]) for j in range(len(ind)) for i in range(j + 1, len(ind))]
    rows += [Param(var.lv[j], "~~", var.lv[i]) for j in range(len(var.lv)) for i in range(j + 1, len(var.lv))]
    lv = set(var.lv)
    rows += [Param(y, "~", x) for y in eqs for x in eqs
             if x != y and y not in ov_x and not (y in set(var.ov_ind) and x in lv)]
    return [r for r in rows if (r.lhs, r.op, r.rhs) not in have]


def extended_table(pt: ParTable) -> tuple[ParTable, np.ndarray, list[int]]:
    """The table with every fixed (non fixed.x) row freed and every candidate row added, each extra row a
    new free parameter; returns it, the extra rows' start values and their row positions."""
    rows = list(pt.params)
    extra_start: list[float] = []
    extra_pos: list[int] = []
    n_free = pt.n_free
    for r, p in enumerate(rows):
        if p.free < 0 and not p.exo:
            rows[r] = replace(p, free=n_free, value=None, label="")
            extra_start.append(float(p.value or 0.0))
            extra_pos.append(r)
            n_free += 1
    for p in candidate_rows(pt):
        extra_pos.append(len(rows))
        rows.append(replace(p, free=n_free, user=False))
        extra_start.append(0.0)
        n_free += 1
    table = ParTable(tuple(rows), (), pt.variables, n_free)
    return table, np.asarray(extra_start), extra_pos


def modification_indices(fit, *, model: str = "", minimum: float = MI_MIN) -> list[dict]:
    """lavaan's ``modindices(fit, sort. = TRUE)`` rows with mi ≥ ``minimum``: model, lhs, op, rhs, mi, epc,
    sepc_all (largest first).  Single-group ML fits on complete rows only (other estimators are refused by ``lavoptions.SUPPORT``)."""
    pt, S, n = fit.partable, fit.sample_cov, fit.n
    if pt.groups or pt.meanstructure:
        raise ClusterSemError("modification indices: only single-group ML fits without a mean structure")
    ext, start, pos = extended_table(pt)
    mm = build_matrix_model(ext)
    q = pt.n_free
    x = np.concatenate([np.asarray(fit.theta, dtype=float), start])
    _, grad = mm.gradient(x[None], S[None])
    score = -0.5 * grad[0]                         # F = −2 logL / N + const
    info = 0.5 * mm.expected_hessian(x, S)         # per-case expected information
    i11, i12, i22 = info[q:, q:], info[q:, :q], info[:q, :q]
    v = np.diag(i11 - i12 @ np.linalg.solve(i22, i12.T)).copy()
    v[v < _SMALL_V] = np.nan
    s = score[q:]
    mi = n * s * s / v
    epc = s / v
    factors = standardization_factors(ext, mm, x, S)
    values = estimates(ext, x, S, mm)
    out = []
    for k, r in enumerate(pos):
        p = ext.params[r]
        if not np.isfinite(mi[k]) or mi[k] < minimum:
            continue
        sepc = _sepc_all(p, epc[k], values[r], factors[r])
        out.append({"model": model, "lhs": p.lhs, "op": p.op, "rhs": p.rhs, "mi": float(mi[k]),
                    "epc": float(epc[k]), "sepc_all": None if sepc is None else float(sepc)})
    out.sort(key=lambda row: -row["mi"])
    return out


def _sepc_all(p: Param, epc: float, value: float, factor: float) -> float | None:
    """epc in the std.all metric, sign of the epc; for a freed variance lavaan standardizes the value itself
    (``cov.std``), and a near-zero one gives 0."""
    size = abs(epc)
    if p.op == "~~" and p.lhs == p.rhs:
        size = abs(value)
        if size < np.sqrt(np.finfo(float).eps):
            return 0.0
    result = float(np.sign(epc) * size * factor)
    return result if np.isfinite(result) else None


__all__ = ["MI_MIN", "candidate_rows", "extended_table", "modification_indices"]
