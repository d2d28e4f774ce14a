"""Hostile input: YAML alias bombs, deep nesting, huge integers, Markdown links/images in labels, and
terminal escape sequences in user text."""
from __future__ import annotations

import copy
import re
import time
from pathlib import Path

import pytest

import cluster_sem as cs
from cluster_sem.cli import main
from cluster_sem.errors import SpecError
from cluster_sem.spec.loader import parse_spec

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
GOOD = SPEC.read_text(encoding="utf-8")

BOMB = "\n".join(["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"] +
                 [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]) + "\n"


def cli_error(tmp_path, capsys, text: str, command: str = "validate") -> str:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    t0 = time.time()
    args = ["validate", str(spec)] if command == "validate" else \
        ["fit", str(spec), str(DATA), "--out", str(tmp_path / "out")]
    assert main(args) == 2
    assert time.time() - t0 < 20
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "Fix:" in err
    assert not (tmp_path / "out").exists()
    return err


@pytest.mark.parametrize("command", ["validate", "fit"])
def test_yaml_alias_bomb_is_refused_at_once(tmp_path, capsys, command):
    err = cli_error(tmp_path, capsys, BOMB, command)
    assert "alias" in err or "anchor" in err


def test_anchors_in_an_otherwise_valid_spec_are_refused(tmp_path, capsys):
    text = GOOD.replace("scale: {min: 1, max: 5}", "scale: &s {min: 1, max: 5}", 1)
    assert text != GOOD
    err = cli_error(tmp_path, capsys, text)
    assert "anchor" in err and "line" in err


def test_deep_nesting_is_refused(tmp_path, capsys):
    err = cli_error(tmp_path, capsys, "constructs: " + "[" * 20000 + "]" * 20000 + "\n")
    assert "nest" in err


def test_400_digit_integer_is_refused(tmp_path, capsys):
    text = GOOD.replace("missing_codes: [99]", "missing_codes: [" + "9" * 400 + "]", 1)
    assert text != GOOD
    err = cli_error(tmp_path, capsys, text)
    assert "digits" in err


def test_parse_spec_raises_spec_error_not_recursion_or_overflow():
    for text in ("a: " + "{b: " * 5000 + "1" + "}" * 5000, "scale: {min: 1, max: " + "7" * 400 + "}"):
        with pytest.raises(SpecError):
            parse_spec(text, "x.yaml")


@pytest.fixture(scope="module")
def doc() -> dict:
    return cs.fit(SPEC, DATA, seed=1, timestamp="T").to_dict()


def test_markdown_report_has_no_live_links_or_images_from_labels(doc):
    from cluster_sem.render.markdown import render_markdown
    d = copy.deepcopy(doc)
    d["spec"]["constructs"]["TS"]["label"]["en"] = "[click](javascript:alert(1))"
    d["spec"]["constructs"]["NC"]["items"][0]["text"]["en"] = "![](https://evil.example/pixel.png)"
    d["meta"]["title"]["en"] = "Survey [x][1] <https://evil.example>"
    md = render_markdown(d)
    assert "click" in md and "evil.example/pixel.png" in md
    assert not re.search(r"(?<!\\)\]\(", md), "an unescaped '](' makes a live link or image"
    assert not re.search(r"(?<!\\)\]\[", md)
    assert "<https:" not in md


def test_terminal_summary_strips_control_characters_and_caps_names(doc):
    from cluster_sem.render.terminal import render_summary
    d = copy.deepcopy(doc)
    d["meta"]["title"]["en"] = "\x1b[2J\x1b]0;pwned\x07Survey\x1b[31m red\x9b1m\u202e"
    d["warnings"] = ["structural model: " + "A" * 5000]
    text = render_summary(d)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text and "\u202e" not in text
    assert text.startswith("Survey red\n")
    assert max(len(line) for line in text.splitlines()) < 400


def test_validate_error_strips_ansi_and_caps_echoed_names(tmp_path, capsys):
    evil = "\\e[31m\\e]0;pwned\\aEVIL" + "X" * 3000     # YAML double-quoted escapes: ESC, BEL
    text = GOOD.replace("- {to: IOL, from: [NC, TS, RD]", "- {to: IOL, from: [NC, TS, RD, " + f'"{evil}"' + "]", 1)
    assert text != GOOD
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "EVIL" in err and "\x1b" not in err and "\x07" not in err
    assert max(len(line) for line in err.splitlines()) < 1000


def test_a_long_file_path_stays_whole_in_a_message_a_huge_name_is_cut():
    """A temporary or network path of 100–300 characters names the file the user must fix: it is echoed whole;
    a 10 000-character name would bury the message and is cut (terminal_safe's max_word is honoured)."""
    from cluster_sem.render.plain_text import MAX_WORD, terminal_safe
    path = "/tmp/pytest-of-root/pytest-362/popen-gw1/test_other_data_or_spec_or_no_0/" + "d" * 60 + "/other.csv"
    assert terminal_safe(f"{path}: bad") == f"{path}: bad"
    cut = terminal_safe("N" * 10_000)
    assert cut.startswith("N" * MAX_WORD + "…") and cut.endswith("(10000 characters)")
    assert terminal_safe("abcdef", max_word=3) == "abc…(6 characters)"
