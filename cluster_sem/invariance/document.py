"""``cluster-sem invariance``: data by group → checks → levels, tests → one results document.

Stages: spec → data (listwise; rows without a group value dropped and counted) → analysis groups
(``group_levels``) → group-size checks → invariance levels (measurement model) → score tests at the
first failing level → latent means (scalar level) → path differences (structural model) → document.
The document holds the contract's ``invariance`` block plus ``data``, ``spec``, ``warnings`` and ``meta``
(the same keys as a fit document, so the report header and terminal summary read it the same way).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from ..data import prepare_data
from ..data.estimable import check_estimable, check_groups_estimable, note_many_categories
from ..data.groups import AnalysisGroups, analysis_groups
from ..errors import ClusterSemError, naming_source
from ..lavoptions import LavOptions, lav_options
from ..model.estimators import INVARIANCE_CONVENTIONS
from ..model.partable_groups import GROUP_EQUAL, build_group_partable, row_key
from ..model.rsquare import r_squared
from ..pipeline import stage_spec
from ..render.report import Results
from ..results.jsonsafe import json_fit, json_mapping, json_records, json_value
from ..results.provenance import versions
from ..spec import Spec
from ..spec.syntax import measurement_syntax, structural_syntax
from ..spec.validate import check_design_options
from . import engine

CASES_PER_PARAMETER = 5
CONVENTIONS = INVARIANCE_CONVENTIONS   # meta.conventions per estimator, from the estimator table's rows


@dataclass(frozen=True)
class InvarianceOptions:
    estimator: str = "ML"
    missing: str = "listwise"
    release: tuple[str, ...] = field(default=())
    command: str = ""
    lav: LavOptions | None = None     # resolved by ``checked``
    cluster: str | None = None        # --cluster COLUMN (wins over the spec's cluster:)

    def checked(self, spec_cluster: str | None = None) -> "InvarianceOptions":
        """Option values checked once, here, at the boundary (the support table refuses what does not run).
        ``spec_cluster``: the spec's ``cluster:`` key, in force unless ``--cluster`` names another column."""
        cluster = self.cluster or spec_cluster
        lav = lav_options(self.estimator, self.missing, command="invariance", groups=True,
                          design="--cluster" if cluster else "")
        release = tuple(r.replace(" ", "") for part in self.release for r in part.split(",") if r.strip())
        return InvarianceOptions(lav.estimator, lav.missing, release, self.command, lav, cluster)


def parse_release(text: str | None) -> tuple[str, ...]:
    """``--release "CE=~CE3,CE3~1"`` as its rows; an empty value or entry ('', 'CE=~CE3,,') is refused: it
    would otherwise release nothing without a word."""
    if text is None:
        return ()
    rows = [r.strip() for r in text.split(",")]
    if not all(rows):
        raise ClusterSemError(f"--release '{text}': an empty row. Fix: name each constraint to free as lhs op rhs "
                              "without spaces, separated by commas, e.g. --release \"CE=~CE3,CE3~1\"")
    return tuple(rows)


def _second_order_dimensions(spec: Spec) -> list[str]:
    return [d for c in spec.second_order.values() for d in (c.dimensions or ())]


def _check_sizes(spec: Spec, counts: dict[str, int], source: str) -> list[str]:
    """Exit (ClusterSemError) for a group smaller than the number of observed variables; warn below
    5 cases per free parameter of the group's own (configural) model."""
    if len(counts) < 2:
        raise ClusterSemError(f"{source}: {spec.group}: only {len(counts)} group(s) with data "
                              f"({', '.join(counts) or 'none'}). Fix: invariance needs at least two groups")
    n_ov = len(spec.items) + (len(spec.controls) if spec.paths else 0)
    for g, n in counts.items():
        if n < n_ov:
            raise ClusterSemError(
                f"{source}: {spec.group}: group '{g}' has n = {n}, fewer cases than the {n_ov} observed variables "
                f"of the model. Fix: merge it with another group in the spec's group_levels "
                f"(e.g. group_levels: {{merged: [{g}, ...]}})")
    per_group = build_group_partable(measurement_syntax(spec), ["_"]).n_free
    return [f"group '{g}': n = {n} is fewer than {CASES_PER_PARAMETER} cases per free parameter "
            f"({per_group} free parameters per group in the configural model); estimates may be unstable"
            for g, n in counts.items() if n < CASES_PER_PARAMETER * per_group]


def _empty_level_notes(spec: Spec, groups: AnalysisGroups, source: str) -> list[str]:
    """A group_levels level without rows: lavaan warns and drops it ("some group.labels do not appear in the
    grouping variable"), but the first level is the reference group (latent means 0, Δ-tests read against
    it), which must never change silently: refused.  A later empty level is dropped with a warning."""
    counts = groups.counts()
    empty = [g for g in groups.names if counts[g] == 0]
    if not empty:
        return []
    values = ", ".join(groups.values[empty[0]])
    if empty[0] == groups.names[0]:
        raise ClusterSemError(f"{source}: {spec.group}: the reference group '{empty[0]}' (first in the spec's "
                              f"group_levels) has no rows in the data (values {values}). Fix: correct its values "
                              f"to those of the data's '{spec.group}' column, or list the intended reference "
                              "group first in group_levels")
    return [f"group_levels: group(s) {', '.join(repr(g) for g in empty)} have no rows in the data and were "
            "left out of the multigroup analysis"]


def check_release(syntax: str, release: tuple[str, ...], estimator: str) -> None:
    """Each ``--release`` row must be one the levels constrain equal across groups: releasing a fixed row (a
    marker loading, a latent mean fixed at 0 in the reference group) or a row no level constrains changes
    nothing, yet would be listed as released.  Checked on the strictest level's two-group table (rows
    sharing a free index across groups are the constrained ones); an unknown row is named with the option
    (the table builder's own message would name the data file), and thresholds (WLSMV) are left to the
    ordinal layout."""
    named = [r for r in release if "|" not in r]
    if not named:
        return
    equal = [e for e in engine.levels_for(estimator)[-1][1] if e in GROUP_EQUAL]
    pt = build_group_partable(syntax, ["reference", "other"], group_equal=equal)
    rows = {g: {row_key(p): p for p in pt.params if p.group == g} for g in (0, 1)}
    for key in named:
        first, other = rows[0].get(key), rows[1].get(key)
        if first is None or other is None:
            raise ClusterSemError(f"--release {key}: not a parameter of the model. Fix: write a row as lhs op rhs "
                                  "without spaces, e.g. CE=~CE2 (a loading), CE2~1 (an intercept) or CE2~~CE2 "
                                  "(a residual variance), with names from the spec")
        if first.free >= 0 and first.free == other.free:
            continue
        if first.free < 0 and other.free < 0:
            what = f"a fixed parameter (fixed at {first.value:g} in every group{_fixed_kind(first)})"
        elif first.free < 0:
            what = (f"fixed at {first.value:g} in the reference group{_fixed_kind(first)} and free in the others "
                    "from the scalar level on, never constrained equal")
        else:
            what = "free in every group at every level (no invariance level constrains it equal)"
        raise ClusterSemError(f"--release {key}: {what}, so there is nothing to release. Fix: name a row the "
                              "levels constrain equal across groups: a loading other than the first of its "
                              "construct (e.g. CE=~CE2), an item intercept (CE2~1) or a residual variance "
                              "(CE2~~CE2)")


def _fixed_kind(p) -> str:
    """What a fixed row is for, in the --release message (the user named it as a parameter)."""
    if p.op == "=~":
        return ": the marker loading that sets the scale of " + p.lhs
    if p.op == "~1":
        return ": the latent mean of " + p.lhs
    return ""


def invariance_block(spec: Spec, grouped: engine.GroupedData, values: dict, counts: dict, options,
                     warnings: list[str]) -> dict:
    syntax = measurement_syntax(spec)
    levels = engine.fit_levels(syntax, grouped, release=options.release, estimator=options.estimator)
    failing = engine.first_failing(levels)
    scores = engine.score_tests(failing)
    scalar = next(lv for lv in levels if lv.name == "scalar")
    means = engine.latent_means(scalar.fit, grouped.groups[0])
    paths, path_model = [], None
    spec_paths = [(p.to, x) for p in spec.paths for x in p.from_]
    if spec_paths:
        free, paths = engine.path_differences(engine.unlabelled(structural_syntax(spec, with_defined=False)),
                                              grouped, spec_paths, release=options.release,
                                              fixed_lv_means=_second_order_dimensions(spec),
                                              **({"estimator": options.estimator} if options.lav.ordinal else {}))
        path_model = {"fit": json_fit(free.fit), "syntax": free.syntax, "converged": bool(free.converged),
                      "parameters": json_records(free.parameters), "warnings": list(free.problems)}
        path_model["r_squared"] = r_squared(path_model["parameters"])   # {group: {variable: R²}}
        warnings += [f"path model: {w}" for w in free.problems]
    for lv in levels:
        warnings += [f"{lv.name} model: {w}" for w in lv.fit.problems]
    return {
        "group": spec.group, "estimator": options.estimator, "missing": options.missing,
        "reference": grouped.groups[0],
        "groups": [{"name": g, "n": counts[g], "values": list(values[g])} for g in grouped.groups],
        "released": list(options.release),
        "rules": {"delta_cfi": engine.CHEN_CFI, "delta_rmsea": engine.CHEN_RMSEA,
                  "configural": "CFI >= .90 and RMSEA <= .08"},
        "levels": [{"level": lv.name, "fit": json_fit(lv.fit.fit),
                    "delta": None if lv.delta is None else json_mapping(lv.delta),
                    "decision": "holds" if lv.holds else "rejected", "converged": bool(lv.fit.converged),
                    "syntax": lv.fit.syntax, "group_equal": list(eq),
                    "parameters": json_records(lv.fit.parameters)}
                   for lv, (_, eq) in zip(levels, engine.levels_for(options.estimator))],
        "first_failing": failing.name if failing else None,
        "score_tests": [json_mapping(r) for r in scores],
        "latent_means": [json_mapping(r) for r in means],
        "path_differences": [{"path": r["path"], "chi2": json_value(r["chi2"]), "df": r["df"],
                              "pvalue": json_value(r["pvalue"]), "est": json_mapping(r["est"]),
                              "se": json_mapping(r["se"])} for r in paths],
        "path_model": path_model,
    }


def run_invariance(spec: Spec | str | Path, data, options: InvarianceOptions = InvarianceOptions(), *,
                   timestamp: str | None = None) -> Results:
    parsed, spec_sha = stage_spec(spec)
    check_design_options(parsed, options.cluster, None)
    options = options.checked(parsed.cluster)
    if options.cluster:   # the data layer keeps and checks the column the spec names
        parsed = parsed.model_copy(update={"cluster": options.cluster})
    if not parsed.group:
        raise ClusterSemError(f"{spec}: group: the spec names no group column. Fix: add e.g. group: region")
    check_release(measurement_syntax(parsed), options.release, options.estimator)
    prepared = prepare_data(parsed, data, missing=options.missing, by_group=True)
    check_estimable(parsed, prepared)
    source = prepared.source
    groups = analysis_groups(prepared.frame, parsed.group, parsed.group_levels, source=source)
    n_no_group = sum(1 for _, reason in prepared.dropped if parsed.group in reason.replace(",", " ").split())
    frame = prepared.frame.copy()
    frame[parsed.group] = groups.labels
    counts = {g: n for g, n in groups.counts().items() if n > 0}
    warnings = _empty_level_notes(parsed, groups, source) + _check_sizes(parsed, counts, source)
    if parsed.weights:   # multigroup sampling weights are not implemented (clusters are: options.cluster)
        warnings.append("the spec's weights are not used by invariance yet: its standard errors and "
                        "tests treat the firms as an independent, unweighted sample")
    check_groups_estimable(parsed, prepared, groups.labels, list(counts), with_controls=bool(parsed.paths))
    if options.lav.ordinal:   # thresholds per group: every category used must occur in every group
        note_many_categories(parsed, prepared)
        from ..model.ordinal.categories import check_group_categories
        check_group_categories(frame[frame[parsed.group].isin(list(counts))], list(parsed.items), parsed.group,
                               source=source)
    order = tuple(g for g in groups.names if g in counts)
    grouped = engine.GroupedData(frame, parsed.group, order, options.missing, options.cluster)
    with naming_source(source):
        block = invariance_block(parsed, grouped, groups.values, counts, options, warnings)
    block["n_no_group"] = n_no_group
    if options.cluster:   # clusters per group: the meat of each group's SEs is summed over these
        block["cluster"] = {"column": options.cluster,
                            "clusters": {g: int(frame.loc[frame[parsed.group] == g, options.cluster].nunique())
                                         for g in order}}
    if n_no_group:
        warnings.insert(0, f"{n_no_group} rows without a value in '{parsed.group}' were dropped for the "
                           "multigroup analysis")
    block["warnings"] = list(warnings)
    stamp = timestamp or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    doc = {
        "invariance": block,
        "data": {"source": source, "n_raw": prepared.n_raw, "n_used": prepared.n_used,
                 "n_dropped": prepared.n_dropped, "dropped": [list(d) for d in prepared.dropped],
                 "log": list(prepared.log), "groups": counts},
        "spec": parsed.model_dump(mode="json", by_alias=True, exclude_none=True),
        "warnings": warnings,
        "meta": {"version": versions()["cluster_sem"], "data_sha256": prepared.sha256, "spec_sha256": spec_sha,
                 "n_used": prepared.n_used, "n_dropped": prepared.n_dropped, "estimator": options.estimator,
                 "missing": options.missing, "engine": options.lav.engine_name,
                 "title": parsed.title.model_dump(exclude_none=True),
                 "command": options.command, "versions": versions(), "timestamp": stamp, "analysis": "invariance",
                 "conventions": CONVENTIONS[options.estimator]
                                + ('; missing = "ml" (FIML per group, observed information)'
                                   if options.lav.fiml else "")
                                + (f'; cluster = "{options.cluster}" (cluster-robust sandwich SEs, Yuan-Bentler '
                                   'scaled tests and Satorra-Bentler differences; clusters nested in groups)'
                                   if options.cluster else "")},
    }
    return Results.from_document(doc)
