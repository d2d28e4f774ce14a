"""Spec → lavaan syntax: exact text, determinism, equivalence with lavaan's own models, total effects."""
from __future__ import annotations

import json
import re
from pathlib import Path

from cluster_sem.spec import codebook, defined_effects, load_spec, measurement_syntax, parse_spec, structural_syntax
from cluster_sem.spec.syntax import DefinedEffect, endogenous_constructs, exogenous_constructs

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "tests" / "specs"
LAVAAN = json.loads((ROOT / "tests" / "reference" / "lavaan_reference.json").read_text())

SMALL = """\
spec_version: 1
scale: {min: 1, max: 5}
constructs:
  X: {label: {en: Ties, zh: 关系}, items: [x1, x2, {id: x3, reverse: true, text: {en: Rarely, zh: 很少}}]}
  M1: {items: [m1, m2, m3]}
  M2: {items: [n1, n2, n3]}
  Y: {items: [y1, y2, y3]}
controls: [age]
paths:
  - {to: M1, from: [X]}
  - {to: M2, from: [X, M1]}
  - {to: Y, from: [M1, M2, X]}
covariances: [[y1, y2]]
indirect:
  - {name: ind1, path: [X, M1, Y]}
"""


def test_structural_syntax_exact():
    spec = parse_spec(SMALL)
    assert structural_syntax(spec) == (
        "X =~ x1 + x2 + x3\nM1 =~ m1 + m2 + m3\nM2 =~ n1 + n2 + n3\nY =~ y1 + y2 + y3\n"
        "M1 ~ b_X_M1*X + age\nM2 ~ b_X_M2*X + b_M1_M2*M1 + age\nY ~ b_M1_Y*M1 + b_M2_Y*M2 + b_X_Y*X + age\n"
        "y1 ~~ y2\n"
        "ind1 := b_X_M1*b_M1_Y\n"
        "total_X_Y := b_X_Y + b_X_M1*b_M1_Y + b_X_M2*b_M2_Y + b_X_M1*b_M1_M2*b_M2_Y\n")


def test_total_effect_enumerates_every_chain():
    total = [e for e in defined_effects(parse_spec(SMALL)) if e.kind == "total"][0]
    assert set(total.chains) == {("X", "M1", "Y"), ("X", "M1", "M2", "Y"), ("X", "M2", "Y"), ("X", "Y")}


def test_measurement_syntax_correlates_all_first_order_constructs():
    text = measurement_syntax(parse_spec(SMALL))
    assert text.count(" ~~ ") == 6 + 1  # 4 constructs → 6 pairs, plus the item residual covariance
    assert "X ~~ Y" in text and "y1 ~~ y2" in text and " ~ " not in text


def test_hs_spec_gives_lavaan_hs_model():
    spec = load_spec(SPECS / "hs_cfa.yaml")
    lines = measurement_syntax(spec).splitlines()
    assert lines[:3] == ["visual =~ x1 + x2 + x3", "textual =~ x4 + x5 + x6", "speed =~ x7 + x8 + x9"]


def test_syntax_is_deterministic_and_zhejiang_has_second_order():
    spec = load_spec(ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml")
    assert structural_syntax(spec) == structural_syntax(load_spec(ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"))
    text = structural_syntax(spec)
    assert "RD =~ RV + RH + RS" in text and "IOL =~ KA + KS + KC" in text
    assert "IOL ~ b_NC_IOL*NC + b_TS_IOL*TS + b_RD_IOL*RD + firm_age + log_employees" in text
    assert "NC ~~ TS" in text and "CE ~~ CI" in text
    assert "ind_TS_CE := b_TS_IOL*b_IOL_CE" in text


def test_codebook_lists_items_with_wording():
    book = codebook(parse_spec(SMALL))
    assert list(book["item"][:3]) == ["x1", "x2", "x3"]
    row = book.set_index("item").loc["x3"]
    assert row["reverse"] and row["text_zh"] == "很少" and row["construct_label_zh"] == "关系"


def statements(syntax: str) -> set[tuple[str, str, str]]:
    """lavaan model text → set of (lhs, op, rhs) with labels dropped and ``a ~~ b + c`` expanded."""
    out = set()
    for line in syntax.splitlines():
        m = re.match(r"^\s*(\w+)\s*(=~|~~|~)\s*(.+)$", line)
        if not m or ":=" in line:
            continue
        lhs, op, rhs = m.groups()
        for term in rhs.split("+"):
            out.add((lhs, op, term.strip().split("*")[-1]))
    return out


def defined(syntax: str) -> dict[str, str]:
    return dict((k.strip(), v.strip()) for k, v in (line.split(":=") for line in syntax.splitlines() if ":=" in line))


def test_hs_spec_is_lavaans_hs_model():
    spec = load_spec(SPECS / "hs_cfa.yaml")
    expected = statements(LAVAAN["hs_cfa"]["model"])
    pairs = {("visual", "~~", "textual"), ("visual", "~~", "speed"), ("textual", "~~", "speed")}
    assert statements(measurement_syntax(spec)) == expected | pairs
    assert statements(structural_syntax(spec)) == expected | pairs  # no paths: CFA with explicit covariances
    assert measurement_syntax(spec) == (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
        "visual ~~ textual\nvisual ~~ speed\ntextual ~~ speed\n")


def test_poldem_spec_is_lavaans_poldem_model():
    spec = load_spec(SPECS / "poldem.yaml")
    text = structural_syntax(spec)
    assert statements(text) == statements(LAVAAN["poldem_sem"]["model"])
    rename = {"a": "b_ind60_dem60", "b": "b_dem60_dem65", "c": "b_ind60_dem65"}
    lavaan_defined = {k: re.sub(r"\b[abc]\b", lambda m: rename[m.group(0)], v)
                      for k, v in defined(LAVAAN["poldem_sem"]["model"]).items()}
    assert defined(text) == {"indirect": lavaan_defined["indirect"], "total_ind60_dem65": lavaan_defined["total"]}
    assert text == (
        "ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem65 =~ y5 + y6 + y7 + y8\n"
        "dem60 ~ b_ind60_dem60*ind60\ndem65 ~ b_ind60_dem65*ind60 + b_dem60_dem65*dem60\n"
        "y1 ~~ y5\ny2 ~~ y4\ny2 ~~ y6\ny3 ~~ y7\ny4 ~~ y8\ny6 ~~ y8\n"
        "indirect := b_ind60_dem60*b_dem60_dem65\ntotal_ind60_dem65 := b_ind60_dem65 + b_ind60_dem60*b_dem60_dem65\n")


def test_without_defined_effects_semopy_can_read_it():
    spec = load_spec(SPECS / "poldem.yaml")
    text = structural_syntax(spec, with_defined=False)
    assert ":=" not in text and text == structural_syntax(spec).split("indirect :=")[0]


def test_defined_effects_are_structured():
    effects = defined_effects(load_spec(SPECS / "poldem.yaml"))
    assert effects == [
        DefinedEffect("indirect", "indirect", ("ind60", "dem60", "dem65"), "b_ind60_dem60*b_dem60_dem65",
                      (("ind60", "dem60", "dem65"),)),
        DefinedEffect("total_ind60_dem65", "total", ("ind60", "dem65"), "b_ind60_dem65 + b_ind60_dem60*b_dem60_dem65",
                      (("ind60", "dem65"), ("ind60", "dem60", "dem65"))),
    ]


def test_total_effect_without_direct_path_sums_every_chain():
    spec = parse_spec(SMALL.replace("from: [M1, M2, X]", "from: [M1, M2]"))
    total = [e for e in defined_effects(spec) if e.kind == "total"][0]
    assert total.expression == "b_X_M1*b_M1_Y + b_X_M2*b_M2_Y + b_X_M1*b_M1_M2*b_M2_Y"
    assert ("X", "Y") not in total.chains


SECOND = """\
spec_version: 1
scale: {min: 1, max: 7}
constructs:
  TS: {items: [ts1, ts2, ts3]}
  KA: {items: [ka1, ka2, ka3]}
  KS: {items: [ks1, ks2, ks3]}
  KC: {items: [kc1, kc2, kc3]}
  IOL: {dimensions: [KA, KS, KC]}
  RQ: {items: [rq1, rq2, rq3]}
  CM: {items: [cm1, cm2, cm3]}
  CE: {items: [ce1, ce2, ce3]}
  CI: {items: [ci1, ci2, ci3]}
controls: [firm_age, log_size]
paths:
  - {to: IOL, from: [TS, RQ]}
  - {to: CE, from: [IOL]}
  - {to: CI, from: [IOL, TS]}
covariances: [[CE, CI], [RQ, TS], [ce1, ci1]]
"""


def test_second_order_controls_and_exogenous_covariances_exact():
    spec = parse_spec(SECOND)
    assert endogenous_constructs(spec) == ["IOL", "CE", "CI"]
    assert exogenous_constructs(spec) == ["TS", "RQ", "CM"]  # dimensions are not exogenous; isolated CM is
    assert structural_syntax(spec) == (
        "TS =~ ts1 + ts2 + ts3\nKA =~ ka1 + ka2 + ka3\nKS =~ ks1 + ks2 + ks3\nKC =~ kc1 + kc2 + kc3\n"
        "RQ =~ rq1 + rq2 + rq3\nCM =~ cm1 + cm2 + cm3\nCE =~ ce1 + ce2 + ce3\nCI =~ ci1 + ci2 + ci3\n"
        "IOL =~ KA + KS + KC\n"
        "IOL ~ b_TS_IOL*TS + b_RQ_IOL*RQ + firm_age + log_size\nCE ~ b_IOL_CE*IOL + firm_age + log_size\n"
        "CI ~ b_IOL_CI*IOL + b_TS_CI*TS + firm_age + log_size\n"
        "TS ~~ RQ\nTS ~~ CM\nRQ ~~ CM\n"   # RQ ~~ TS from covariances is not written a second time
        "CE ~~ CI\nce1 ~~ ci1\n")
    cfa = measurement_syntax(spec)
    assert "IOL" not in cfa and cfa.count(" =~ ") == 8 and cfa.count(" ~~ ") == 28 + 1


def test_syntax_is_deterministic_and_follows_spec_order():
    a, b = parse_spec(SECOND), parse_spec(SECOND)
    assert structural_syntax(a) == structural_syntax(b) and measurement_syntax(a) == measurement_syntax(b)
    assert defined_effects(a) == defined_effects(b)
    reordered = SECOND.replace("  CE: {items: [ce1, ce2, ce3]}\n  CI: {items: [ci1, ci2, ci3]}\n",
                               "  CI: {items: [ci1, ci2, ci3]}\n  CE: {items: [ce1, ce2, ce3]}\n")
    assert measurement_syntax(parse_spec(reordered)).index("CI =~") < measurement_syntax(parse_spec(reordered)).index("CE =~")


def test_codebook_columns_and_second_order_parent():
    book = codebook(parse_spec(SECOND))
    assert list(book.columns) == ["construct", "construct_label_en", "construct_label_zh", "item", "text_en", "text_zh",
                                  "reverse", "scale_min", "scale_max", "second_order"]
    assert len(book) == 24 and list(book["item"][:4]) == ["ts1", "ts2", "ts3", "ka1"]
    assert set(book.loc[book["construct"] == "KS", "second_order"]) == {"IOL"}
    assert set(book.loc[book["construct"] == "TS", "second_order"]) == {""}
    assert (book["scale_min"] == 1).all() and (book["scale_max"] == 7).all()
