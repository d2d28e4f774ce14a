"""Verdicts are made once, in quality/, and the report shows exactly them (issue 16).

HTMT: Henseler, Ringle & Sarstedt (2015) read HTMT *above* .85/.90 as a discriminant-validity problem, so a
value exactly at a threshold passes, in results.json's ``htmt_flags`` and in the report's marks alike.
Fornell–Larcker: a pair fails when |r| ≥ the smaller √AVE."""
from __future__ import annotations

import pandas as pd

from cluster_sem.quality.validity import (fornell_larcker_verdict, fornell_larcker_violations, htmt_flags,
                                          htmt_level)
from cluster_sem.render.context import build_context
from cluster_sem.results.document import ResultsDocument
from cluster_sem.results.results import Results


def _square(names, values):
    df = pd.DataFrame(0.0, index=names, columns=names)
    for c in names:
        df.loc[c, c] = 1.0
    for (a, b), v in values.items():
        df.loc[a, b] = df.loc[b, a] = v
    return df


def test_htmt_flags_only_above_the_thresholds():
    table = _square(list("ABCD"), {("A", "B"): 0.85, ("A", "C"): 0.86, ("B", "C"): 0.90, ("C", "D"): 0.91})
    flags = {(a, b): label for a, b, _, label in htmt_flags(table)}
    assert flags == {("A", "C"): "above 0.85", ("B", "C"): "above 0.85", ("C", "D"): "above 0.90"}
    assert [htmt_level(v) for v in (None, 0.85, 0.8500001, 0.90, 0.9000001)] == ["", "", "strict", "strict", "liberal"]


def test_fornell_larcker_verdict_matches_the_pairwise_rule():
    fl = _square(list("XYZ"), {("X", "Y"): 0.70, ("X", "Z"): 0.50, ("Y", "Z"): -0.80})
    for c, root_ave in zip("XYZ", (0.75, 0.80, 0.90)):
        fl.loc[c, c] = root_ave
    pairs, failing = fornell_larcker_verdict(fl.to_dict(orient="index"))
    assert pairs == {frozenset(("Y", "Z"))} == {frozenset(v[:2]) for v in fornell_larcker_violations(fl)}
    assert failing == ["Y"]     # |-.80| reaches Y's √AVE (.80) but not Z's (.90)


def test_report_marks_are_the_quality_verdicts(example_doc_copy):
    doc = example_doc_copy
    names = list(doc["htmt"])[:3]
    a, b, c = names
    doc["htmt"][b][a] = doc["htmt"][a][b] = 0.85          # exactly at the strict threshold: passes
    doc["htmt"][c][a] = doc["htmt"][a][c] = 0.93          # above .90
    ctx = build_context(doc, "en")
    row_b, row_c = ctx["htmt_rows"][0], ctx["htmt_rows"][1]
    assert row_b["name"] == b and row_b["cells"][0] == {"v": "0.850", "kind": "cell"}
    assert row_c["name"] == c and row_c["cells"][0]["v"].endswith("‡") and row_c["cells"][0]["kind"] == "bad"
    pairs, failing = fornell_larcker_verdict(doc["fornell_larcker"])
    bad_cells = {frozenset((r["name"], ctx["fl_names"][j])) for r in ctx["fl_rows"]
                 for j, cell in enumerate(r["cells"]) if cell["kind"] == "bad"}
    assert bad_cells == pairs and ctx["fl_bad"] == failing


def test_typed_blocks_read_the_document(example_doc):
    r = ResultsDocument.of(example_doc)
    assert len(r.structural.parameters) == len(example_doc["structural_model"]["parameters"])
    first = example_doc["indirect_effects"][0]
    assert (r.indirect_effects[0].name, r.indirect_effects[0].est, r.indirect_effects[0].path) == \
        (first["name"], first["est"], tuple(first["path"]))
    assert [x.construct for x in r.reliability] == list(example_doc["reliability"])
    assert r.spec.construct_label("TS", "zh") == example_doc["spec"]["constructs"]["TS"]["label"]["zh"]
    frozen = Results.from_document(example_doc).blocks
    assert frozen.structural.parameters == r.structural.parameters
    assert frozen.block("moderation") is not None
