"""The parameter table: user rows completed with lavaan's ``sem()``/``cfa()`` defaults.

Why our own table instead of semopy's: results must be reported in lavaan's conventions (row set, marker
loadings, exogenous covariances, ``fixed.x``), and the same table drives the project's ML engine
(``matrices.py``) used to polish semopy's solution and to fit bootstrap resamples.

Defaults reproduced (lavaan ``lav_partable_flat``/``lav_partable_vnames``):
* first indicator of every factor fixed to 1 (``auto.fix.first``);
* residual variances of all non-exogenous observed variables and (residual) variances of all latents;
* covariances among exogenous latents (``auto.cov.lv.x``) and among pure dependent latent/observed
  variables (``auto.cov.y``);
* observed exogenous covariates (``ov.x``) are ``fixed.x``: their (co)variances are fixed at the sample
  values, so they count neither as parameters nor as data moments.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import combinations

from ..errors import FitError
from .param import Param
from .syntax_parser import parse_syntax


@dataclass(frozen=True)
class Variables:
    """Variable roles in lavaan's vocabulary."""

    lv: tuple[str, ...]
    ov: tuple[str, ...]          # observed variables in model order (indicators, ov.y, ov.x)
    ov_ind: tuple[str, ...]
    ov_x: tuple[str, ...]
    ov_y: tuple[str, ...]
    lv_x: tuple[str, ...]
    lv_y: tuple[str, ...]

    @property
    def eta(self) -> tuple[str, ...]:
        """Latent variables plus one 'phantom' latent per observed variable that is not an indicator."""
        return self.lv + tuple(v for v in self.ov if v not in self.ov_ind)


@dataclass(frozen=True)
class ParTable:
    params: tuple[Param, ...]
    defined: tuple[Param, ...]          # ``:=`` rows (rhs = the expression)
    variables: Variables
    n_free: int
    free_labels: tuple[str, ...] = field(default=())
    groups: tuple[str, ...] = field(default=())   # analysis group names (multigroup tables only)
    meanstructure: bool = False                    # True when the table has ``~1`` rows
    n_unco: int = 0                                # free rows before equality constraints

    def rows(self, op: str | None = None) -> list[Param]:
        return [p for p in self.params if op is None or p.op == op]

    @property
    def n_groups(self) -> int:
        return max(1, len(self.groups))

    def group_view(self, g: int) -> "ParTable":
        """The covariance-structure rows of block ``g`` (no ``~1`` rows) with the *global* free indices,
        so the single-group matrix builder (``build_matrix_model``) can place them unchanged."""
        rows = tuple(p for p in self.params if p.group == g and p.op != "~1")
        return ParTable(rows, self.defined, self.variables, self.n_free, self.free_labels)


def _unique(seq):
    return list(dict.fromkeys(seq))


def _roles(rows: list[Param]) -> Variables:
    model = [r for r in rows if r.op != ":="]
    lv = _unique(r.lhs for r in model if r.op == "=~")
    v_ind = _unique(r.rhs for r in model if r.op == "=~")
    eqs_y = _unique(r.lhs for r in model if r.op == "~")
    eqs_x = _unique(r.rhs for r in model if r.op == "~")
    ov_ind = [v for v in v_ind if v not in lv]
    ov_y = [v for v in eqs_y if v not in lv and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y]
    mentioned_cov = {r.lhs for r in model if r.op == "~~"} | {r.rhs for r in model if r.op == "~~"}
    ov_x = [v for v in ov_x if v not in mentioned_cov]  # lavaan: such variables are not fixed.x
    extra = [v for v in _unique([r.lhs for r in model if r.op == "~~"] + [r.rhs for r in model if r.op == "~~"])
             if v not in lv]
    ov = _unique(ov_ind + ov_y + [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y] + extra)
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    lv_y = [v for v in eqs_y if v in lv and v not in v_ind and v not in eqs_x]
    ov_y_pure = [v for v in eqs_y if v not in v_ind and v not in eqs_x and v not in lv]
    return Variables(tuple(lv), tuple(ov), tuple(ov_ind), tuple(ov_x), tuple(ov_y_pure), tuple(lv_x), tuple(lv_y))


def build_partable(syntax: str, *, auto_cov_y: bool = True) -> ParTable:
    """Complete the user's syntax with lavaan's defaults and number the free parameters.

    Parameters sharing a label share one free index (an equality constraint, as in lavaan).
    """
    rows = parse_syntax(syntax)
    model = [r for r in rows if r.op != ":="]
    defined = tuple(r for r in rows if r.op == ":=")
    if not any(r.op == "=~" for r in model) and not any(r.op == "~" for r in model):
        raise FitError("model syntax has neither loadings (=~) nor regressions (~)")
    var = _roles(rows)

    table: list[Param] = []
    seen: set[tuple[str, str, str]] = set()

    def add(row: Param):
        k = (row.lhs, row.op, row.rhs)
        k2 = (row.rhs, row.op, row.lhs) if row.op == "~~" else k
        if k in seen or k2 in seen:
            return
        seen.add(k)
        table.append(row)

    # user rows, with the marker loading fixed to 1 when the user gave no value
    first_indicator: dict[str, str] = {}
    for r in model:
        if r.op == "=~" and r.lhs not in first_indicator:
            first_indicator[r.lhs] = r.rhs
            if r.value is None and not r.label:
                r = replace(r, value=1.0)
        add(r)

    # default variances: observed non-exogenous, then latents
    for v in [v for v in var.ov if v not in var.ov_x] + list(var.lv):
        add(Param(v, "~~", v, user=False))
    for a, b in combinations(var.lv_x, 2):
        add(Param(a, "~~", b, user=False))
    if auto_cov_y:
        for a, b in combinations(list(var.lv_y) + list(var.ov_y), 2):
            add(Param(a, "~~", b, user=False))
    for i, a in enumerate(var.ov_x):
        for b in var.ov_x[: i + 1]:
            add(Param(b, "~~", a, user=False, exo=True))

    for r in table:
        if r.op == "~~" and r.lhs not in var.eta + var.ov and r.rhs not in var.eta + var.ov:
            raise FitError(f"'{r.lhs} ~~ {r.rhs}' names unknown variables")

    params, n_free, free_labels = _number_free(table)
    return ParTable(tuple(params), defined, var, n_free, tuple(free_labels))


def _number_free(table: list[Param]) -> tuple[list[Param], int, list[str]]:
    """Number the free rows in table order; rows sharing a label share one index (an equality constraint)."""
    params: list[Param] = []
    label_index: dict[str, int] = {}
    free_labels: list[str] = []
    n_free = 0
    for r in table:
        if r.value is not None or r.exo:
            params.append(replace(r, free=-1))
            continue
        if r.label and r.label in label_index:
            idx = label_index[r.label]
        else:
            idx = n_free
            n_free += 1
            free_labels.append(r.label)
            if r.label:
                label_index[r.label] = idx
        params.append(replace(r, free=idx, value=None, exo=False))
    return params, n_free, free_labels
