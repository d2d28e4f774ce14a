"""Bad specs: each must be rejected with the file name, the key path, what is wrong and the fix."""
from __future__ import annotations

import textwrap
import warnings

import pytest

from cluster_sem.errors import SpecError, SpecWarning
from cluster_sem.spec import load_spec, parse_spec

BASE = """\
spec_version: 1
scale: {min: 1, max: 5}
missing_codes: [99]
id: firm_id
group: region
constructs:
  TS: {label: {en: Tie strength}, items: [ts1, ts2, ts3]}
  RQ: {items: [rq1, rq2, {id: rq3, reverse: true}]}
  KA: {items: [ka1, ka2, ka3]}
  KS: {items: [ks1, ks2, ks3]}
  OL: {dimensions: [KA, KS]}
  CG: {items: [cg1, cg2, cg3]}
paths:
  - {to: OL, from: [TS, RQ], hypothesis: H1}
  - {to: CG, from: [OL, TS]}
indirect:
  - {name: ind_TS, path: [TS, OL, CG]}
"""


def write(tmp_path, text: str):
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path, text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    err = info.value
    assert "\n" not in str(err), "the CLI shows one line"
    assert all(p.startswith("study.yaml: ") for p in err.problems)
    assert all("Fix:" in p for p in err.problems)
    return err.problems


BAD = [
    # (id, replacement (old, new) on BASE, key path, fragment)
    ("unknown-top-key", ("paths:", "constructz: {}\npaths:"), "constructz", "did you mean 'constructs'"),
    ("unknown-item-key", ("{id: rq3, reverse: true}", "{id: rq3, revers: true}"), "constructs.RQ.items[2].revers", "did you mean 'reverse'"),
    ("bad-reverse-type", ("{id: rq3, reverse: true}", "{id: rq3, reverse: maybe}"), "constructs.RQ.items[2].reverse", "boolean"),
    ("one-item", ("items: [cg1, cg2, cg3]", "items: [cg1]"), "constructs.CG.items", "at least 3"),
    ("zero-items", ("items: [cg1, cg2, cg3]", "items: []"), "constructs.CG.items", "at least 3"),
    ("item-twice", ("items: [cg1, cg2, cg3]", "items: [cg1, cg2, ts1]"), "constructs.CG.items[2].id", "already used in construct TS"),
    ("items-and-dimensions", ("OL: {dimensions: [KA, KS]}", "OL: {dimensions: [KA, KS], items: [o1, o2, o3]}"), "constructs.OL", "both 'items' and 'dimensions'"),
    ("neither", ("OL: {dimensions: [KA, KS]}", "OL: {label: {en: Learning}}"), "constructs.OL", "neither"),
    ("unknown-dimension", ("dimensions: [KA, KS]", "dimensions: [KA, KSS]"), "constructs.OL.dimensions[1]", "did you mean 'KS'"),
    ("path-unknown-to", ("{to: CG, from: [OL, TS]}", "{to: CX, from: [OL, TS]}"), "paths[1].to", "unknown construct 'CX'"),
    ("path-unknown-from", ("from: [TS, RQ]", "from: [TS, RQQ]"), "paths[0].from[1]", "did you mean 'RQ'"),
    ("path-duplicate", ("{to: CG, from: [OL, TS]}", "{to: CG, from: [OL, TS, OL]}"), "paths[1].from[2]", "listed twice in this path"),
    ("cycle", ("{to: CG, from: [OL, TS]}", "{to: CG, from: [OL, TS]}\n  - {to: TS, from: [CG]}"), "paths", "cycle"),
    ("self-path", ("{to: CG, from: [OL, TS]}", "{to: CG, from: [OL, CG]}"), "paths[1].from[1]", "cannot predict itself"),
    ("indirect-unknown", ("path: [TS, OL, CG]", "path: [TS, OLL, CG]"), "indirect[0].path[1]", "unknown construct 'OLL'"),
    ("indirect-undeclared-link", ("path: [TS, OL, CG]", "path: [RQ, CG, OL]"), "indirect[0].path", "not a declared path"),
    ("indirect-too-short", ("path: [TS, OL, CG]", "path: [TS, CG]"), "indirect[0].path", "at least 3"),
    ("covariance-unknown", ("indirect:", "covariances: [[TS, XX]]\nindirect:"), "covariances[0][1]", "unknown construct or item 'XX'"),
    ("covariance-self", ("indirect:", "covariances: [[ts1, ts1]]\nindirect:"), "covariances[0]", "with itself"),
    ("covariance-mixed", ("indirect:", "covariances: [[TS, rq1]]\nindirect:"), "covariances[0]", "mixes a construct and an item"),
    ("scale-min-max", ("scale: {min: 1, max: 5}", "scale: {min: 5, max: 1}"), "scale", "must be below max"),
    ("missing-inside-scale", ("missing_codes: [99]", "missing_codes: [3]"), "missing_codes[0]", "inside the scale"),
    ("bad-version", ("spec_version: 1", "spec_version: 2"), "spec_version", "use spec_version: 1"),
    ("missing-scale", ("scale: {min: 1, max: 5}\n", ""), "scale", "required key 'scale' is missing"),
    ("duplicate-indirect-name", ("  - {name: ind_TS, path: [TS, OL, CG]}", "  - {name: ind_TS, path: [TS, OL, CG]}\n  - {name: ind_TS, path: [RQ, OL, CG]}"), "indirect[1].name", "already used"),
    ("bad-construct-name", ("  CG: {items", "  C-G: {items"), "constructs.C-G", "not a valid construct name"),
    ("group-is-item", ("group: region", "group: ts1"), "group", "also an item"),
    ("hypothesis-key", ("hypothesis: H1}", "hypothesis: {TX: H1}}"), "paths[0].hypothesis.TX", "not a predictor"),
    ("second-order-dimension", ("OL: {dimensions: [KA, KS]}", "OL: {dimensions: [KA, KS]}\n  HI: {dimensions: [OL, CG]}"), "constructs.HI.dimensions[0]", "itself second-order"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_spec_is_rejected_with_location_and_fix(tmp_path, case):
    _, (old, new), key, fragment = case
    assert old in BASE
    problems = problems_of(tmp_path, BASE.replace(old, new, 1))
    hits = [p for p in problems if f": {key}:" in p or f": {key} " in p]
    assert hits, problems
    assert any(fragment in p for p in hits), problems


def test_base_spec_is_valid(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecWarning)
        spec = load_spec(write(tmp_path, BASE))
    assert list(spec.first_order) == ["TS", "RQ", "KA", "KS", "CG"]
    assert spec.items["rq3"].reverse


def test_all_problems_are_collected(tmp_path):
    text = BASE.replace("from: [TS, RQ]", "from: [TS, RQQ]").replace("missing_codes: [99]", "missing_codes: [3]")
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, text))
    assert len(info.value.problems) >= 2
    assert "more problem" in str(info.value)


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("spec_version: 1\nscale: {min: 1, max: 5}\nconstructs:\n\tTS: {items: [a, b, c]}\n")
    with pytest.raises(SpecError, match=r"study\.yaml: YAML syntax error at line 4"):
        load_spec(path)


def test_two_item_construct_warns(tmp_path):
    with pytest.warns(SpecWarning, match=r"constructs\.CG\.items: only 2 items"):
        load_spec(write(tmp_path, BASE.replace("items: [cg1, cg2, cg3]", "items: [cg1, cg2]")))


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_yaml_is_loaded_safely():
    with pytest.raises(SpecError):
        parse_spec("!!python/object/apply:os.system ['echo hacked']\n", "evil.yaml")
