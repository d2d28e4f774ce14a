"""Start values as lavaan computes them (``lav_start.R``, ``start = "default"``), without semopy.

Why our own: importing semopy costs ~1.3 s (sympy, scikit-learn, statsmodels) and its SLSQP solution is
only a start for our Fisher-scoring finish anyway; lavaan's cheap, data-based start values lead the same
finish to the same optimum in a few iterations.

Why keyed by parameter-table rows: the values depend only on the sample moments and on the row
(``lhs``, ``op``, ``rhs``[, ``group``]), not on how the rows are placed in matrices, so any matrix layout
(single group now, per-group matrices later) maps them onto its θ with ``theta_from_rows``.

What lavaan does for a single-level, continuous ``sem()``/``cfa()`` model, step by step:
  1. every value 0; loadings 1; (residual) latent variances 0.05;
  2. (residual) variances of observed variables: half their sample variance;
  3. loadings of every first-order factor by FABIN 3 (Hägglund 1982; for < 4 indicators the closed
     form of the 3-indicator one-factor model), bounded so that the marker's reliability ≥ 0.1; all 1 when
     three indicators form a negative triad; sign flipped for a negative fixed marker;
  4. intercepts of observed variables: sample means; fixed.x (co)variances: sample values;
  5. an exogenous latent with a single indicator: variance = sample variance − indicator residual;
  6. models without latent variables: regressions and residual variances by OLS;
  7. fixed values override everything; covariances that imply |r| > 1 are shrunk (``lav_start_check_cov``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

Key = tuple  # (lhs, op, rhs) or (lhs, op, rhs, group)


def _key(p, group) -> Key:
    return (p.lhs, p.op, p.rhs) if group is None else (p.lhs, p.op, p.rhs, group)


def fabin3_loadings(S: np.ndarray, *, std_lv: bool = False) -> tuple[np.ndarray, bool]:
    """Loadings of a one-factor model for the indicator covariance ``S`` (marker first).

    Returns (loadings, negative_triad).  lavaan: ``lav_cfa_1fac_fabin(method = "fabin3", bounds = TRUE)``.
    """
    nvar = S.shape[0]
    if nvar < 4:
        lam, psi, neg = _one_factor_3ind(S)
        if std_lv:
            lam = lam * np.sign(psi) * np.sqrt(abs(psi))
        return lam, neg
    lam = np.ones(nvar)
    for i in range(1, nvar):
        rest = [j for j in range(1, nvar) if j != i]
        s23, s31 = S[i, rest], S[rest, 0]
        try:
            w = np.linalg.solve(S[np.ix_(rest, rest)], s31)
            lam[i] = (s23 @ w) / (s31 @ w)
        except np.linalg.LinAlgError:
            lam[i] = (s23 @ s31) / (s31 @ s31)
    lower_psi = 0.1 * S[0, 0]  # reliability of the marker assumed ≥ 0.1
    bound = np.sqrt(np.diag(S)[1:] / lower_psi)
    lam[1:] = np.clip(lam[1:], -bound, bound)
    if std_lv:  # needs ψ: least-squares θ and ψ given λ (W = I), as lavaan
        d = np.outer(lam, lam) / (lam @ lam)
        theta = np.linalg.solve(np.eye(nvar) - d * d, np.diag(S - d @ S @ d))
        l2 = lam @ lam
        psi = lam @ (S - np.diag(theta)) @ lam / (l2 * l2)
        lam = lam * np.sign(psi) * np.sqrt(abs(psi))
    return lam, False


def _one_factor_3ind(S: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Closed-form one-factor solution for ≤ 3 indicators (lavaan ``lav_cfa_1fac_3ind``, marker λ1 = 1)."""
    nvar = S.shape[0]
    if nvar == 1:
        S = np.ones((3, 3))
    elif nvar == 2:
        extra = [np.mean(np.diag(S)), S[1, 0]]
        S = np.block([[S, np.array(extra)[:, None]], [np.array(extra + [np.max(np.diag(S))])[None]]])
    s11, s22, s33 = S[0, 0], S[1, 1], S[2, 2]
    s21, s31, s32 = S[1, 0], S[2, 0], S[2, 1]
    neg = bool(s21 * s31 * s32 < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        psi = s21 * s31 / s32
        l2, l3 = s32 / s31, s32 / s21
    lower_psi = 0.1 * s11
    psi = min(max(psi, lower_psi), s11)
    b2, b3 = np.sqrt(s22 / lower_psi), np.sqrt(s33 / lower_psi)
    lam = np.array([1.0, min(max(-b2, l2), b2), min(max(-b3, l3), b3)])[:nvar]
    if nvar == 2:
        psi = psi / 2
    return lam, float(psi), neg


def start_values(params: Iterable, variables, S: np.ndarray, ov_names: Sequence[str], *,
                 means: np.ndarray | None = None, group=None) -> dict[Key, float]:
    """lavaan's default start value of every row in ``params`` (one group), keyed by parameter-table row.

    ``S`` (divisor N) and ``means`` are the sample moments of ``ov_names``; ``variables`` gives the roles
    (``lv``, ``ov_x``, ``lv_x``).  Rows of other groups are skipped when ``group`` is given (rows carry
    ``.group``); keys then end with the group.  The steps are lavaan's ``lav_start`` steps, in its order.
    """
    rows = [p for p in params if group is None or getattr(p, "group", group) == group]
    io = {v: i for i, v in enumerate(ov_names)}

    def row_of(lhs, op, rhs):
        for r, p in enumerate(rows):
            if p.op == op and ((p.lhs, p.rhs) == (lhs, rhs) or (op == "~~" and (p.rhs, p.lhs) == (lhs, rhs))):
                return r
        return None

    start = _simple_starts(rows, variables, S, io, means)                 # steps 1, 2 and 4
    _fabin3_starts(rows, variables, S, io, row_of, start)                # step 3
    _single_indicator_starts(rows, variables, S, io, row_of, start)      # step 5
    if not variables.lv:
        _ols_starts(rows, S, io, means, row_of, start)                   # step 6
    for r, p in enumerate(rows):  # step 7: fixed values win
        if p.free < 0 and p.value is not None:
            start[r] = float(p.value)
    _check_covariances(rows, start, row_of, variables.ov_x)
    return {_key(p, group): start[r] for r, p in enumerate(rows)}


def _simple_starts(rows, variables, S: np.ndarray, io: dict, means) -> dict[int, float]:
    """Loadings 1, latent variances .05, residual variances half the item variance, intercepts the means,
    fixed.x (co)variances the sample values, everything else 0."""
    lv = set(variables.lv)
    diag = np.diag(S)
    start: dict[int, float] = {}
    for r, p in enumerate(rows):
        value = 0.0
        if p.op == "=~":
            value = 1.0
        elif p.op == "~~" and p.lhs == p.rhs and p.lhs in lv:
            value = 0.05
        elif p.op == "~~" and p.lhs == p.rhs and p.lhs in io:
            value = 0.5 * diag[io[p.lhs]]
        elif p.op == "~1" and p.lhs in io and means is not None:
            value = float(means[io[p.lhs]])
        if p.op == "~~" and p.lhs in variables.ov_x and p.rhs in variables.ov_x:
            value = float(S[io[p.lhs], io[p.rhs]])
        start[r] = value
    return start


def _fabin3_starts(rows, variables, S: np.ndarray, io: dict, row_of, start: dict[int, float]) -> None:
    """FABIN 3 loadings per first-order factor (sign of a negative marker kept)."""
    lv = set(variables.lv)
    for f in variables.lv:
        lam_rows = [r for r, p in enumerate(rows) if p.op == "=~" and p.lhs == f]
        ind = [rows[r].rhs for r in lam_rows]
        if not ind or any(v in lv for v in ind) or any(v not in io for v in ind):
            continue
        var_row = row_of(f, "~~", f)
        std_lv = var_row is not None and rows[var_row].free < 0 and rows[var_row].value == 1
        idx = [io[v] for v in ind]
        lam, neg = fabin3_loadings(S[np.ix_(idx, idx)], std_lv=std_lv)
        lam = np.where(np.isfinite(lam), lam, 1.0)
        if neg:
            lam = np.full(len(lam), 0.7 if std_lv else 1.0)
        marker = rows[lam_rows[0]]
        if not std_lv and marker.free < 0 and marker.value is not None and marker.value < 0:
            lam = -lam
        for r, value in zip(lam_rows, lam):
            start[r] = float(value)


def _single_indicator_starts(rows, variables, S: np.ndarray, io: dict, row_of, start: dict[int, float]) -> None:
    """An exogenous latent with a single indicator: its variance from the item's reliable variance."""
    diag = np.diag(S)
    for f in variables.lv_x:
        lam_rows = [r for r, p in enumerate(rows) if p.op == "=~" and p.lhs == f]
        if len(lam_rows) != 1 or rows[lam_rows[0]].rhs not in io:
            continue
        item = rows[lam_rows[0]].rhs
        res_row, var_row = row_of(item, "~~", item), row_of(f, "~~", f)
        res = rows[res_row].value if res_row is not None and rows[res_row].free < 0 else None
        res = 1.0 if res is None else res
        ov_var = diag[io[item]]
        value = (1 - res / ov_var) * ov_var
        if var_row is not None:
            start[var_row] = value if np.isfinite(value) and value >= 0.05 else 0.05


def _ols_starts(rows, S: np.ndarray, io: dict, means, row_of, start: dict[int, float]) -> None:
    """Observed-variable regressions (no latent variables): OLS coefficients, residual variance, intercept."""
    for y in dict.fromkeys(p.lhs for p in rows if p.op == "~"):
        reg = [r for r, p in enumerate(rows) if p.op == "~" and p.lhs == y]
        xi = [io[rows[r].rhs] for r in reg]
        yi = io[y]
        sxy = S[xi, yi]
        try:
            beta = np.linalg.solve(S[np.ix_(xi, xi)], sxy)
        except np.linalg.LinAlgError:
            beta = np.zeros(len(xi))
        for r, b in zip(reg, beta):
            start[r] = float(b)
        res_val = S[yi, yi] - beta @ sxy
        res_row = row_of(y, "~~", y)
        if res_row is not None and 0.001 * S[yi, yi] < res_val < 0.999 * S[yi, yi]:
            start[res_row] = float(res_val)
        int_row = row_of(y, "~1", "")
        if int_row is not None and means is not None:
            start[int_row] = float(means[yi] - beta @ means[xi])


def _check_covariances(rows, start: dict[int, float], row_of, ov_x) -> None:
    """Shrink a non-zero covariance start that implies |r| > 1 (lavaan ``lav_start_check_cov``)."""
    for r, p in enumerate(rows):
        if p.op != "~~" or p.lhs == p.rhs or start[r] == 0 or (p.lhs in ov_x and p.rhs in ov_x):
            continue
        a, b = row_of(p.lhs, "~~", p.lhs), row_of(p.rhs, "~~", p.rhs)
        if a is None or b is None or start[a] == 0 or start[b] == 0:
            if p.free >= 0:
                start[r] = 0.0
            continue
        small, large = (a, b) if abs(start[a]) < abs(start[b]) else (b, a)
        prod = start[a] * start[b]
        cor = abs(start[r]) / np.sqrt(prod) if prod > 0 else np.nan
        if not np.isfinite(cor):
            start[a] = start[b] = 1.0
            start[r] = 0.0
        elif cor > 1:
            if rows[r].free >= 0:
                start[r] /= cor * 1.1
            elif rows[small].free >= 0:
                start[small] *= (cor * 1.1) ** 2
            elif rows[large].free >= 0:
                start[large] *= (cor * 1.1) ** 2


def theta_from_rows(params: Iterable, values: dict[Key, float], n_free: int, *, group_of=None) -> np.ndarray:
    """θ from row-keyed start values: each free index takes the value of its first row (equal labels share)."""
    theta = np.full(n_free, np.nan)
    for p in params:
        if p.free < 0 or not np.isnan(theta[p.free]):
            continue
        key = (p.lhs, p.op, p.rhs) if group_of is None else (p.lhs, p.op, p.rhs, group_of(p))
        theta[p.free] = values.get(key, 0.0)
    return np.where(np.isnan(theta), 0.0, theta)


def lavaan_start(pt, S: np.ndarray) -> np.ndarray:
    """θ of lavaan's default start values for a single-group ``ParTable`` and its sample covariance."""
    values = start_values(pt.params, pt.variables, S, pt.variables.ov)
    return theta_from_rows(pt.params, values, pt.n_free)
