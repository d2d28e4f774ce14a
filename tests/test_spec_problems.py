"""Validation produces typed problems (key path, line, message, fix); their text is the one-line message."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from cluster_sem.errors import SpecError
from cluster_sem.spec.loader import parse_spec
from cluster_sem.spec.problems import Problem

SPEC = (Path(__file__).resolve().parents[1] / "questionnaires" / "zhejiang_cluster_growth.yaml").read_text()


def test_problems_carry_their_parts_and_line():
    text = SPEC.replace("missing_codes: [99]", "missing_codes: [3]")
    assert text != SPEC
    with pytest.raises(SpecError) as info:
        parse_spec(text, "survey.yaml")
    problem = info.value.problems[0]
    assert isinstance(problem, Problem)
    assert problem.key == "missing_codes[0]" and problem.line is not None
    assert problem.fix.startswith("use a code outside every item's scale")
    assert str(problem) == (f"survey.yaml: missing_codes[0]: {problem.message} (line {problem.line}). "
                            f"Fix: {problem.fix}")
    assert pickle.loads(pickle.dumps(problem)) == problem and pickle.loads(pickle.dumps(problem)).key == problem.key


def test_with_line_uses_the_key_path_not_the_message():
    p = Problem("s.yaml", "paths[1].from[0]", "has: colons. Fix: inside", "do it")
    assert p.with_line({"paths": 7, "paths[1]": 9}) == "s.yaml: paths[1].from[0]: has: colons. Fix: inside (line 9). Fix: do it"
    assert Problem("s.yaml", None, "YAML syntax error").with_line({"x": 1}) == "s.yaml: YAML syntax error"
