"""Spec → lavaan syntax: exact text, determinism, total effects over every chain."""
from __future__ import annotations

from pathlib import Path

from cluster_sem.spec import codebook, defined_effects, load_spec, measurement_syntax, parse_spec, structural_syntax

ROOT = Path(__file__).resolve().parents[1]

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
    spec = load_spec(ROOT / "tests" / "models" / "hs_cfa.yaml")
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
