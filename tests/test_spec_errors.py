"""Bad specs are rejected with ``FILE: key.path: what is wrong (line N). Fix: how`` — one case per rule.

Every case edits one spot of a valid spec and asserts the exact key path, a distinctive part of the
message and of the fix, and that the file name leads the line (the CLI prints it as is).
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from cluster_sem.errors import SpecError, SpecWarning
from cluster_sem.spec import load_spec, parse_spec

SPECS = Path(__file__).resolve().parent / "specs"

BASE = """\
spec_version: 1
title: {en: Test survey, zh: 测试}
scale: {min: 1, max: 5}
missing_codes: [99]
id: firm_id
group: region
constructs:
  TS: {label: {en: Tie strength}, items: [ts1, ts2, ts3]}
  RQ: {items: [rq1, rq2, {id: rq3, reverse: true}]}
  KA: {items: [ka1, ka2, ka3]}
  KS: {items: [ks1, ks2, ks3]}
  KC: {items: [kc1, kc2, kc3]}
  OL: {dimensions: [KA, KS, KC]}
  CG: {items: [cg1, cg2, cg3]}
controls: [firm_age]
paths:
  - {to: OL, from: [TS, RQ], hypothesis: H1}
  - {to: CG, from: [OL, TS]}
covariances: [[ts1, rq1]]
indirect:
  - {name: ind_TS, path: [TS, OL, CG]}
population:
  loadings: {ts1: 0.7, ts2: 0.7, ts3: 0.7}
  thresholds: [-1.5, -0.5, 0.5, 1.5]
  groups: {north: 50, south: 50}
  paths: {OL: {TS: 0.3}}
  correlations: [{between: [TS, RQ], r: 0.3}]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "survey.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def rejected(tmp_path: Path, text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    err = info.value
    assert "\n" not in str(err)
    assert err.problems and all(p.startswith("survey.yaml: ") and "\n" not in p for p in err.problems)
    return err


# (id, old text in BASE, new text, exact key path, fragment of what is wrong, fragment of the fix)
CASES = [
    ("unknown-top-key", "controls:", "constructz: {}\ncontrols:", "constructz", "unknown key 'constructz'", "did you mean 'constructs'?"),
    ("unknown-item-key", "{id: rq3, reverse: true}", "{id: rq3, revers: true}", "constructs.RQ.items[2].revers", "unknown key", "did you mean 'reverse'?"),
    ("unknown-path-key", "{to: CG, from: [OL, TS]}", "{to: CG, form: [OL, TS]}", "paths[1].form", "unknown key 'form'", "did you mean 'from'?"),
    ("unknown-population-key", "groups: {north", "grups: {north", "population.grups", "unknown key", "did you mean 'groups'?"),
    ("bad-reverse-type", "{id: rq3, reverse: true}", "{id: rq3, reverse: maybe}", "constructs.RQ.items[2].reverse", "valid boolean", "reverse: true or reverse: false"),
    ("hypothesis-type", "hypothesis: H1}", "hypothesis: [H1]}", "paths[0].hypothesis", "valid string", "predictor -> label"),
    ("scale-not-integer", "scale: {min: 1, max: 5}", "scale: {min: 1.5, max: 5}", "scale.min", "valid integer", "whole number"),
    ("expect-literal", "{to: CG, from: [OL, TS]}", "{to: CG, from: [OL, TS], expect: up}", "paths[1].expect", "'positive', 'negative' or 'nonzero'", "use positive, negative or nonzero"),
    ("covariance-triple", "covariances: [[ts1, rq1]]", "covariances: [[ts1, rq1, rq2]]", "covariances[0]", "at most 2 items", "pairs of two names"),
    ("title-plain-string", "title: {en: Test survey, zh: 测试}", "title: Test survey", "title", "valid dictionary", "title: {en: ..., zh: ...}"),
    ("missing-scale", "scale: {min: 1, max: 5}\n", "", "scale", "required key 'scale' is missing", "add scale: {min: 1, max: 7}"),
    ("bad-version", "spec_version: 1", "spec_version: 2", "spec_version", "version 2 is not supported (supported versions: 1)", "use spec_version: 1"),
    ("one-item", "items: [cg1, cg2, cg3]", "items: [cg1]", "constructs.CG.items", "1 item(s); a construct needs at least 3", "add items"),
    ("zero-items", "items: [cg1, cg2, cg3]", "items: []", "constructs.CG.items", "0 item(s)", "add items"),
    ("item-in-two-constructs", "items: [cg1, cg2, cg3]", "items: [cg1, cg2, ts1]", "constructs.CG.items[2].id", "item 'ts1' is already used in construct TS", "measures one construct"),
    ("item-twice-in-construct", "items: [cg1, cg2, cg3]", "items: [cg1, cg2, cg1]", "constructs.CG.items[2].id", "already used in this construct", "rename or remove one"),
    ("item-is-construct-name", "items: [cg1, cg2, cg3]", "items: [cg1, cg2, TS]", "constructs.CG.items[2].id", "'TS' is also a construct name", "rename the item or the construct"),
    ("bad-item-id", "items: [ts1, ts2, ts3]", "items: [ts1, ts2, 3ts]", "constructs.TS.items[2].id", "'3ts' is not a valid item id", "not starting with a digit"),
    ("bad-construct-name", "  CG: {items", "  C-G: {items", "constructs.C-G", "'C-G' is not a valid construct name", "letters, digits and _"),
    ("items-and-dimensions", "OL: {dimensions: [KA, KS, KC]}", "OL: {dimensions: [KA, KS, KC], items: [o1, o2, o3]}", "constructs.OL", "both 'items' and 'dimensions'", "not both"),
    ("neither-items-nor-dimensions", "OL: {dimensions: [KA, KS, KC]}", "OL: {label: {en: Learning}}", "constructs.OL", "neither 'items' nor 'dimensions'", "list its items"),
    ("unknown-dimension", "dimensions: [KA, KS, KC]", "dimensions: [KA, KSS, KC]", "constructs.OL.dimensions[1]", "unknown construct 'KSS' (did you mean 'KS'?)", "first-order construct"),
    ("second-order-dimension", "  CG: {items", "  HI: {dimensions: [OL, CG]}\n  CG: {items", "constructs.HI.dimensions[0]", "'OL' is itself second-order", "must be first-order"),
    ("dimension-shared", "  CG: {items", "  OM: {dimensions: [KA, TS, RQ]}\n  CG: {items", "constructs.OM.dimensions[0]", "'KA' is already a dimension of OL", "only one second-order"),
    ("one-dimension", "dimensions: [KA, KS, KC]", "dimensions: [KA]", "constructs.OL.dimensions", "1 dimension(s)", "add dimensions"),
    ("duplicate-yaml-key", "  CG: {items", "  TS: {items: [tt1, tt2, tt3]}\n  CG: {items", "constructs.TS", "written twice (lines 8 and 14)", "rename or merge"),
    ("path-unknown-to", "{to: CG, from: [OL, TS]}", "{to: CX, from: [OL, TS]}", "paths[1].to", "unknown construct 'CX' (did you mean 'CG'?)", "defined under 'constructs'"),
    ("path-unknown-from", "from: [TS, RQ]", "from: [TS, RQQ]", "paths[0].from[1]", "unknown construct 'RQQ' (did you mean 'RQ'?)", "defined under 'constructs'"),
    ("path-from-control", "from: [TS, RQ]", "from: [TS, RQ, firm_age]", "paths[0].from[2]", "'firm_age' is a control", "regressed into every endogenous construct"),
    ("path-from-item", "from: [TS, RQ]", "from: [TS, rq1]", "paths[0].from[1]", "'rq1' is an item, not a construct", "name its construct RQ"),
    ("path-declared-twice", "covariances:", "  - {to: CG, from: [TS]}\ncovariances:", "paths[2].from[0]", "TS -> CG is declared twice (also in paths[1])", "declare each path once"),
    ("predictor-twice", "from: [OL, TS]", "from: [OL, TS, OL]", "paths[1].from[2]", "'OL' is listed twice in this path", "list each predictor once"),
    ("self-path", "from: [OL, TS]", "from: [OL, CG]", "paths[1].from[1]", "'CG' cannot predict itself", "remove it"),
    ("cycle", "covariances:", "  - {to: TS, from: [CG]}\ncovariances:", "paths", "cycle CG -> TS -> CG", "allow_cycles: true"),
    ("hypothesis-key", "hypothesis: H1}", "hypothesis: {TX: H1}}", "paths[0].hypothesis.TX", "'TX' is not a predictor of this path (did you mean 'TS'?)", "names listed in 'from'"),
    ("indirect-unknown", "path: [TS, OL, CG]", "path: [TS, OLL, CG]", "indirect[0].path[1]", "unknown construct 'OLL' (did you mean 'OL'?)", "defined under 'constructs'"),
    ("indirect-missing-link", "path: [TS, OL, CG]", "path: [RQ, CG, OL]", "indirect[0].path", "the link RQ -> CG is not a declared path", "add {to: CG, from: [RQ]} to 'paths'"),
    ("indirect-too-short", "path: [TS, OL, CG]", "path: [TS, CG]", "indirect[0].path", "at least 3 items", "chain of at least 3 constructs"),
    ("indirect-name-twice", "  - {name: ind_TS, path: [TS, OL, CG]}", "  - {name: ind_TS, path: [TS, OL, CG]}\n  - {name: ind_TS, path: [RQ, OL, CG]}", "indirect[1].name", "already used by indirect[0]", "unique name"),
    ("indirect-name-is-construct", "name: ind_TS", "name: CG", "indirect[0].name", "already used by a construct", "choose another name"),
    ("covariance-unknown", "covariances: [[ts1, rq1]]", "covariances: [[ts1, rq9]]", "covariances[0][1]", "unknown construct or item 'rq9'", "two constructs or two items"),
    ("covariance-self", "covariances: [[ts1, rq1]]", "covariances: [[ts1, ts1]]", "covariances[0]", "'ts1' with itself", "two different"),
    ("covariance-mixed", "covariances: [[ts1, rq1]]", "covariances: [[TS, rq1]]", "covariances[0]", "mixes a construct and an item", "two constructs or two items"),
    ("covariance-twice", "covariances: [[ts1, rq1]]", "covariances: [[ts1, rq1], [rq1, ts1]]", "covariances[1]", "already listed as covariances[0]", "list each pair once"),
    ("scale-min-max", "scale: {min: 1, max: 5}", "scale: {min: 5, max: 5}", "scale", "min (5) must be below max (5)", "scale: {min: 1, max: 7}"),
    ("item-scale-min-max", "{id: rq3, reverse: true}", "{id: rq3, reverse: true, scale: {min: 7, max: 1}}", "constructs.RQ.items[2].scale", "min (7) must be below max (1)", "swap or correct"),
    ("missing-code-in-scale", "missing_codes: [99]", "missing_codes: [3]", "missing_codes[0]", "3 lies inside the scale 1..5", "outside every item's scale"),
    ("missing-code-in-item-scale", "{id: rq3, reverse: true}", "{id: rq3, scale: {min: 0, max: 100}}", "missing_codes[0]", "99 lies inside the scale 0..100 of item rq3", "outside every item's scale"),
    ("group-is-item", "group: region", "group: ts1", "group", "'ts1' is also an item", "name the group column differently"),
    ("id-is-construct", "id: firm_id", "id: TS", "id", "'TS' is also a construct", "name the id column differently"),
    ("control-is-construct", "controls: [firm_age]", "controls: [firm_age, RQ]", "controls[1]", "'RQ' is also a construct", "remove it"),
    ("population-unknown-item", "loadings: {ts1: 0.7,", "loadings: {ts9: 0.7,", "population.loadings.ts9", "unknown item 'ts9'", "item ids"),
    ("population-loading-range", "loadings: {ts1: 0.7,", "loadings: {ts1: 1.2,", "population.loadings.ts1", "1.2 is not a standardized loading", "(-1, 1)"),
    ("threshold-count", "thresholds: [-1.5, -0.5, 0.5, 1.5]", "thresholds: [-1, 0, 1]", "population.thresholds", "3 cut points but the scale 1..5 has 5 categories", "give 4 increasing values"),
    ("threshold-order", "thresholds: [-1.5, -0.5, 0.5, 1.5]", "thresholds: [-1.5, 0.5, -0.5, 1.5]", "population.thresholds", "must strictly increase", "sort them"),
    ("threshold-item-unknown", "thresholds: [-1.5, -0.5, 0.5, 1.5]", "thresholds: {tsx: [-1.5, -0.5, 0.5, 1.5]}", "population.thresholds.tsx", "unknown item 'tsx'", "key thresholds by item ids"),
    ("group-size", "groups: {north: 50, south: 50}", "groups: {north: 50, south: 0}", "population.groups.south", "size 0 must be positive", "positive number"),
    ("groups-without-group", "group: region\n", "", "population.groups", "no 'group' column", "add e.g. group: region"),
    ("population-path-unknown", "paths: {OL: {TS: 0.3}}", "paths: {OL: {TX: 0.3}}", "population.paths.OL.TX", "unknown construct 'TX' (did you mean 'TS'?)", "construct names"),
    ("population-correlation-unknown", "between: [TS, RQ]", "between: [TS, RX]", "population.correlations[0].between[1]", "unknown construct or item 'RX'", "name constructs"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_spec_names_key_problem_and_fix(tmp_path, case):
    _, old, new, key, what, fix = case
    assert BASE.count(old) >= 1, "test case no longer matches BASE"
    err = rejected(tmp_path, BASE.replace(old, new, 1))
    hits = [p for p in err.problems if p.startswith(f"survey.yaml: {key}: ")]
    assert hits, err.problems
    assert any(what in p.split(". Fix: ")[0] and fix in p.split(". Fix: ")[1] for p in hits), hits


def test_spec_without_constructs(tmp_path):
    err = rejected(tmp_path, "spec_version: 1\nscale: {min: 1, max: 5}\nconstructs: {}\n")
    assert err.problems == ["survey.yaml: constructs: no constructs are defined (line 3). "
                            "Fix: add at least one, e.g. TS: {items: [ts1, ts2, ts3]}"]


def test_base_spec_is_valid_without_warnings(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = load_spec(write(tmp_path, BASE))
    assert list(spec.constructs) == ["TS", "RQ", "KA", "KS", "KC", "OL", "CG"]
    assert spec.items["rq3"].reverse and spec.paths[0].from_ == ("TS", "RQ")


def test_one_problem_exact_text_with_line_number(tmp_path):
    err = rejected(tmp_path, BASE.replace("{id: rq3, reverse: true}", "{id: rq3, revers: true}"))
    assert err.problems == ["survey.yaml: constructs.RQ.items[2].revers: unknown key 'revers' (line 9). "
                            "Fix: remove it or rename it (did you mean 'reverse'?)"]
    assert str(err) == err.problems[0]


def test_line_numbers_point_at_the_key(tmp_path):
    err = rejected(tmp_path, BASE.replace("path: [TS, OL, CG]", "path: [TS, OLL, CG]").replace("missing_codes: [99]", "missing_codes: [2]"))
    by_key = {p.split(": ")[1]: p for p in err.problems}
    assert "(line 21)" in by_key["indirect[0].path[1]"]
    assert "(line 4)" in by_key["missing_codes[0]"]


def test_all_problems_collected_and_counted_in_one_line(tmp_path):
    text = (BASE.replace("from: [TS, RQ]", "from: [TS, RQQ]").replace("missing_codes: [99]", "missing_codes: [3]")
            .replace("covariances: [[ts1, rq1]]", "covariances: [[ts1, ts1]]"))
    err = rejected(tmp_path, text)
    assert len(err.problems) == 3
    assert str(err) == err.problems[0] + " (and 2 more problems; run 'cluster-sem validate' to list them)"
    assert {p.split(": ")[1] for p in err.problems} == {"paths[0].from[1]", "missing_codes[0]", "covariances[0]"}


def test_shape_errors_are_collected_too(tmp_path):
    text = BASE.replace("{id: rq3, reverse: true}", "{id: rq3, reverse: maybe}").replace("spec_version: 1", "spec_version: 3")
    err = rejected(tmp_path, text)
    keys = [p.split(": ")[1] for p in err.problems]
    assert "spec_version" in keys and "constructs.RQ.items[2].reverse" in keys
    assert "(and 1 more problem;" in str(err)


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = write(tmp_path, "spec_version: 1\nscale: {min: 1, max: 5}\nconstructs:\n  TS: {items: [a, b, c]\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert re.match(r"survey\.yaml: YAML syntax error at line \d+, column \d+: .+\. Fix: ", str(info.value))
    tab = write(tmp_path, "spec_version: 1\nscale: {min: 1, max: 5}\nconstructs:\n\tTS: {items: [a, b, c]}\n")
    with pytest.raises(SpecError, match=r"^survey\.yaml: YAML syntax error at line 4, column 1: .*spaces, not tabs"):
        load_spec(tab)


def test_top_level_must_be_a_mapping():
    with pytest.raises(SpecError, match=r"^x\.yaml: \(top level\): the spec must be a YAML mapping"):
        parse_spec("- a\n- b\n", "x.yaml")


def test_unsafe_yaml_tags_are_refused():
    with pytest.raises(SpecError, match="YAML syntax error"):
        parse_spec("!!python/object/apply:os.system ['echo hacked']\n", "evil.yaml")


def test_default_source_name():
    with pytest.raises(SpecError, match=r"^<string>: scale: "):
        parse_spec(BASE.replace("scale: {min: 1, max: 5}", "scale: {min: 9, max: 5}"))


def test_two_item_construct_warns_with_location(tmp_path):
    with pytest.warns(SpecWarning, match=r"^survey\.yaml: constructs\.CG\.items: only 2 items.*\(line 14\)\. Fix: add a third item"):
        spec = load_spec(write(tmp_path, BASE.replace("items: [cg1, cg2, cg3]", "items: [cg1, cg2]")))
    assert spec.items_of("CG") == ["cg1", "cg2"]


def test_two_dimension_second_order_warns(tmp_path):
    with pytest.warns(SpecWarning, match=r"constructs\.OL\.dimensions: only 2 dimensions; .*under-identified"):
        load_spec(write(tmp_path, BASE.replace("dimensions: [KA, KS, KC]", "dimensions: [KA, KS]")))


def test_allow_cycles_accepts_a_cycle(tmp_path):
    text = BASE.replace("covariances:", "  - {to: TS, from: [CG]}\ncovariances:").replace("controls:", "allow_cycles: true\ncontrols:")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = load_spec(write(tmp_path, text))
    assert spec.allow_cycles


def test_path_onto_a_dimension_of_a_second_order_construct_is_allowed(tmp_path):
    text = BASE.replace("covariances:", "  - {to: KA, from: [RQ]}\ncovariances:")
    spec = load_spec(write(tmp_path, text))
    assert any(p.to == "KA" for p in spec.paths)


def test_names_are_case_sensitive(tmp_path):
    err = rejected(tmp_path, BASE.replace("from: [TS, RQ]", "from: [ts, RQ]"))
    assert any(p.startswith("survey.yaml: paths[0].from[0]: unknown construct 'ts' (did you mean 'TS'?)") for p in err.problems)


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="spec file not found. Fix: check the path"):
        load_spec(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", ["hs_cfa.yaml", "poldem.yaml"])
def test_shared_spec_files_are_valid_without_warnings(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = load_spec(SPECS / name)
    assert spec.spec_version == 1 and not spec.missing_codes
