"""Refuse hostile YAML before anything is built from it.

A spec is a small hand-written document, so three YAML features are never needed and each is a denial of
service: anchors/aliases (a 359-byte "billion laughs" document expands to gigabytes when anything walks
the composed tree), deep nesting (PyYAML's composer and every later walk recurse: RecursionError), and
integers hundreds of digits long (OverflowError when they meet a float).  One pass over PyYAML's event
stream — which neither expands aliases nor recurses — finds all three, with line numbers.  The stream comes
from libyaml's parser where PyYAML has it (the pure-Python one took 16 ms for the shipped 42-item spec, more
than loading it), which marks a plain scalar with style '' where the Python parser says None.
"""
from __future__ import annotations

import re

import yaml

MAX_DEPTH = 50          # the deepest real spec (population section) nests ~6 levels
MAX_DIGITS = 15         # beyond this an integer is not a scale point, code or count
_INT = re.compile(r"^[-+]?(0[box])?[0-9a-fA-F_]+$")
_EVENTS_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def hostile_yaml_problem(text: str, source: str) -> str | None:
    """The first anchor/alias, too-deep nesting or overlong number, as one problem line; else None.

    Syntax errors are left to the real loader (it reports them with position and fix)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_EVENTS_LOADER):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return (f"{source}: YAML anchor or alias ('&name' / '*name') at line {line}: not allowed in a "
                        "spec (they can expand without bound). Fix: write the repeated values out in full")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return (f"{source}: line {line}: the YAML is nested more than {MAX_DEPTH} levels deep. "
                            "Fix: a spec needs only a few levels; check for runaway brackets")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.ScalarEvent) and not event.style:     # plain (unquoted)
                digits = event.value.lstrip("+-").replace("_", "")
                if len(digits) > MAX_DIGITS and _INT.match(event.value):
                    return (f"{source}: line {line}: a number with {len(digits)} digits ('{event.value[:12]}...'). "
                            f"Fix: use a number of at most {MAX_DIGITS} digits, or quote it if it is text")
    except yaml.YAMLError:
        return None
    return None
