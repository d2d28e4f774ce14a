"""README is a user's manual whose claims hold: its test command is the one CI runs, every command and option
it shows exists, every test file it cites as evidence exists, and it says nothing of how it was built."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _parser():
    from cluster_sem.cli import build_parser
    return build_parser()


def test_the_readme_test_command_is_what_ci_runs():
    command = 'python3 -m venv .venv && . .venv/bin/activate && pip install -q -e ".[test]" && python -m pytest -q -n 2'
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_command_and_option_shown_exists():
    import argparse
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", README, flags=re.S | re.M)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    seen = 0
    for line in lines:
        m = re.match(r"\s*cluster-sem (\w+)(.*)", line)
        if not m:
            continue
        seen += 1
        command, rest = m.groups()
        assert command in sub.choices, line
        parsers = [sub.choices[command]]
        nested = [a for a in parsers[0]._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:      # `library list|show NAME`: the options of every sub-command named
            parsers = [p for name, p in nested[0].choices.items() if name in rest]
            assert parsers, line
        known = {s for p in parsers for a in p._actions for s in a.option_strings}
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            assert option in known, f"{option} of `cluster-sem {command}` in README: {line}"
    assert seen >= 20


def test_every_cited_test_file_exists():
    cited = set(re.findall(r"`(?:tests/)?(test_[a-z0-9_*]+\.py)`", README))
    assert cited
    for name in cited:
        assert list((ROOT / "tests").glob(name)), name


@pytest.mark.parametrize("word", ["stop 1", "stop 2", "this sandbox", "previous commit", "session", "helper",
                                  "branch", "the lead"])
def test_the_readme_tells_nothing_of_how_it_was_built(word):
    assert word not in README.lower()
