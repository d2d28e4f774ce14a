"""The ``interactions`` spec key: valid entries load, bad ones name the key path, the problem and the fix."""
from __future__ import annotations

import pytest

from cluster_sem.model.interaction.fit import interaction_syntax
from cluster_sem.spec import load_spec

from test_spec_errors import BASE, rejected, write

GOOD = BASE.replace("controls:", "  MD: {items: [md1, md2, md3]}\ncontrols:", 1).replace(
    "  - {to: CG, from: [OL, TS]}", "  - {to: CG, from: [OL, TS, MD]}", 1) + \
    "interactions:\n  - {name: OLxMD, between: [OL, MD], to: CG, hypothesis: H5, expect: negative}\n"

CASES = [
    ("unknown-construct", "between: [OL, MD]", "between: [OL, MX]", "interactions[0].between[1]",
     "unknown construct 'MX' (did you mean 'MD'?)", "name a construct"),
    ("same-construct", "between: [OL, MD]", "between: [OL, OL]", "interactions[0].between",
     "'OL' twice", "two different constructs"),
    ("unknown-outcome", "to: CG, hypothesis: H5", "to: CX, hypothesis: H5", "interactions[0].to",
     "unknown construct 'CX'", "outcome construct"),
    ("outcome-in-between", "to: CG, hypothesis: H5", "to: MD, hypothesis: H5", "interactions[0].to",
     "also in 'between'", "must differ"),
    ("missing-main-effect", "from: [OL, TS, MD]", "from: [OL, TS]", "interactions[0].to",
     "MD -> CG are not declared paths", "{to: CG, from: [MD]}"),
    ("both-endogenous", "between: [OL, MD]", "between: [OL, CG]", "interactions[0].between",
     "both OL and CG are outcomes of paths", "make the moderator exogenous"),
    ("bad-name", "name: OLxMD", "name: 1x", "interactions[0].name", "not a valid name", "letters, digits"),
    ("bad-expect", "expect: negative", "expect: down", "interactions[0].expect", "", "positive, negative or nonzero"),
    ("list-outcome-unknown", "to: CG, hypothesis: H5", "to: [CG, ZZ], hypothesis: H5", "interactions[0].to[1]",
     "unknown construct 'ZZ'", "outcome construct"),
]


def test_valid_interaction_loads_and_becomes_a_product_term(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    it = spec.interactions[0]
    assert it.between == ("OL", "MD") and it.outcomes == ("CG",) and it.expect == "negative"
    assert "CG ~ b_OLxMD_CG*OL:MD" in interaction_syntax(spec)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_interaction_names_key_problem_and_fix(tmp_path, case):
    _, old, new, key, what, fix = case
    assert GOOD.count(old) >= 1, "test case no longer matches GOOD"
    err = rejected(tmp_path, GOOD.replace(old, new, 1))
    hits = [p for p in err.problems if p.startswith(f"survey.yaml: {key}: ")]
    assert hits, err.problems
    assert any(what in p.split(". Fix: ")[0] and fix in p.split(". Fix: ")[1] for p in hits), hits


def test_population_interaction_must_name_constructs(tmp_path):
    text = GOOD.replace("  groups: {north", "  interactions: [{between: [OL, MQ], to: CG, effect: -0.2}]\n  groups: {north", 1)
    err = rejected(tmp_path, text)
    assert any(p.startswith("survey.yaml: population.interactions[0].between[1]: unknown construct 'MQ'")
               for p in err.problems), err.problems
