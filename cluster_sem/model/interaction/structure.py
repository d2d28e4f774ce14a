"""The latent interaction model: parameter table and matrices shared by LMS and QML.

Model (all latent variables in one vector eta, LISREL "all-y" form, so second-order constructs and
endogenous moderands need no special case):

    x   = tau + Lambda eta + epsilon,                    epsilon ~ N(0, Theta)
    eta = B eta + Gamma c + sum_j omega_j e_{y_j} eta_{a_j} eta_{s_j} + zeta,   zeta ~ N(0, Psi)

``c`` are observed covariates (the spec's controls), centred and conditioned on (lavaan's fixed.x).
Exogenous constructs have ``eta_s = zeta_s``; for every product one partner ``s`` must be exogenous — the
model is then conditionally linear-normal given the exogenous partners, which LMS integrates over.
Parameterisation as modsem's LMS/QML (``mean.observed = TRUE``): every indicator has a free intercept,
latent means and intercepts are 0, the first loading of each construct is fixed to 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...errors import FitError
from ..syntax_parser import parse_syntax
from .terms import Interaction, split_interactions


@dataclass(frozen=True)
class Row:
    """One parameter row (lavaan vocabulary) and where it lives in the matrices."""

    lhs: str
    op: str
    rhs: str
    label: str
    matrix: str          # lam | beta | gamma | omega | tau | theta | psi
    i: int
    j: int
    free: int            # index in the free-parameter vector, -1 when fixed
    value: float = 0.0   # fixed value


@dataclass(frozen=True)
class InteractionModel:
    """Variables, rows and the integrated (exogenous) moderators of a latent interaction model."""

    syntax: str
    linear_syntax: str
    latents: tuple[str, ...]
    indicators: tuple[str, ...]
    covariates: tuple[str, ...]
    interactions: tuple[Interaction, ...]
    integrated: tuple[int, ...]            # latent indices integrated by quadrature (exogenous)
    partner: tuple[tuple[int, int, int], ...]  # per interaction: (outcome, other latent, integrated latent)
    rows: tuple[Row, ...]
    exogenous: tuple[str, ...] = field(default=())

    @property
    def n_free(self) -> int:
        return sum(r.free >= 0 for r in self.rows)

    @property
    def dims(self) -> tuple[int, int, int, int]:
        """(indicators p, latents m, covariates c, interactions J)."""
        return len(self.indicators), len(self.latents), len(self.covariates), len(self.interactions)

    def fill(self, thetas: np.ndarray) -> dict[str, np.ndarray]:
        """Matrices for a batch of parameter vectors ``thetas`` (T × n_free): arrays with leading T."""
        thetas = np.atleast_2d(thetas)
        T = thetas.shape[0]
        p, m, c, J = self.dims
        shapes = {"lam": (p, m), "beta": (m, m), "gamma": (m, max(c, 0)), "omega": (J,), "tau": (p,),
                  "theta": (p, p), "psi": (m, m)}
        out = {k: np.zeros((T,) + s) for k, s in shapes.items()}
        for r in self.rows:
            val = thetas[:, r.free] if r.free >= 0 else r.value
            arr = out[r.matrix]
            if r.matrix in ("omega", "tau"):
                arr[:, r.i] = val
            else:
                arr[:, r.i, r.j] = val
                if r.matrix in ("theta", "psi"):
                    arr[:, r.j, r.i] = val
        return out

    def free_rows(self) -> list[Row]:
        return sorted((r for r in self.rows if r.free >= 0), key=lambda r: r.free)


def _unique(seq):
    return list(dict.fromkeys(seq))


class _RowTable:
    """Collects parameter rows, numbering the free ones in the order they are added (lavaan's free index)."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.nfree = 0

    def add(self, lhs, op, rhs, label, matrix, i, j, fixed=None):
        if fixed is None:
            self.rows.append(Row(lhs, op, rhs, label, matrix, i, j, self.nfree))
            self.nfree += 1
        else:
            self.rows.append(Row(lhs, op, rhs, label, matrix, i, j, -1, float(fixed)))


def _variable_roles(rows, inters):
    """Latents, indicators, covariates, endogenous and exogenous constructs; rejects non-construct outcomes."""
    latents = _unique(r.lhs for r in rows if r.op == "=~")
    lat_set = set(latents)
    indicators = _unique(r.rhs for r in rows if r.op == "=~" and r.rhs not in lat_set)
    ind_set = set(indicators)
    covariates = _unique(r.rhs for r in rows if r.op == "~" and r.rhs not in lat_set | ind_set)
    for r in rows:
        if r.op == "~" and r.lhs not in lat_set:
            raise FitError(f"interaction model: '{r.lhs}' is regressed but is not a construct. "
                           "Fix: only constructs may be outcomes in a latent interaction model")
    endogenous = _unique([r.lhs for r in rows if r.op == "~"] + [r.rhs for r in rows if r.op == "=~" and r.rhs in lat_set]
                         + [it.outcome for it in inters])
    exogenous = [v for v in latents if v not in endogenous]
    return latents, indicators, covariates, endogenous, exogenous


def _integrated_partners(inters, latents, exogenous):
    """modsem's sortXis: which exogenous partner of each product is integrated, and per product
    the (outcome, other latent, integrated latent) indices."""
    lat_set = set(latents)
    for it in inters:
        for v in (it.outcome, it.first, it.second):
            if v not in lat_set:
                raise FitError(f"interaction {it.outcome} ~ {it.term}: '{v}' is not a construct of the model. "
                               "Fix: product terms need constructs measured by items")
    integrated: list[str] = []
    freq = pd.Series([v for it in inters for v in {it.first, it.second}]).value_counts()
    for it in inters:  # modsem's sortXis: one exogenous partner per product is integrated
        pair = [it.first, it.second]
        if any(v in integrated for v in pair):
            continue
        choice = [v for v in pair if v in exogenous]
        if not choice:
            raise FitError(f"interaction {it.outcome} ~ {it.term}: both constructs are endogenous. "
                           "Fix: at least one partner of a product must be exogenous (not predicted by a path)")
        integrated.append(max(choice, key=lambda v: (freq[v], -choice.index(v))))
    idx = {v: k for k, v in enumerate(latents)}
    partner = []
    for it in inters:
        s = it.first if it.first in integrated else it.second
        a = it.second if s == it.first else it.first
        partner.append((idx[it.outcome], idx[a], idx[s]))
    return integrated, partner


def _add_loadings_and_paths(table, rows, inters, latents, indicators, covariates):
    """Loadings (first fixed to 1), structural paths, covariate paths and product coefficients."""
    idx = {v: k for k, v in enumerate(latents)}
    lat_set = set(latents)
    pidx = {v: k for k, v in enumerate(indicators)}
    cidx = {v: k for k, v in enumerate(covariates)}
    for lv in latents:
        for k, r in enumerate(x for x in rows if x.op == "=~" and x.lhs == lv):
            i = pidx.get(r.rhs)
            fixed = r.fixed if r.fixed is not None else (1.0 if k == 0 else None)
            if i is None:  # second-order: the dimension is regressed on the construct
                table.add(lv, "=~", r.rhs, r.label, "beta", idx[r.rhs], idx[lv], fixed)
            else:
                table.add(lv, "=~", r.rhs, r.label, "lam", i, idx[lv], fixed)
    for r in rows:
        if r.op == "~":
            if r.rhs in lat_set:
                table.add(r.lhs, "~", r.rhs, r.label, "beta", idx[r.lhs], idx[r.rhs], r.fixed)
            else:
                table.add(r.lhs, "~", r.rhs, r.label, "gamma", idx[r.lhs], cidx[r.rhs], r.fixed)
    for j, it in enumerate(inters):
        table.add(it.outcome, "~", it.term, it.label, "omega", j, 0)


def _add_intercepts_and_variances(table, rows, latents, indicators, endogenous, exogenous):
    """Indicator intercepts and residual (co)variances, exogenous covariances, disturbances, user ``~~``."""
    idx = {v: k for k, v in enumerate(latents)}
    lat_set = set(latents)
    ind_set = set(indicators)
    pidx = {v: k for k, v in enumerate(indicators)}
    for v in indicators:
        table.add(v, "~1", "", "", "tau", pidx[v], 0)
    for v in indicators:
        table.add(v, "~~", v, "", "theta", pidx[v], pidx[v])
    done = set()
    for r in rows:
        if r.op == "~~" and r.lhs in ind_set and r.rhs in ind_set and r.lhs != r.rhs:
            table.add(r.lhs, "~~", r.rhs, r.label, "theta", pidx[r.lhs], pidx[r.rhs], r.fixed)
    for k, a in enumerate(exogenous):
        for b in exogenous[k:]:
            table.add(a, "~~", b, "", "psi", idx[a], idx[b])
            done.add(frozenset((a, b)))
    for v in latents:
        if v in endogenous:
            table.add(v, "~~", v, "", "psi", idx[v], idx[v])
            done.add(frozenset((v,)))
    for r in rows:
        if r.op == "~~" and r.lhs in lat_set and r.rhs in lat_set and frozenset((r.lhs, r.rhs)) not in done:
            table.add(r.lhs, "~~", r.rhs, r.label, "psi", idx[r.lhs], idx[r.rhs], r.fixed)
            done.add(frozenset((r.lhs, r.rhs)))


def build_interaction_model(syntax: str, interactions: tuple[Interaction, ...] = ()) -> InteractionModel:
    """Parameter table of ``syntax`` (product terms ``X:Z`` allowed) plus extra ``interactions``."""
    linear, found = split_interactions(syntax)
    inters = tuple(found) + tuple(interactions)
    if not inters:
        raise FitError("the model has no interaction term. Fix: add one, e.g. Y ~ X + Z + X:Z")
    rows = [r for r in parse_syntax(linear) if r.op != ":="]
    latents, indicators, covariates, endogenous, exogenous = _variable_roles(rows, inters)
    integrated, partner = _integrated_partners(inters, latents, exogenous)
    table = _RowTable()
    _add_loadings_and_paths(table, rows, inters, latents, indicators, covariates)
    _add_intercepts_and_variances(table, rows, latents, indicators, endogenous, exogenous)
    idx = {v: k for k, v in enumerate(latents)}
    return InteractionModel(syntax, linear, tuple(latents), tuple(indicators), tuple(covariates), inters,
                            tuple(idx[v] for v in integrated), tuple(partner), tuple(table.rows), tuple(exogenous))


def with_products_fixed(model: InteractionModel, which: set[tuple[str, str]] | None = None,
                        value: float = 0.0) -> InteractionModel:
    """The same model with product coefficients fixed (the H0 model of the likelihood-ratio test).

    ``which``: ``(outcome, "X:Z")`` pairs to fix; None fixes every product.
    """
    from dataclasses import replace
    rows, k = [], 0
    for r in model.rows:
        if r.matrix == "omega" and (which is None or (r.lhs, r.rhs) in which):
            rows.append(replace(r, free=-1, value=value))
        elif r.free >= 0:
            rows.append(replace(r, free=k))
            k += 1
        else:
            rows.append(r)
    return replace(model, rows=tuple(rows))
