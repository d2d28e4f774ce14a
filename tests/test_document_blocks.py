"""Typed read side of results.json (results/document.py) for the invariance and interaction-model blocks:
what the invariance report, the terminal summary and the diagram read instead of dict keys."""
from __future__ import annotations

import copy
from pathlib import Path

from cluster_sem.render.invariance import invariance_context, render_invariance_summary
from cluster_sem.results.document import (ChiSquareTest, InteractionModel, Invariance, LevelChange, ResultsDocument,
                                          ScoreTest)

FIT = {"chi2": 50.0, "df": 48, "pvalue": 0.39, "cfi": 0.99, "tli": 0.99, "rmsea": 0.02, "srmr": 0.04}


def _level(name, decision, delta=None):
    return {"level": name, "fit": FIT, "delta": delta, "decision": decision, "group_equal": [], "syntax": "",
            "converged": True,
            "parameters": [{"lhs": "TS", "op": "=~", "rhs": "TS1", "est": 1.0, "se": 0.0, "group": "coastal"}]}


DELTA = {"chi2": 3.5, "df": 6, "pvalue": 0.74, "cfi": -0.001, "rmsea": 0.002}
DOC = {
    "spec": {"constructs": {"TS": {"label": {"en": "Tie strength", "zh": "关系强度"}, "items": ["TS1"]},
                            "RQ": {"label": {"en": "Relational quality"}, "items": ["RQ1"]}}},
    "meta": {"version": "1", "timestamp": "T"}, "data": {"n_used": 400}, "warnings": [],
    "invariance": {
        "group": "region", "estimator": "ML", "missing": "listwise", "reference": "coastal",
        "groups": [{"name": "coastal", "n": 200, "values": ["Wenzhou", "Ningbo"]},
                   {"name": "inland", "n": 200, "values": ["Jinhua"]}],
        "released": [], "first_failing": "scalar",
        "levels": [_level("configural", "holds"), _level("metric", "holds", DELTA),
                   _level("scalar", "rejected", {**DELTA, "chi2": 40.0, "pvalue": 0.0001}),
                   _level("strict", "holds", DELTA)],
        "score_tests": [{"constraint": "TS1~1", "groups": ["coastal", "inland"], "chi2": 9.0, "df": 1,
                         "pvalue": 0.0027}],
        "latent_means": [{"construct": "TS", "group": "inland", "est": 0.2, "se": 0.1, "z": 2.0, "pvalue": 0.045}],
        "path_differences": [{"path": "RQ~TS", "chi2": 0.5, "df": 1, "pvalue": 0.48,
                              "est": {"coastal": 0.3, "inland": 0.4}, "se": {"coastal": 0.1, "inland": 0.1}}],
        "path_model": None, "n_no_group": 0, "warnings": ["w"], "rules": {"delta_cfi": 0.01},
    },
}


def test_invariance_block_is_typed():
    inv = ResultsDocument.of(DOC).invariance
    assert isinstance(inv, Invariance) and not inv.ordinal
    assert [g.values for g in inv.groups] == [("Wenzhou", "Ningbo"), ("Jinhua",)]
    assert inv.levels[0].delta is None and inv.levels[1].delta == LevelChange(chi2=3.5, df=6, pvalue=0.74, cfi=-0.001, rmsea=0.002)
    assert isinstance(inv.levels[1].delta, ChiSquareTest)
    assert inv.levels[2].holds is False and inv.levels[0].parameters[0].group == "coastal"
    assert inv.score_tests == (ScoreTest(chi2=9.0, df=1, pvalue=0.0027, constraint="TS1~1", groups=("coastal", "inland")),)
    assert inv.path_differences[0].ends == ("TS", "RQ") and inv.path_differences[0].est["inland"] == 0.4
    assert inv.highest_holding == "metric"          # the level before the first failing one
    assert inv.path_model is None and inv.warnings == ("w",)


def test_highest_holding_without_failure_and_with_a_failing_configural_model():
    doc = copy.deepcopy(DOC)
    doc["invariance"]["first_failing"] = None
    assert ResultsDocument.of(doc).invariance.highest_holding == "strict"
    doc["invariance"]["levels"][0]["decision"] = "rejected"
    assert ResultsDocument.of(doc).invariance.highest_holding is None


def test_invariance_report_reads_the_typed_block():
    typed = ResultsDocument.of(DOC)
    ctx = invariance_context(typed, "zh")
    from_dict = invariance_context(DOC, "zh")         # a dict or its typed document: one view
    assert {k: v for k, v in ctx.items() if k != "t"} == {k: v for k, v in from_dict.items() if k != "t"}
    assert ctx["paths"][0]["path"] == "关系强度 → Relational quality"
    assert [r["dchi2"] for r in ctx["levels"]] == ["—", "3.50", "40.00", "3.50"]
    assert ctx["summary"] == "标量不变不成立（首个不成立的层级）。成立的最高层级：度量不变。"
    assert ctx["score_note"].startswith("按统计量") and "TS1~1" in ctx["score_note"]
    text = render_invariance_summary(typed, "en")
    assert "scalar invariance is rejected (first failing level); the highest level that holds is metric." in text


def test_interaction_model_block_is_typed():
    doc = {"interaction_model": {"method": "lms", "converged": True, "syntax": "Y ~ X + Z + X:Z", "warnings": [],
                                 "fit": {"loglik": -10.0},
                                 "parameters": [{"lhs": "Y", "op": "~", "rhs": "X:Z", "est": 0.2, "se": 0.05,
                                                 "z": 4.0, "pvalue": 0.0001, "std_all": 0.1}]}}
    im = ResultsDocument.of(doc).interaction_model
    assert isinstance(im, InteractionModel) and (im.method, im.converged) == ("lms", True)
    assert im.rows("~")[0].rhs == "X:Z" and im.fit["loglik"] == -10.0
    assert ResultsDocument.of({}).interaction_model is None and ResultsDocument.of({}).invariance is None


def test_section_catalogues_have_both_languages():
    from cluster_sem.render.i18n import catalogue, missing_translations, phrases, translator
    sections = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "cluster_sem" / "render" / "phrases")
                      .glob("*.yaml"))
    assert {"estimator", "invariance", "messages", "moderation", "power", "publication"} <= set(sections)
    for section in sections:                  # every catalogue, so a phrase added in one language fails here
        assert catalogue(section) and missing_translations(catalogue(section)) == [], section
    assert missing_translations({"x": {"en": "only English"}}) == ["x:zh"]
    assert translator(catalogue("invariance"), "zh")("score", level="度量不变") == "度量不变层级等同约束的得分检验（lavTestScore）"
    assert phrases(catalogue("moderation"), "en")["methods"]["qml"] == "QML (Klein & Muthén 2007)"


def test_interaction_is_a_parameter_row_with_its_two_factors():
    from cluster_sem.model.interaction.terms import split_interactions
    from cluster_sem.model.param import Param
    _, (it,) = split_interactions("Y ~ X + Z\nY ~ w*X:Z\n")
    assert it.row == Param("Y", "~", "X:Z", "w") and it.row.line == 2
    assert (it.outcome, it.first, it.second, it.term, it.label) == ("Y", "X", "Z", "X:Z", "w")


def test_block_reader_follows_the_declared_field_types():
    from cluster_sem.results.document import Hypothesis, ModerationRecord, Normality
    h = Hypothesis.of({"id": "H1", "kind": "path", "from": "TS", "to": "RQ", "supported": 1})
    assert (h.source, h.to, h.supported, h.name) == ("TS", "RQ", True, None)      # metadata key, bool, missing
    rec = ModerationRecord.of({"name": "X", "to": "Y", "focal": "X", "moderator": "Z", "method": "lms",
                               "simple_slopes": [{"at": -1, "est": 0.1}], "johnson_neyman": [], "lrt": {}})
    assert rec.level == 0.95 and rec.simple_slopes[0].at == -1 and rec.simple_slopes[0].se is None
    assert rec.johnson_neyman is None and rec.lrt is None and rec.index_of_moderated_mediation == ()
    norm = Normality.of({"mardia_skewness": {"b1d": 2.0, "chi2": 30.0, "df": 20, "pvalue": 0.07},
                         "mardia_kurtosis": None, "n": 100, "p": 4})
    assert norm.skewness.b1d == 2.0 and norm.skewness.chi2 == 30.0 and norm.kurtosis is None


def test_param_keys_are_the_parameter_row_declaration():
    """PARAM_KEYS (the columns of ``Results.parameters``) is read from the row's model, not restated."""
    from cluster_sem.results.document import ParameterColumns, ParameterRow
    from cluster_sem.results.results import PARAM_KEYS
    assert PARAM_KEYS == ParameterColumns.keys() == ("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "std_all")
    assert ParameterRow.keys() == PARAM_KEYS + ("group",)


ROW = {"lhs": "RQ", "op": "~", "rhs": "TS", "label": None, "est": 0.4, "se": 0.1, "z": 4.0, "pvalue": 0.0,
       "std_all": 0.3}


def _problem(model, d, where: str = "") -> str | None:
    """What `report` would say about record ``d`` stored at ``where`` (the schema's wording of pydantic's error)."""
    from pydantic import ValidationError
    from cluster_sem.results.schema import wording
    try:
        model.of(d)
    except ValidationError as exc:
        text = wording(exc)
        return text.replace("'", f"'{where}", 1) if where and not text.startswith("'the top") else text
    return None


def test_block_problems_name_the_first_damaged_key():
    """The models say how a mapping departs from them, by its JSON key path, in `report`'s words."""
    from cluster_sem.results.document import Effect, ModelBlock, ParameterRow
    assert _problem(ParameterRow, ROW) is None and _problem(ParameterRow, {**ROW, "label": None, "z": None}) is None
    assert _problem(ParameterRow, {k: v for k, v in ROW.items() if k != "op"}, "m.parameters[0].") \
        == "'m.parameters[0].op' is missing"
    assert _problem(ParameterRow, {**ROW, "est": "oops"}, "p.") == "'p.est' is not a number"
    assert _problem(ParameterRow, {**ROW, "se": True}, "p.") == "'p.se' is not a number"        # JSON true
    assert _problem(ParameterRow, {**ROW, "group": 3}, "p.") == "'p.group' is not text"
    assert ParameterRow.of({**ROW, "df": 3}).est == 0.4                  # a key the model does not declare: kept
    assert type(ParameterRow.of({**ROW, "est": 1}).est) is int           # a number is kept as stored
    model = {"fit": {"chi2": 1.0}, "parameters": [ROW, {**ROW, "rhs": ["TS"]}]}
    assert _problem(ModelBlock, model, "structural_model.") == "'structural_model.parameters[1].rhs' is not text"
    assert _problem(ModelBlock, {"parameters": []}, "s.") == "'s.fit' is missing"
    assert _problem(ModelBlock, {"fit": [], "parameters": []}, "s.") == "'s.fit' is not an object"
    assert _problem(ModelBlock, {"fit": {}, "parameters": [5]}, "s.") == "'s.parameters[0]' is not an object"
    effect = {"name": "ind1", "path": ["TS", "RQ", "GR"], "est": 0.1, "cis": {"delta": [0.0, 0.2]}}
    assert _problem(Effect, effect) is None and _problem(Effect, {**effect, "path": "TS"}, "e.") == "'e.path' is not a list"


def test_document_problem_names_the_key_path_of_a_damaged_document(example_doc_copy):
    """`report DIR`'s check: the kind's model, the first error as one phrase naming the key path."""
    from cluster_sem.results.schema import document_problem
    doc = copy.deepcopy(example_doc_copy)
    doc["indirect_effects"][0] = ["ind1"]
    assert document_problem(doc) == "'indirect_effects[0]' is not an object"
    doc = copy.deepcopy(example_doc_copy)
    doc["reliability"]["TS"]["omega"] = "high"
    assert document_problem(doc) == "'reliability.TS.omega' is not a number"
    doc = copy.deepcopy(example_doc_copy)
    del doc["hypotheses"]
    assert document_problem(doc) == "'hypotheses' is missing"
    assert document_problem([1, 2]) == "the top level is a list, not an object"


def test_a_writer_drifting_from_the_schema_fails_before_writing(example_doc_copy):
    """Every command builds its Results through ``from_document``, which checks the dict against the models."""
    import pytest
    from cluster_sem.results.results import Results
    from cluster_sem.results.schema import SchemaDrift
    Results.from_document(example_doc_copy)                       # the real writer's document passes
    example_doc_copy["structural_model"]["parameters"][0]["est"] = "0.3"
    with pytest.raises(SchemaDrift, match=r"'structural_model.parameters\[0\].est' is not a number"):
        Results.from_document(example_doc_copy)
    Results.from_json(__import__("json").dumps(example_doc_copy))  # a stored file: `report` words it instead


def test_shape_problem_reads_the_declarations(example_doc_copy):
    """`report DIR`'s check names the damaged key of a model row or an effect by its JSON path."""
    from cluster_sem.results.schema import document_problem as shape_problem
    assert shape_problem(example_doc_copy) is None
    doc = copy.deepcopy(example_doc_copy)
    doc["structural_model"]["parameters"][2]["pvalue"] = "0.01"
    assert shape_problem(doc) == "'structural_model.parameters[2].pvalue' is not a number"
    doc = copy.deepcopy(example_doc_copy)
    del doc["measurement_model"]["fit"]
    assert shape_problem(doc) == "'measurement_model.fit' is missing"
    doc = copy.deepcopy(example_doc_copy)
    doc["total_effects"][0]["name"] = 7
    assert shape_problem(doc) == "'total_effects[0].name' is not text"


def test_shape_problem_checks_invariance_levels_by_their_declaration():
    from cluster_sem.results.schema import document_problem as shape_problem
    assert shape_problem(DOC) is None
    doc = copy.deepcopy(DOC)
    del doc["invariance"]["levels"][1]["decision"]
    assert shape_problem(doc) == "'invariance.levels[1].decision' is missing"
    doc = copy.deepcopy(DOC)
    doc["invariance"]["levels"][0]["parameters"][0]["est"] = [1.0]
    assert shape_problem(doc) == "'invariance.levels[0].parameters[0].est' is not a number"


def test_report_on_a_damaged_results_json_names_the_key_path_and_the_fix(example_doc_copy, tmp_path, capsys):
    """`cluster-sem report DIR`: exit 2, one line with the file, the exact key path and the fix; nothing written."""
    import json
    from cluster_sem.cli import main
    example_doc_copy["measurement_model"]["parameters"][3]["est"] = "0.71"
    (tmp_path / "results.json").write_text(json.dumps(example_doc_copy), encoding="utf-8")
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.endswith(f"{tmp_path / 'results.json'}: 'measurement_model.parameters[3].est' is not a number. "
                        "Fix: correct that key (docs/contract.md, section 3) or re-run the command that wrote it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
