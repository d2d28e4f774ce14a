"""Double-mean-centred product indicators (Lin et al. 2010) fitted by the ordinary ML core.

The route lavaan users take, and modsem's ``method = "dblcent"``: centre every indicator, multiply the
pairs, centre the products again, let a product factor ``XZ`` load on them and regress the outcome on it.
Products that share an indicator get correlated residuals (modsem's ``res.cov.method = "simple"``).
Pairs: ``all`` (modsem's default ``match = FALSE``; x varies fastest: x1z1, x2z1, …) or ``matched``
(Marsh et al. 2004: the i-th indicator of X with the i-th of Z, as many products as the shorter list).
A second-order construct enters through parcels: the mean of each dimension's items.
The fit is :func:`cluster_sem.model.fitted.fit_model` — nothing here estimates anything.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

import pandas as pd

from ...errors import FitError
from ..fitted import ModelFit, fit_model
from ..syntax_parser import parse_syntax
from .terms import Interaction, split_interactions

PAIRS = ("all", "matched")


@dataclass(frozen=True)
class ProductIndicators:
    """The product factor of one interaction: its name, its indicators and the pairs they came from."""

    interaction: Interaction
    factor: str
    indicators: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]


def construct_indicators(rows) -> dict[str, list[str]]:
    """Construct → its indicators, in syntax order, from the ``=~`` rows of parsed syntax."""
    out: dict[str, list[str]] = {}
    for r in rows:
        if r.op == "=~":
            out.setdefault(r.lhs, []).append(r.rhs)
    return out


def _indicator_columns(construct: str, measures: dict[str, list[str]], data: pd.DataFrame,
                       extra: dict[str, pd.Series]) -> list[str]:
    """Observed indicators of ``construct``; for a second-order construct one parcel per dimension."""
    if construct not in measures:
        raise FitError(f"interaction '{construct}': not a construct of the model. Fix: use a construct name")
    names = []
    for v in measures[construct]:
        if v in measures:  # a dimension: parcel of its items
            items = [i for i in measures[v] if i not in measures]
            name = f"{v}_parcel"
            extra[name] = data[items].astype(float).mean(axis=1)
            names.append(name)
        else:
            names.append(v)
    return names


def product_data(syntax: str, data: pd.DataFrame, pairs: str = "all", fixed_zero: frozenset = frozenset()
                 ) -> tuple[str, pd.DataFrame, tuple[ProductIndicators, ...]]:
    """Syntax with product factors, the data with the product columns added, and the product factors.

    ``fixed_zero``: ``(outcome, "X:Z")`` pairs whose regression on the product factor is fixed at 0 (the
    H0 model of the likelihood-ratio test; the product factor and its indicators stay in the model).
    """
    if pairs not in PAIRS:
        raise FitError(f"dblcent pairs '{pairs}' is not known. Fix: use one of {', '.join(PAIRS)}")
    linear, inters = split_interactions(syntax)
    rows = parse_syntax(linear)
    measures = construct_indicators(rows)
    extra: dict[str, pd.Series] = {}
    columns: dict[str, pd.Series] = {}
    lines = [linear.rstrip("\n")]
    products = []
    taken = set(data.columns) | set(measures)
    for it in inters:
        xs = _indicator_columns(it.first, measures, data, extra)
        zs = _indicator_columns(it.second, measures, data, extra)
        source = {**{c: data[c].astype(float) for c in set(xs + zs) if c in data.columns}, **extra}
        if pairs == "all":
            combos = [(x, z) for z in zs for x in xs]
        else:
            combos = list(zip(xs, zs))
        factor = f"{it.first}{it.second}"
        while factor in taken:
            factor += "_"
        taken.add(factor)
        names = []
        for x, z in combos:
            name = f"{x}{z}"
            while name in taken:
                name += "_"
            taken.add(name)
            xc, zc = source[x] - source[x].mean(), source[z] - source[z].mean()
            prod = xc * zc
            columns[name] = prod - prod.mean()
            names.append(name)
        label = "0*" if (it.outcome, it.term) in fixed_zero else (f"{it.label}*" if it.label else "")
        lines.append(f"{factor} =~ {' + '.join(names)}")
        lines.append(f"{it.outcome} ~ {label}{factor}")
        for (a, pa), (b, pb) in combinations(zip(names, combos), 2):
            if set(pa) & set(pb):
                lines.append(f"{a} ~~ {b}")
        products.append(ProductIndicators(it, factor, tuple(names), tuple(combos)))
    if not products:
        raise FitError("the model has no interaction term. Fix: add one, e.g. Y ~ X + Z + X:Z")
    frame = pd.concat([data.reset_index(drop=True), pd.DataFrame(columns).reset_index(drop=True)], axis=1)
    return "\n".join(lines) + "\n", frame, tuple(products)


def fit_dblcent(syntax: str, data: pd.DataFrame, *, pairs: str = "all", fixed_zero: frozenset = frozenset()
                ) -> tuple[ModelFit, tuple[ProductIndicators, ...]]:
    """Fit by ML with product indicators; the product row's ``rhs`` is written ``X:Z`` as the contract says."""
    full, frame, products = product_data(syntax, data, pairs, frozenset(fixed_zero))
    fit = fit_model(full, frame)
    P = fit.parameters.copy()
    for prod in products:
        mask = (P.op == "~") & (P.lhs == prod.interaction.outcome) & (P.rhs == prod.factor)
        P.loc[mask, "rhs"] = prod.interaction.term
    return replace(fit, parameters=P), products
