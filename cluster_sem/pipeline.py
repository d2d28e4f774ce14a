"""The fit pipeline, as a visible sequence of named stages (what ``cluster-sem fit`` runs):

    load spec → load/clean data → build syntax → fit measurement model (CFA) → fit structural model
    → measurement quality → effects (+ bootstrap / Monte Carlo CIs) → hypotheses → Results document

Each stage is a function with typed input and output; only ``assemble_document`` knows the layout of
results.json (contract §3, plus extra keys the report needs).
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .errors import naming_source
from .lavoptions import LavOptions, lav_options, skip_message
from .model.fitted import ModelFit, fit_model
from .options import DEFAULT_SEED
from .render.report import Results
from .results.effects import (baron_kenny, ci_excludes_zero, effect_claim, mediation_short, path_verdict,
                              zhao_type)
from .results.fit_verdicts import fit_verdicts
from .results.jsonsafe import json_fit, json_records, json_safe
from .results.jsonsafe import json_value as _num
from .results.provenance import versions
from .spec import Spec, load_spec
from .spec.groups import group_label
from .spec.syntax import defined_effects, measurement_syntax, path_label, structural_syntax


@dataclass(frozen=True)
class FitOptions:
    bootstrap: int = 0
    seed: int = DEFAULT_SEED
    jobs: int = 1
    level: float = 0.95
    missing: str = "listwise"
    estimator: str | None = None  # None: the spec decides (WLSMV if `ordinal: true`, else ML)
    ci: str = "auto"          # auto: bootstrap percentile if B > 0, else delta-method (normal) CI
    scheduler: str | None = None
    quiet: bool = True
    command: str = ""
    engine: str = "default"   # "default" (lavaan start values, no semopy) or "semopy" (semopy start)
    interaction_method: str = "lms"   # lms | qml | dblcent: estimator of the spec's latent interactions
    moderation_ci: str = "monte-carlo"  # or "bootstrap": IMM/conditional indirect CIs from B LMS refits
    lav: LavOptions | None = None     # resolved once by run_fit (``resolve_options``), against the spec
    cluster: str | None = None    # complex samples (--cluster / spec `cluster:`): cluster-robust SEs and test
    weights: str | None = None    # sampling weights column (--weights / spec `weights:`)
    modindices: bool = False  # lavaan modindices() of both models (results.json modification_indices)
    compare: tuple[str, ...] = ()   # equality hypotheses "OL~TS = OL~RQ" (results.json comparisons)
    cluster_bootstrap: bool = False   # --cluster-bootstrap: the bootstrap resamples whole clusters

    @property
    def resolved(self) -> LavOptions:
        """The resolved options: ``lav``, or (a stage called on its own) resolved from the fields above."""
        return self.lav if self.lav is not None else resolve_options(None, self)


# -- stages ------------------------------------------------------------------------------------------

def stage_spec(spec: Spec | str | Path) -> tuple[Spec, str]:
    if isinstance(spec, Spec):
        text = spec.model_dump_json(by_alias=True)
        return spec, hashlib.sha256(text.encode()).hexdigest()
    path = Path(spec)
    parsed = load_spec(path)
    return parsed, hashlib.sha256(path.read_bytes()).hexdigest()


def stage_data(spec: Spec, data, options: FitOptions):
    from .data import prepare_data
    lav = options.resolved   # unsupported combinations are refused here, before the data are read
    from .data.estimable import check_estimable
    prepared = prepare_data(spec, data, missing=lav.missing, by_group=False)  # single group: keep rows without one
    check_estimable(spec, prepared)
    if lav.ordinal:
        from .data.estimable import note_many_categories
        note_many_categories(spec, prepared)
    return prepared


def resolve_options(spec: Spec | None, options: FitOptions) -> LavOptions:
    """The run's options resolved once against the spec (WLSMV for `ordinal: true` unless --estimator says
    otherwise); an unsupported combination stops here with the support table's one line (exit 2).  Without a
    spec (a stage called on its own) the spec's features count as absent."""
    return lav_options(options.estimator, options.missing, options.engine,
                       ordinal_spec=bool(spec and spec.ordinal), controls=bool(spec and spec.controls),
                       interaction=bool(spec and spec.interactions),
                       design=_design_flag(options), bootstrap=options.bootstrap > 0,
                       modindices=options.modindices, cluster_bootstrap=options.cluster_bootstrap)


def _design_flag(options: FitOptions) -> str:
    """The complex-sample option in force, as the support table names it ("" for an independent sample)."""
    return "--cluster" if options.cluster else "--weights" if options.weights else ""


def resolve_design(spec: Spec, options: FitOptions) -> tuple[Spec, FitOptions]:
    """The command-line --cluster/--weights win over the spec's keys; the spec carries the result (so the
    data layer checks and keeps those columns) and so do the options (the fitter uses them)."""
    from .spec.validate import check_design_options
    check_design_options(spec, options.cluster, options.weights)
    update = {k: v for k, v in (("cluster", options.cluster), ("weights", options.weights)) if v}
    if update:
        spec = spec.model_copy(update=update)
    return spec, dataclasses.replace(options, cluster=spec.cluster, weights=spec.weights)


def _fitter(options: FitOptions, items=None):
    """The run's single-group fitter (``model.estimators.fit``: the estimator table routes by the resolved
    options and the sample design)."""
    from .model.estimators import fit as estimate   # the table is read when a fit runs, not on import
    lav = options.resolved

    def fit(syntax: str, frame: pd.DataFrame) -> ModelFit:
        return estimate(syntax, frame, lav, cluster=options.cluster, weights=options.weights, items=items)
    return fit


def refitter(spec: Spec, frame: pd.DataFrame, options: FitOptions):
    """The structural model's own fitter (same estimator, missing-data treatment and sample design) for
    another syntax on the same rows: the constrained refits of ``--compare``."""
    fit = _fitter(options, list(spec.items))
    return lambda syntax: fit(syntax, frame)


def stage_fit(spec: Spec, frame: pd.DataFrame, options: FitOptions | None = None) -> tuple[ModelFit, ModelFit]:
    """The measurement and the structural model, each by the run's own fitter (``refitter``: WLSMV when every
    item is an ordered category, else ML/MLR/FIML with the sample design); plain ML without options."""
    fit = refitter(spec, frame, options) if options is not None else lambda syntax: fit_model(syntax, frame)
    return fit(measurement_syntax(spec)), fit(structural_syntax(spec, with_defined=True))


def stage_quality(spec: Spec, cfa: ModelFit, frame: pd.DataFrame, raw: pd.DataFrame | None) -> dict:
    """α/ω/AVE from the CFA (two-step approach), HTMT and Harman from the items, descriptives from all rows."""
    from .quality import (fornell_larcker, harman_test, htmt, htmt_flags, item_descriptives,
                          measurement_quality)
    from .results.estimator_choice import estimator_choice
    constructs = {c: spec.items_of(c) for c in spec.first_order}
    P = cfa.parameters
    loadings = {c: P[(P.op == "=~") & (P.lhs == c)].set_index("rhs")["est"] for c in constructs}
    ov = list(cfa.matrix_model.ov)
    S = pd.DataFrame(cfa.sample_cov, index=ov, columns=ov)
    lv = list(cfa.partable.variables.lv)
    psi = pd.DataFrame(np.zeros((len(lv), len(lv))), index=lv, columns=lv)
    for row in P[(P.op == "~~") & P.lhs.isin(lv)].itertuples():
        psi.loc[row.lhs, row.rhs] = psi.loc[row.rhs, row.lhs] = row.est
    items = [i for c in constructs.values() for i in c]
    # FIML keeps blanks; α, HTMT (semTools: listwise) and Harman use complete rows (Harman: EM moments if too few)
    everything, frame = frame, frame.dropna(subset=items)
    quality = measurement_quality(loadings, psi, S, frame)
    ordinal = bool((P.op == "|").any())
    if ordinal:  # WLSMV: ω above is on the latent-response scale; add categorical ω and ordinal α
        from .quality.ordinal_reliability import categorical_omega, ordinal_alpha
        th = {item: g["est"].to_numpy() for item, g in P[P.op == "|"].groupby("lhs", sort=False)}
        for c, lam in loadings.items():
            quality[c]["omega_categorical"] = categorical_omega(lam, float(psi.loc[c, c]), th, S)
            quality[c]["alpha_ordinal"] = ordinal_alpha(S, list(lam.index))
    ave = {c: quality[c]["ave"] for c in constructs}
    table = htmt(frame, constructs)
    harman, note = harman_test(everything[items], S.loc[items, items].to_numpy())
    return {
        "reliability": quality,
        "htmt": table,
        "htmt_flags": htmt_flags(table),
        "fornell_larcker": fornell_larcker(ave, cfa.latent_correlations()),
        "harman": harman,
        "notes": [note] if note else [],
        "descriptives": item_descriptives(raw if raw is not None else frame, items),
        "estimator_choice": estimator_choice(everything, items, "WLSMV" if ordinal else "ML"),  # every answer
    }


# -- assembly ----------------------------------------------------------------------------------------

def _matrix(df: pd.DataFrame) -> dict:
    return {str(r): {str(c): _num(df.loc[r, c]) for c in df.columns} for r in df.index}


def _model_block(fit: ModelFit) -> dict:
    return {
        "fit": json_fit(fit.fit),
        "parameters": json_records(fit.parameters),
        "syntax": fit.syntax,
        "converged": bool(fit.converged),
        "iterations": int(fit.iterations),
        "warnings": list(fit.problems),
        "estimation": fit.start_note,
    }


def _param(fit: ModelFit, lhs: str, op: str, rhs: str) -> dict | None:
    P = fit.parameters
    m = P[(P.lhs == lhs) & (P.op == op) & (P.rhs == rhs)]
    return None if m.empty else {k: _num(v) for k, v in m.iloc[0].items()}


def _normal_ci(est: float, se: float, level: float) -> tuple[float | None, float | None]:
    if se is None or not math.isfinite(se) or se <= 0:
        return None, None
    from .special import ndtri  # = scipy.stats.norm.ppf; scipy.stats itself costs ~0.5 s to import
    z = ndtri(1 - (1 - level) / 2)
    return est - z * se, est + z * se


def stage_effects(spec: Spec, structural: ModelFit, frame: pd.DataFrame, options: FitOptions,
                  meanwhile=None) -> dict:
    """Indirect and total effects with their CIs; the bootstrap runs here when requested.

    The Monte Carlo CIs and ``meanwhile`` (the caller's steps that need no bootstrap) run while the
    bootstrap's worker processes fit resamples (``bootstrap.parallel.run_tasks``): same numbers, less wait."""
    boot = None
    mc = None

    def monte_carlo() -> None:
        nonlocal mc
        if options.ci in ("monte-carlo", "auto"):
            from .bootstrap import monte_carlo_ci
            mc = {r["name"]: r for r in monte_carlo_ci(structural, seed=options.seed, level=options.level)}

    def alongside() -> None:
        monte_carlo()
        if meanwhile is not None:
            meanwhile()

    if options.bootstrap > 0:   # the engine is the one the estimator's row names (bootstrap/engines.py)
        from .bootstrap.engines import run_engine
        from .model.estimators import row_of
        design = structural.design if options.cluster_bootstrap else None
        boot = run_engine(row_of(options.resolved).bootstrap, structural, frame, B=options.bootstrap,
                          seed=options.seed, jobs=options.jobs, level=options.level, scheduler=options.scheduler,
                          quiet=options.quiet, meanwhile=alongside, cluster=None if design is None else design.cluster,
                          weights=None if design is None else design.weights)
    else:
        _beside(monte_carlo, meanwhile)
    boot_defined = {r["name"]: r for r in boot.defined} if boot is not None else {}
    indirect, totals = [], []
    for eff in defined_effects(spec):
        P = structural.parameters
        match = P[(P.op == ":=") & (P.lhs == eff.name)]
        row = {k: _num(v) for k, v in match.iloc[0].items()} if len(match) else {}
        est, se = row.get("est"), row.get("se")
        cis = {"delta": list(_normal_ci(est, se, options.level))}
        if eff.name in boot_defined:
            b = boot_defined[eff.name]
            cis["percentile"] = [_num(v) for v in b["perc"]]
            cis["bc"] = [_num(v) for v in b["bc"]]
        if mc and eff.name in mc:
            cis["monte_carlo"] = [_num(v) for v in mc[eff.name]["ci"]]
        if options.ci == "monte-carlo":
            method = "monte_carlo"
        elif "percentile" in cis and options.ci in ("auto", "percentile"):
            method = "percentile"
        elif "bc" in cis and options.ci == "bc":
            method = "bc"
        else:
            method = "delta"
        lo, hi = cis[method]
        record = {
            "name": eff.name, "path": list(eff.path), "est": _num(est),
            "se": _num(boot_defined[eff.name]["se"]) if eff.name in boot_defined else _num(se),
            "se_delta": _num(se), "ci_lower": _num(lo), "ci_upper": _num(hi), "ci_method": method,
            "level": options.level, "std_all": row.get("std_all"), "pvalue": row.get("pvalue"),
            "cis": cis, "expression": eff.expression,
        }
        record.update(effect_claim(record["ci_lower"], record["ci_upper"], record["pvalue"], options.level))
        (indirect if eff.kind == "indirect" else totals).append(record)
    return {"indirect": indirect, "totals": totals,
            "bootstrap": None if boot is None else {
                "B": boot.B, "seed": boot.seed, "level": boot.level, "n_converged": boot.n_converged,
                "n_nonconverged": boot.n_nonconverged, "n_inadmissible": boot.n_inadmissible,
                "n_fallback": boot.n_fallback, "rule": boot.rule,
                **({"n_lost_category": boot.n_lost_category} if options.resolved.ordinal else {}),
                **({"resampling": boot.resampling, "n_clusters": boot.n_clusters}
                   if boot.resampling == "cluster" else {})},
            "param_se_boot": None if boot is None else [_num(v) for v in boot.param_se],
            "param_ci_boot": getattr(boot, "param_ci", None)}


def _beside(work, meanwhile) -> None:
    """``work()`` in a thread while ``meanwhile()`` runs here (or just ``work()``); ``work``'s exception first.

    Why: without a bootstrap the Monte Carlo CIs (20 000 normal draws and one product: numpy, which releases
    the GIL) are ~0.017 s of a plain fit that a second core can take while the quality stage runs."""
    if meanwhile is None:
        work()
        return
    import threading
    failed: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread below
            failed.append(exc)

    thread = threading.Thread(target=run, name="monte-carlo", daemon=True)
    thread.start()
    try:
        meanwhile()
    finally:
        thread.join()
        if failed:
            raise failed[0]


def stage_hypotheses(spec: Spec, structural: ModelFit, effects: dict) -> list[dict]:
    out = []
    for path in spec.paths:
        for x in path.from_:
            h = path.hypothesis_for(x)
            row = _param(structural, path.to, "~", x)
            if row is None:
                continue
            supported = path_verdict(row["est"], row["pvalue"], path.expect)
            out.append({"id": h, "kind": "path", "from": x, "to": path.to, "label": path_label(x, path.to),
                        "est": row["est"], "se": row["se"], "std_all": row["std_all"], "pvalue": row["pvalue"],
                        "expect": path.expect, "supported": supported if h else None})
    for ind in spec.indirect:
        rec = next(r for r in effects["indirect"] if r["name"] == ind.name)
        out.append({"id": ind.hypothesis, "kind": "indirect", "name": ind.name, "from": ind.path[0],
                    "to": ind.path[-1], "est": rec["est"], "std_all": rec["std_all"], "pvalue": rec["pvalue"],
                    "ci_lower": rec["ci_lower"], "ci_upper": rec["ci_upper"], "ci_method": rec["ci_method"],
                    "supported": ci_excludes_zero(rec["ci_lower"], rec["ci_upper"]) if ind.hypothesis else None})
    return out


def stage_mediation(spec: Spec, structural: ModelFit, effects: dict) -> list[dict]:
    """Zhao et al. type and Baron & Kenny steps for each simple (X → M → Y) named indirect effect."""
    out = []
    totals = {(r["path"][0], r["path"][-1]): r for r in effects["totals"]}
    for rec in effects["indirect"]:
        path = rec["path"]
        x, y = path[0], path[-1]
        direct = _param(structural, y, "~", x)
        ind_sig = ci_excludes_zero(rec["ci_lower"], rec["ci_upper"])
        dir_sig = direct is not None and direct["pvalue"] is not None and direct["pvalue"] < 0.05
        type_ = zhao_type(ind_sig, dir_sig, rec["est"], direct["est"] if direct else 0.0)
        entry = {"name": rec["name"], "path": path, "indirect": rec["est"],
                 "indirect_ci": [rec["ci_lower"], rec["ci_upper"]], "ci_method": rec["ci_method"],
                 "direct": direct and direct["est"], "direct_pvalue": direct and direct["pvalue"],
                 "total": totals.get((x, y), {}).get("est"), "type": type_, "mediation": mediation_short(type_)}
        if len(path) == 3:
            a = _param(structural, path[1], "~", x)
            b = _param(structural, y, "~", path[1])
            total = totals.get((x, y))
            if a and b:
                entry["baron_kenny"] = baron_kenny(total, a, b, direct)
        out.append(entry)
    return out


def stage_moderation(spec: Spec, frame: pd.DataFrame, options: FitOptions, structural: ModelFit | None = None
                     ) -> dict | None:
    """Latent interactions (spec ``interactions``) by ``options.interaction_method``; None without any."""
    if not spec.interactions:
        return None
    skipped = skip_message(options.resolved, names=", ".join(i.name for i in spec.interactions))
    if skipped is not None:
        return {"skipped": skipped}
    from .analyses.moderation import moderation_stage
    boot = options.bootstrap if options.moderation_ci == "bootstrap" else 0
    return moderation_stage(spec, frame, options.interaction_method, level=options.level, seed=options.seed,
                            linear_fit=structural, bootstrap=boot, jobs=options.jobs, scheduler=options.scheduler,
                            quiet=options.quiet)


def attach_moderation(doc: dict, moderation: dict | None, options: FitOptions) -> None:
    """Add the ``moderation`` and ``interaction_model`` blocks and the interaction hypotheses (H5)."""
    if moderation is None:
        return
    if "skipped" in moderation:
        doc["warnings"] = doc["warnings"] + [moderation["skipped"]]
        return
    doc["moderation"] = moderation["moderation"]
    doc["interaction_model"] = moderation["interaction_model"]
    doc["hypotheses"] = doc["hypotheses"] + [{k: _num(v) for k, v in h.items()} for h in moderation["hypotheses"]]
    doc["meta"]["interaction_method"] = options.interaction_method
    doc["warnings"] = doc["warnings"] + [f"interaction model: {w}" for w in moderation["interaction_model"]["warnings"]]


def assemble_document(spec: Spec, spec_sha: str, data, cfa: ModelFit, sem: ModelFit, quality: dict,
                      effects: dict, hypotheses: list[dict], mediation: list[dict], options: FitOptions,
                      timestamp: str) -> dict:
    warnings = [f"measurement model: {w}" for w in cfa.problems] + [f"structural model: {w}" for w in sem.problems]
    warnings += quality.get("notes", [])
    if effects["bootstrap"] and effects["bootstrap"]["n_inadmissible"]:
        warnings.append(f"bootstrap: {effects['bootstrap']['n_inadmissible']} of {effects['bootstrap']['B']} "
                        "resamples had inadmissible solutions (kept, as lavaan does)")
    harman = quality["harman"]
    group_counts = {}
    if spec.group and spec.group in data.frame.columns:
        group_counts = {group_label(k): int(v)
                        for k, v in data.frame[spec.group].value_counts(sort=False).sort_index().items()}
    from .model.rsquare import r_squared
    structural = _model_block(sem)
    if effects["param_se_boot"] is not None:  # bootstrap SE beside lavaan's se, row by row
        for row, se_boot in zip(structural["parameters"], effects["param_se_boot"]):
            row["se_boot"] = se_boot
    for row, ci in zip(structural["parameters"], effects.get("param_ci_boot") or ()):
        if ci is not None:   # bootstrap percentile / BC CIs of the row (free, ~1 and := rows)
            row["ci_percentile"], row["ci_bc"] = [_num(v) for v in ci["percentile"]], [_num(v) for v in ci["bc"]]
    doc = {
        "measurement_model": _model_block(cfa),
        "structural_model": structural,
        "r_squared": r_squared(structural["parameters"]),
        "indirect_effects": effects["indirect"],
        "total_effects": effects["totals"],
        "reliability": {c: {k: _num(v) for k, v in r.items()} for c, r in quality["reliability"].items()},
        "htmt": _matrix(quality["htmt"]),
        "htmt_flags": [list(map(_num, f)) if isinstance(f, (list, tuple)) else f for f in quality["htmt_flags"]],
        "fornell_larcker": _matrix(quality["fornell_larcker"]),
        "common_method": json_safe(harman.block()),
        "descriptives": json_records(quality["descriptives"].reset_index()
                                 if quality["descriptives"].index.name else quality["descriptives"]),
        "fit_verdicts": {"measurement": fit_verdicts(cfa.fit), "structural": fit_verdicts(sem.fit)},
        "estimator_choice": quality.get("estimator_choice"),
        "hypotheses": [{k: _num(v) for k, v in h.items()} for h in hypotheses],
        "mediation": mediation,
        "bootstrap": effects["bootstrap"],
        "data": {"source": data.source, "n_raw": data.n_raw, "n_used": data.n_used, "n_dropped": data.n_dropped,
                 "dropped": [list(d) for d in data.dropped], "log": list(data.log),
                 "missing_by_item": {k: _num(v) for k, v in data.missing_by_item.items()},
                 "groups": group_counts},
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
        "warnings": warnings,
        "meta": {"version": __version__, "seed": options.seed, "data_sha256": data.sha256, "spec_sha256": spec_sha,
                 "n_used": data.n_used, "n_dropped": data.n_dropped, "estimator": options.resolved.estimator,
                 "missing": sem.missing, "information": sem.information, "test": sem.test_name,
                 "engine": options.resolved.engine_name,
                 "bootstrap": options.bootstrap, "ci_level": options.level,
                 "title": spec.title.model_dump(exclude_none=True), "command": options.command,
                 "versions": versions(), "timestamp": timestamp,
                 "conventions": conventions(options.resolved)},
    }
    doc.update(data_diagnostics(data.frame, cfa, getattr(data, "raw_items", None)))
    return doc


def _answered(frame: pd.DataFrame, items: list[str]) -> np.ndarray:
    """The item matrix (NaN = blank) without rows in which every item is blank (they carry no answer)."""
    x = frame[items].to_numpy(dtype=float)
    return x[~np.isnan(x).all(axis=1)]


def data_diagnostics(frame: pd.DataFrame, cfa: ModelFit, raw: pd.DataFrame | None = None) -> dict:
    """results.json ``missing_data`` and ``normality`` blocks (items of the measurement model).

    The missing-data block describes the items as read (``raw``: all rows, before deletion): after listwise
    deletion no blank is left, so patterns, per-item percentages and Little's test computed on the analysed
    rows would claim complete data.  Mardia's tests describe the rows analysed (``frame``)."""
    from .model.missing import Patterns, em_moments, little_mcar, percent_missing
    from .quality.normality import mardia
    items = list(cfa.matrix_model.ov)
    x = _answered(frame, items)
    read = _answered(raw, items) if raw is not None and set(items) <= set(raw.columns) else x
    patterns = Patterns.from_array(read)
    block: dict = {"patterns": patterns.summary(items), "n_patterns": len(patterns.patterns),
                   "percent_missing": percent_missing(read, items), "little_mcar": None}
    if not patterns.complete:
        test = little_mcar(patterns, em_moments(patterns))
        block["little_mcar"] = {"chi2": _num(test.chi2), "df": test.df, "pvalue": _num(test.pvalue)}
    normality = mardia(x)
    return {"missing_data": block,
            "normality": {k: ({kk: _num(vv) for kk, vv in v.items()} if isinstance(v, dict) else _num(v))
                          for k, v in normality.items()}}


def conventions(lav: LavOptions) -> str:
    """meta.conventions: what lavaan computes for this estimator and missing-data method (the estimator
    table's row, not the ML text for every run)."""
    from .model.estimators import conventions as row_conventions
    return row_conventions(lav)


def run_fit(spec, data, options: FitOptions = FitOptions(), *, timestamp: str | None = None,
            meanwhile=None) -> Results:
    """All stages; returns the frozen Results.

    The quality stage and ``meanwhile`` (a callable without arguments, e.g. the CLI loading its report
    templates) run while the bootstrap's workers fit resamples (see ``stage_effects``)."""
    import datetime
    from .model.interaction import check_interaction_method
    check_interaction_method(options.interaction_method)
    parsed, spec_sha = stage_spec(spec)
    parsed, options = resolve_design(parsed, options)
    lav = resolve_options(parsed, options)
    if parsed.levels is not None:          # two-level SEM (spec `levels`): its module loads scipy.optimize
        from .analyses.twolevel import check_twolevel
        check_twolevel(parsed, lav, options)
    options = dataclasses.replace(options, estimator=lav.estimator, lav=lav)
    from .results.publication import check_requests, publication_blocks
    requests = check_requests(parsed, options)
    prepared = stage_data(parsed, data, options)
    with naming_source(prepared.source):
        cfa, sem = stage_fit(parsed, prepared.frame, options)
    quality: dict = {}

    def alongside() -> None:
        quality.update(stage_quality(parsed, cfa, prepared.frame, getattr(prepared, "raw_items", None)))
        if meanwhile is not None:
            meanwhile()

    effects = stage_effects(parsed, sem, prepared.frame, options, meanwhile=alongside)
    hypotheses = stage_hypotheses(parsed, sem, effects)
    mediation = stage_mediation(parsed, sem, effects)
    moderation = stage_moderation(parsed, prepared.frame, options, sem)
    stamp = timestamp or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    doc = assemble_document(parsed, spec_sha, prepared, cfa, sem, quality, effects, hypotheses, mediation,
                            options, stamp)
    attach_moderation(doc, moderation, options)
    attach_design(doc, parsed, prepared.frame, sem, cluster_bootstrap=options.cluster_bootstrap)
    with naming_source(prepared.source):
        doc.update(publication_blocks(parsed, cfa, sem, prepared.frame, options, requests,
                                      refitter(parsed, prepared.frame, options)))
        attach_twolevel(doc, parsed, prepared.frame)
    return Results.from_document(doc)


def attach_twolevel(doc: dict, spec: Spec, frame: pd.DataFrame) -> None:
    """Add the ``twolevel`` block (spec ``levels``) and lavaan's two-level ICCs to ``design``."""
    if spec.levels is None:
        return
    from .analyses.twolevel import stage_twolevel, twolevel_block
    fit = stage_twolevel(spec, frame)
    if fit is None:
        return
    doc["twolevel"] = twolevel_block(fit, _num)
    if "design" in doc:
        doc["design"]["icc_twolevel"] = doc["twolevel"]["icc"]
    doc["warnings"] = doc["warnings"] + doc["twolevel"]["warnings"]
    doc["meta"]["conventions"] += ("; two-level model (lavaan level: 1 / level: 2): ML, observed information, "
                                   "chi2 against the EM saturated model, fixed.x")


def attach_design(doc: dict, spec: Spec, frame: pd.DataFrame, sem: ModelFit, *,
                  cluster_bootstrap: bool = False) -> None:
    """Add the ``design`` block (clusters, weights) and its warnings to the run's warnings."""
    from .results.design import design_block
    block = design_block(sem, frame, {c: spec.items_of(c) for c in spec.first_order},
                         cluster_bootstrap=cluster_bootstrap)
    if block is None:
        return
    doc["design"] = {k: ({kk: _num(vv) for kk, vv in v.items()} if isinstance(v, dict) else v)
                     for k, v in block.items()}
    doc["warnings"] = doc["warnings"] + [f"design: {w}" for w in block["warnings"]]
    doc["meta"]["conventions"] += (f"; complex sample (lavaan cluster=/sampling.weights=): se = {block['se']}, "
                                   f"test = {block['test']}, {sem.information} information"
                                   + (", weights normalised to n" if block["weights"] else ""))


__all__ = ["FitOptions", "run_fit"]
