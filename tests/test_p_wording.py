"""Running text states a p value as "p = .023" or "p < .001" (``render/numbers.p_eq``, one rule for every
sentence): the Mardia and Little sentences and the terminal's fit line printed "p 1.000" / "p .023", and the
terminal's moderation lines "p = < .001"."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from cluster_sem.render.numbers import p_eq

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
STAMP = "2026-01-02T03:04:05+00:00"
# "p" as a word, then a number or "= <" with no "=" / "<" between (a table cell holds a bare value, not "p …")
BARE_P = re.compile(r"(?<![\w.])p (?:[.\d]|= <)")


def test_p_eq():
    assert (p_eq(0.0004), p_eq(0.0234), p_eq(1.0), p_eq(None)) == ("< .001", "= .023", "= 1.000", "= —")


@pytest.fixture(scope="module")
def doc():
    import cluster_sem as cs
    return cs.fit(SPEC, DATA, seed=1, timestamp=STAMP).to_dict()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_sentences_say_p_equals(doc, lang):
    from cluster_sem.render.markdown import render_markdown
    text = render_markdown(doc, lang)
    assert "Mardia" in text and not BARE_P.findall(text)


def test_terminal_summary_says_p_equals(doc):
    from cluster_sem.render.terminal import render_summary
    text = render_summary(doc)
    assert "Mardia" in text and not BARE_P.findall(text)
