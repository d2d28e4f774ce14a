"""The only module that imports semopy.

semopy optimises the model from its own start values; we read its estimates back into our parameter
vector (by lhs/op/rhs) and hand them to the Fisher-scoring finish in ``estimator.py``.  Everything
semopy computes beyond the point estimates (SEs, fit indices, AIC/BIC) is deliberately ignored because
it follows other conventions than lavaan (see docs/conventions.md).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .matrices import MatrixModel
from .partable import ParTable


def semopy_syntax(pt: ParTable) -> str:
    """User rows without labels or ``:=`` (semopy cannot read them; equality is restored by our finish)."""
    lines = []
    for op in ("=~", "~", "~~"):
        by_lhs: dict[str, list[str]] = {}
        for p in pt.params:
            if p.op == op and p.user and not p.exo:
                by_lhs.setdefault(p.lhs, []).append(p.rhs)
        lines += [f"{lhs} {op} {' + '.join(rhs)}" for lhs, rhs in by_lhs.items()]
    return "\n".join(lines)


def semopy_estimates(pt: ParTable, mm: MatrixModel, data: pd.DataFrame, fallback: np.ndarray) -> tuple[np.ndarray, str]:
    """Fit with semopy (ML, 'MLW' objective) and return (theta, note).  Unmapped parameters keep ``fallback``."""
    import semopy  # local import: start-up of the CLI stays fast for validate/simulate

    theta = fallback.copy()
    try:
        model = semopy.Model(semopy_syntax(pt))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(data[list(mm.ov)], obj="MLW")
            est = model.inspect(std_est=False)
    except Exception as exc:  # semopy failures must not stop the fit: our own start values take over
        return theta, f"semopy failed ({type(exc).__name__}: {exc}); started from simple values"
    values: dict[tuple[str, str, str], float] = {}
    for row in est.itertuples(index=False):
        lval, op, rval, value = row[0], row[1], row[2], row[3]
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        values[(lval, op, rval)] = value
    latents = set(pt.variables.lv)
    for p in pt.params:
        if p.free < 0:
            continue
        if p.op == "=~":
            key = (p.rhs, "~", p.lhs)
        elif p.op == "~":
            key = (p.lhs, "~", p.rhs)
        else:
            key = (p.lhs, "~~", p.rhs) if (p.lhs, "~~", p.rhs) in values else (p.rhs, "~~", p.lhs)
        if key in values and np.isfinite(values[key]):
            theta[p.free] = values[key]
        elif p.op == "=~" and p.rhs in latents and (p.rhs, "~", p.lhs) in values:
            theta[p.free] = values[(p.rhs, "~", p.lhs)]
    return theta, "semopy (MLW, SLSQP) start, Fisher scoring + BFGS finish"
