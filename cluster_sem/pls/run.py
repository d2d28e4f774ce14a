"""``cluster-sem pls``: spec + data → PLS-SEM (or PLSc) estimates, quality criteria and bootstrap
inference → one results document with a ``pls`` block beside ``meta``, ``data``, ``spec`` and ``warnings``.

Data are cleaned exactly as for ``fit`` (missing codes, recodes, reverse keys, listwise deletion; seminr
would mean-replace blanks instead), then every number comes from the items' correlation matrix.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ClusterSemError
from ..options import DEFAULT_SEED
from .algorithm import SCHEMES, correlations
from .bootstrap import BootCore, jackknife, run_bootstrap, summarise
from .estimate import Estimates
from .model import SECOND_ORDER, PathModel, from_spec, two_stage_models
from .quality import adjusted_r2, alpha, f_squared, inner_vif, outer_vif, rho_c_ave
from .statistics import Layout

HTMT_STRICT, HTMT_LENIENT = 0.85, 0.90      # Henseler, Ringle & Sarstedt (2015)
CONVENTIONS = ("seminr 2.3.1 (simplePLS: standardised items, unit starting weights, stop when the summed "
               "absolute weight change < 1e-7, at most 300 iterations; PLSc by Dijkstra & Henseler 2015)")


@dataclass(frozen=True)
class PlsOptions:
    consistent: bool = False
    mode: str = "A"
    scheme: str = "path"
    bootstrap: int = 0
    seed: int = DEFAULT_SEED
    jobs: int = 1
    level: float = 0.95
    predict: int = 0
    mga: bool = False
    cbsem: str | None = None        # a `cluster-sem fit` --out directory of the same spec and data
    second_order: str = "repeated"  # "repeated" indicators or "two-stage" (model.SECOND_ORDER)
    quiet: bool = True
    command: str = ""


def check_pls_options(o: PlsOptions) -> None:
    """Option values that cannot work: one line naming the option and the fix."""
    if o.mode not in ("A", "B"):
        raise ClusterSemError(f"--mode {o.mode}: unknown outer mode. Fix: use --mode A or --mode B")
    if o.scheme not in SCHEMES:
        raise ClusterSemError(f"--scheme {o.scheme}: unknown. Fix: use one of {', '.join(SCHEMES)}")
    if o.bootstrap < 0 or 0 < o.bootstrap < 50:
        raise ClusterSemError(f"--bootstrap {o.bootstrap}: too few resamples for CIs. Fix: use 0 or at least "
                              "50 (5000 is usual)")
    if o.jobs < 1:
        raise ClusterSemError(f"--jobs {o.jobs}: must be at least 1. Fix: e.g. --jobs 2")
    if not 0.5 < o.level < 1:
        raise ClusterSemError(f"--ci-level {o.level}: must lie between 0.5 and 1. Fix: e.g. --ci-level 0.95")
    if o.seed < 0:
        raise ClusterSemError(f"--seed {o.seed}: must be a non-negative integer. Fix: e.g. --seed 1")
    if o.mga and not o.bootstrap:
        raise ClusterSemError("--mga needs bootstrap resamples of each group. Fix: add --bootstrap B (e.g. 2000)")
    if o.second_order not in SECOND_ORDER:
        raise ClusterSemError(f"--second-order {o.second_order}: unknown. Fix: use one of {', '.join(SECOND_ORDER)}")
    if o.predict < 0 or o.predict == 1:
        raise ClusterSemError(f"--predict {o.predict}: needs at least 2 folds. Fix: e.g. --predict 10")


def _f(x) -> float | None:
    """A JSON number (None for NaN/inf)."""
    x = float(x)
    return x if np.isfinite(x) else None


def _total_pairs(model: PathModel) -> tuple[tuple[str, str], ...]:
    """(from, to) pairs with an indirect route, i.e. where a total effect differs from the direct path."""
    from .algorithm import total_effects
    reach = total_effects(model.adjacency()[None])[0]
    direct = model.adjacency()
    return tuple((a, b) for i, a in enumerate(model.constructs) for j, b in enumerate(model.constructs)
                 if reach[i, j] != direct[i, j])


INFERENCE_KEYS = ("se", "t", "pvalue", "ci_lower", "ci_upper", "bca_lower", "bca_upper")


class _Rows:
    """Rows of the block's lists: each estimate with its bootstrap inference (None without a bootstrap)."""

    def __init__(self, layout: Layout, point: np.ndarray, boot: dict | None):
        self.parts = layout.split(point[None])
        self.summary = boot["summary"] if boot else None
        self.offsets, at = {}, 0
        for name, size in layout.sizes().items():
            self.offsets[name] = at
            at += size

    def row(self, part: str, j: int, **names) -> dict:
        """``names`` + est + inference of entry j of ``part``."""
        at = self.offsets[part] + j
        inference = {k: (_f(self.summary[k][at]) if self.summary else None) for k in INFERENCE_KEYS}
        return {**names, "est": _f(self.parts[part][0, j]), **inference}

    def htmt(self, j: int, a: str, b: str) -> dict:
        """An HTMT pair with its one-sided upper limit and the .85/.90 verdicts (Henseler et al. 2015)."""
        hi = _f(self.summary["upper_one_sided"][self.offsets["htmt"] + j]) if self.summary else None
        return {"a": a, "b": b, "est": _f(self.parts["htmt"][0, j]), "ci_upper": hi,
                "below_085": None if hi is None else hi < HTMT_STRICT,
                "below_090": None if hi is None else hi < HTMT_LENIENT}


def _quality(model: PathModel, S: np.ndarray, est: Estimates, n: int, reported: tuple[str, ...]) -> dict:
    """R², adjusted R², reliability (constructs in ``reported`` or with several items) and VIFs."""
    endogenous = model.endogenous()
    a, rc = alpha(S, model), rho_c_ave(est.loadings[0], model)
    return {
        "r2": {c: _f(est.r2[0, model.index(c)]) for c in endogenous},
        "r2_adj": {c: _f(adjusted_r2(est.r2[0, model.index(c)], n, len(model.predictors(c)))) for c in endogenous},
        "reliability": {c: {"alpha": _f(a[c]), "rho_a": _f(est.rho_a[0, k]), "rho_c": _f(rc[c][0]),
                            "ave": _f(rc[c][1])}
                        for k, c in enumerate(model.constructs) if c in reported or len(model.blocks[k]) > 1},
        "vif": {"outer": outer_vif(S, model), "inner": inner_vif(est.score_cor[0], model)},
    }


def _reported(layout: Layout) -> list[tuple[PathModel, tuple[str, ...]]]:
    """(model, constructs) the block lists: every construct of the model, then (two-stage) the dimensions
    as stage 1 measured them."""
    out = [(layout.model, layout.model.constructs)]
    return out + ([(layout.stage1, layout.dimensions)] if layout.stage1 is not None else [])


def _add_dimensions(quality: dict, layout: Layout, S: np.ndarray, first: Estimates, n: int) -> None:
    """Two-stage: the dimensions' reliability and outer VIFs, from stage 1 (stage 2 sees only their scores)."""
    q1 = _quality(layout.stage1, S, first, n, layout.dimensions)
    for c in layout.dimensions:
        if c in q1["reliability"]:
            quality["reliability"][c] = q1["reliability"][c]
        if c in q1["vif"]["outer"]:
            quality["vif"]["outer"][c] = q1["vif"]["outer"][c]


def pls_block(model: PathModel, layout: Layout, S: np.ndarray, est: Estimates, point: np.ndarray, n: int,
              options: PlsOptions, boot: dict | None, htmt_constructs: tuple[str, ...]) -> dict:
    """The ``pls`` block of results.json."""
    rows = _Rows(layout, point, boot)
    S2, first = layout.stages(S[None])
    quality = _quality(model, S2[0], est, n, htmt_constructs)
    if first is not None:
        _add_dimensions(quality, layout, S, first, n)
    f2 = f_squared(S2[0], model, est.r2[0], consistent=options.consistent, scheme=options.scheme)
    vif = quality["vif"]["inner"]
    paths = [{**rows.row("paths", j, **{"from": s, "to": d, "kind": kind}), "f2": _f(f2[(s, d)]),
              "vif": _f(vif[d][s])} for j, (s, d, kind) in enumerate(layout.paths)]
    constructs = [{"name": c, "mode": m.modes[k], "kind": "common_factor" if m.reflective[k] else "composite",
                   "items": list(m.blocks[k])} for m, names in _reported(layout) for k, c in enumerate(m.constructs)
                  if c in names]
    return {
        "variant": "plsc" if options.consistent else "pls", "mode": options.mode,
        "weighting": options.scheme, "iterations": int(est.iterations[0]), "converged": bool(est.converged[0]),
        "n": n, "constructs": constructs, "paths": paths,
        "loadings": [rows.row("loadings", j, construct=c, item=i) for j, (c, i) in enumerate(layout.outer)],
        "weights": [rows.row("weights", j, construct=c, item=i) for j, (c, i) in enumerate(layout.outer)],
        "r2": quality["r2"], "r2_adj": quality["r2_adj"], "reliability": quality["reliability"],
        "htmt": [rows.htmt(j, a, b) for j, (a, b) in enumerate(layout.pairs)],
        "indirect": [rows.row("indirect", j, name=name, path=list(chain))
                     for j, (name, chain) in enumerate(layout.indirect)],
        "total": [rows.row("total", j, **{"from": a, "to": b}) for j, (a, b) in enumerate(layout.total)],
        "vif": {side: {c: {k: _f(v) for k, v in row.items()} for c, row in table.items()}   # null: singular block
                for side, table in quality["vif"].items()}, "predict": None,
        "bootstrap": None if boot is None else {k: v for k, v in boot.items() if k != "summary"},
    }


def run_pls(spec, data, options: PlsOptions = PlsOptions(), *, timestamp: str | None = None):
    """All stages of ``cluster-sem pls``; returns frozen Results."""
    from ..data import prepare_data
    from ..results.provenance import versions
    from ..render.report import Results
    from ..spec import Spec
    from ..spec.loader import load_spec
    import hashlib

    check_pls_options(options)
    if isinstance(spec, Spec):
        parsed, spec_sha = spec, hashlib.sha256(spec.model_dump_json(by_alias=True).encode()).hexdigest()
    else:
        parsed, spec_sha = load_spec(spec, pls=True), hashlib.sha256(Path(spec).read_bytes()).hexdigest()
    warnings: list[str] = []
    if parsed.interactions:
        warnings.append("the spec's interactions are not estimated by PLS here (use cluster-sem fit)")
    if parsed.covariances:
        warnings.append("the spec's covariances have no counterpart in a PLS path model and are ignored")
    two_stage = options.second_order == "two-stage" and bool(parsed.second_order)
    if two_stage:
        stage1, model = two_stage_models(parsed, mode=options.mode, consistent=options.consistent)
    else:
        stage1, model = None, from_spec(parsed, mode=options.mode, consistent=options.consistent)
    if options.mga and not parsed.group:
        raise ClusterSemError("--mga: the spec names no group column. Fix: add `group: COLUMN` to the spec")
    prepared = prepare_data(parsed, data, missing="listwise", by_group=options.mga)
    cbsem_doc = _cbsem(options, spec, data, spec_sha, prepared)
    X = prepared.frame[list((stage1 or model).items)].to_numpy(dtype=float)
    n = X.shape[0]
    if n < 3:
        raise ClusterSemError(f"{prepared.source}: only {n} complete rows. Fix: PLS needs more cases")
    S = correlations(X)
    constant = [i for i, v in zip((stage1 or model).items, np.diag(S)) if not np.isfinite(v)]
    if constant:
        raise ClusterSemError(f"{prepared.source}: column '{constant[0]}' has the same value in every used row. "
                              "Fix: drop the item from the spec or check the data")
    first = tuple(c for c in parsed.first_order)
    layout = Layout.of(model, consistent=options.consistent, scheme=options.scheme, htmt_constructs=first,
                       indirect=tuple((i.name, tuple(i.path)) for i in parsed.indirect),
                       total=_total_pairs(model), stage1=stage1)
    est, point = layout.estimate(S[None])
    if options.consistent:
        _check_rho_a(est, model)
    if not np.all(np.isfinite(point)):
        raise ClusterSemError("PLS estimation failed (a singular block of items or constructs). Fix: check for "
                              "duplicated or perfectly collinear items")
    if options.consistent and not any(model.reflective[k] and len(b) > 1 for k, b in enumerate(model.blocks)):
        warnings.append("--consistent: every multi-item construct is a composite (mode B), so PLSc corrects "
                        "nothing and equals PLS")
    if not est.converged[0]:
        warnings.append(f"the PLS algorithm did not converge in {est.iterations[0]} iterations")
    stage1_est = layout.stages(S[None])[1]
    if stage1_est is not None and not stage1_est.converged[0]:
        warnings.append(f"two-stage: stage 1 of the PLS algorithm did not converge in {stage1_est.iterations[0]} "
                        "iterations")
    predict = _predict(X, model, parsed, options) if options.predict else None
    boot = _bootstrap(X, layout, point[0], options) if options.bootstrap else None
    if boot and boot["failed"]:
        warnings.append(f"bootstrap: {boot['failed']} of {boot['resamples']} resamples failed (an item without "
                        "variance or a singular block) and were dropped, as seminr does")
    block = pls_block(model, layout, S, est, point[0], n, options, boot, first)
    block["second_order"] = options.second_order if parsed.second_order else None
    block["predict"] = predict
    if options.mga:
        block["mga"] = _mga(prepared, parsed, X, layout, options)
    if cbsem_doc is not None:
        from .compare import cbsem_comparison
        block["cbsem_comparison"] = cbsem_comparison(cbsem_doc, block, str(Path(options.cbsem) / "results.json"))
    stamp = timestamp or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    from .. import __version__
    doc = {
        "pls": block,
        "data": {"source": prepared.source, "n_raw": prepared.n_raw, "n_used": prepared.n_used,
                 "n_dropped": prepared.n_dropped, "dropped": [list(d) for d in prepared.dropped],
                 "log": list(prepared.log),
                 "missing_by_item": {k: _f(v) for k, v in prepared.missing_by_item.items()}, "groups": {}},
        "spec": parsed.model_dump(mode="json", by_alias=True, exclude_none=True),
        "warnings": warnings,
        "meta": {"analysis": "pls", "version": __version__, "seed": options.seed, "data_sha256": prepared.sha256,
                 "spec_sha256": spec_sha, "n_used": prepared.n_used, "n_dropped": prepared.n_dropped,
                 "estimator": "PLSc" if options.consistent else "PLS", "bootstrap": options.bootstrap,
                 "ci_level": options.level, "title": parsed.title.model_dump(exclude_none=True),
                 "command": options.command, "versions": versions(), "timestamp": stamp,
                 "conventions": CONVENTIONS},
    }
    return Results.from_document(doc)


def _cbsem(options: PlsOptions, spec, data, spec_sha: str, prepared) -> dict | None:
    """The `fit` document of --cbsem, checked against this run's spec and data before any estimation."""
    if options.cbsem is None:
        return None
    from .compare import load_cbsem
    return load_cbsem(options.cbsem, spec_name=str(spec) if isinstance(spec, (str, Path)) else "the spec",
                      spec_sha=spec_sha, data_sha=prepared.sha256,
                      data_name=str(data) if isinstance(data, (str, Path)) else prepared.source)


def _mga(prepared, spec, X: np.ndarray, layout: Layout, options: PlsOptions) -> dict:
    """PLS-MGA across the spec's groups (rows without a group were dropped by the data step)."""
    from ..data.groups import analysis_groups
    from .mga import pls_mga
    groups = analysis_groups(prepared.frame, spec.group, spec.group_levels, source=prepared.source)
    if len(groups.names) < 2:
        raise ClusterSemError(f"--mga: column '{spec.group}' has {len(groups.names)} group(s) in the used rows. "
                              "Fix: PLS-MGA compares at least two groups")
    return pls_mga(X, groups.labels.to_numpy(), groups.names, layout, B=options.bootstrap, seed=options.seed,
                   jobs=options.jobs, quiet=options.quiet, column=spec.group)


def _check_rho_a(est: Estimates, model: PathModel) -> None:
    """PLSc divides by √ρ_A: a common factor with ρ_A ≤ 0 (items that do not correlate positively) has none."""
    for k, c in enumerate(model.constructs):
        if model.reflective[k] and not est.rho_a[0, k] > 0:
            raise ClusterSemError(f"constructs.{c}: rho_A = {est.rho_a[0, k]:.3f}, so PLSc cannot correct it (its "
                                  "items do not correlate positively). Fix: check reverse-keyed items, or run PLS "
                                  "without --consistent")


def _predict(X: np.ndarray, model: PathModel, spec, options: PlsOptions) -> dict:
    """PLSpredict with ``options.predict`` folds (refused for second-order constructs and too few rows)."""
    from .predict import pls_predict, shuffle
    if spec.second_order:
        name = next(iter(spec.second_order))
        raise ClusterSemError(f"--predict {options.predict}: constructs.{name} is second-order, and PLSpredict has "
                              "no published solution for higher-order models (seminr refuses them too). Fix: "
                              "leave --predict out, or predict a model of first-order constructs")
    if X.shape[0] < 2 * options.predict:
        raise ClusterSemError(f"--predict {options.predict}: {X.shape[0]} rows give folds of under 2 cases. "
                              "Fix: use fewer folds, e.g. --predict 5")
    block = pls_predict(X, model, k=options.predict, order=shuffle(X.shape[0], options.seed),
                        consistent=options.consistent, scheme=options.scheme)
    return {**block, "seed": options.seed}


def _bootstrap(X: np.ndarray, layout: Layout, point: np.ndarray, options: PlsOptions) -> dict:
    core = BootCore(X, layout)
    jack: list[np.ndarray] = []       # the BCa jackknife, fitted here while the workers fit resamples
    t, converged = run_bootstrap(core, options.bootstrap, options.seed, jobs=options.jobs, quiet=options.quiet,
                                 meanwhile=lambda: jack.append(jackknife(core)))
    ok = np.isfinite(t).all(axis=1)
    t = t[ok]
    summary = summarise(t, point, jack[0], options.level)
    return {"resamples": options.bootstrap, "completed": int(ok.sum()), "failed": int((~ok).sum()),
            "not_converged": int((~converged[ok]).sum()), "seed": options.seed, "level": options.level,
            "ci": "percentile", "bca": True, "htmt_upper": f"one-sided {options.level:g} quantile",
            "summary": summary}
