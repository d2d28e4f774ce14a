"""The two-level stage of ``cluster-sem fit`` for a spec with ``levels:`` (and ``cluster:``).

It runs beside the single-level fit (whose SEs are then lavaan's cluster-robust ones) and adds the
``twolevel`` block to results.json: lavaan's two-level ML fit, parameter rows with a ``level`` column, fit
measures and lavaan's ICCs (also written to the ``design`` block as ``icc_twolevel``).

Syntax written from the spec: at level 1 every ``within`` construct is measured by its items and the
spec's paths among ``within`` constructs are regressed, with the spec's controls as firm-level covariates of
every such outcome (within-only fixed.x covariates, as ``x1``–``x3`` in lavaan's Demo.twolevel model); at
level 2 likewise for ``between``, without controls.  Items that
no between construct measures get free between (co)variances among themselves (a saturated between part,
the usual choice when the cluster level is not theorised), so no item is forced to be within-only.
"""
from __future__ import annotations

from itertools import combinations

import pandas as pd

from ..errors import ClusterSemError
from ..model.twolevel.fit import TwoLevelFit, fit_twolevel
from ..results.design import MIN_CLUSTERS   # the same bar as cluster-robust SEs: at least 20 clusters
from ..spec import Spec


def _level_lines(spec: Spec, constructs: tuple[str, ...], controls: tuple[str, ...] = ()) -> list[str]:
    chosen = set(constructs)
    lines = [f"{c} =~ {' + '.join(spec.items_of(c))}" for c in constructs]
    predictors: dict[str, list[str]] = {}
    for path in spec.paths:
        if path.to in chosen:
            predictors.setdefault(path.to, []).extend(x for x in path.from_ if x in chosen)
    lines += [f"{to} ~ {' + '.join(list(dict.fromkeys(xs)) + list(controls))}"
              for to, xs in predictors.items() if xs]
    lines += [f"{a} ~~ {b}" for a, b in spec.covariances if a in chosen and b in chosen]
    return lines


def twolevel_syntax(spec: Spec) -> str:
    """lavaan two-level syntax for the spec's ``levels``."""
    levels = spec.levels
    within = _level_lines(spec, levels.within, spec.controls)
    between = _level_lines(spec, levels.between)
    measured = {i for c in levels.between for i in spec.items_of(c)}
    free = [i for c in levels.within for i in spec.items_of(c) if i not in measured]
    between += [f"{i} ~~ {i}" for i in free] + [f"{a} ~~ {b}" for a, b in combinations(free, 2)]
    return "level: 1\n" + "\n".join(within) + "\nlevel: 2\n" + "\n".join(between) + "\n"


def check_twolevel(spec: Spec, lav, options) -> None:
    """Refuse, in one line each, what the two-level model does not support (exit 2 before any data are read).
    ``spec`` is the spec after ``--cluster`` was applied (``pipeline.resolve_design``)."""
    if spec.levels is None:
        return
    if spec.cluster is None:
        raise ClusterSemError("spec 'levels' (two-level SEM) needs the cluster column. Fix: add 'cluster: COLUMN' "
                              "to the spec or give --cluster COLUMN")
    refusals = (
        (lav.estimator != "ML", f"--estimator {lav.estimator}: only ML (lavaan's default for level: 1 / level: 2)"),
        (lav.fiml, "--missing fiml: the two-level model uses complete rows (listwise)"),
        (options.bootstrap > 0, "--bootstrap: a case bootstrap breaks the clusters"),
        (bool(options.weights), "--weights: sampling weights are not supported"),
    )
    for refused, what in refusals:
        if refused:
            raise ClusterSemError(f"spec 'levels' (two-level SEM) with {what}. "
                                  "Fix: drop it, or drop 'levels' for a single-level fit with cluster-robust SEs")


def stage_twolevel(spec: Spec, frame: pd.DataFrame) -> TwoLevelFit | None:
    """The two-level fit of the analysed rows (items reverse-coded and cleaned by the data layer, as the
    single-level fit sees them); None for a spec without ``levels``."""
    if spec.levels is None:
        return None
    return fit_twolevel(twolevel_syntax(spec), frame, cluster=spec.cluster)


def twolevel_warnings(fit: TwoLevelFit) -> list[str]:
    """Warnings of the two-level fit, each with the prefix 'two-level model: ' (translated for zh reports by
    ``render/phrases/messages.yaml``)."""
    out = []
    if fit.n_clusters < MIN_CLUSTERS:
        out.append(f"only {fit.n_clusters} clusters: the between level is estimated from {fit.n_clusters} "
                   f"cluster means, too few for stable between-level estimates (at least "
                   f"{MIN_CLUSTERS} are advised)")
    negative = [f"{r.lhs} (level {r.level})" for r in fit.parameters.itertuples()
                if r.op == "~~" and r.lhs == r.rhs and r.est < 0]
    if negative:
        out.append(f"negative variance estimates (Heywood cases): {', '.join(negative)}")
    if not fit.converged:
        out.append("the optimiser did not converge; read its estimates with care")
    return [f"two-level model: {w}" for w in out]


def twolevel_block(fit: TwoLevelFit, num) -> dict:
    """results.json ``twolevel``; ``num`` makes numbers JSON-safe (the pipeline's ``_num``)."""
    return {
        "syntax": fit.syntax,
        "estimator": "ML", "information": "observed", "test": "standard",
        "n": fit.n, "n_clusters": fit.n_clusters,
        "fit": {k: ([num(v) for v in val] if isinstance(val, list) else num(val)) for k, val in fit.fit.items()},
        "parameters": [{k: num(v) for k, v in row.items()} for row in fit.parameters.to_dict(orient="records")],
        "icc": {k: num(v) for k, v in fit.icc.items()},
        "converged": bool(fit.converged),
        "iterations": int(fit.iterations),
        "warnings": twolevel_warnings(fit),
    }
