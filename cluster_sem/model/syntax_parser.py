"""Parse the subset of lavaan model syntax that cluster-sem writes and users paste from papers.

Supported: ``=~`` (loadings), ``~`` (regressions), ``~~`` ((co)variances), ``:=`` (defined parameters),
modifiers ``label*var`` and ``number*var``, ``+`` separated right-hand sides, ``#``/``!`` comments and
``;`` or newline separated statements.  Anything else (intercepts, thresholds, constraints ``==``) is
rejected with the line number, because silently ignoring a statement would change the model.
"""
from __future__ import annotations

import re
from ..errors import FitError
from .param import Param

_OPERATORS = ("=~", "~~", ":=", "~")
_IDENT = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


UserRow = Param   # the parser's rows are parameter rows not yet completed or numbered (``model/param.py``)


def _split_statements(syntax: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(syntax.splitlines(), start=1):
        text = re.split(r"[#!]", raw, maxsplit=1)[0]
        for part in text.split(";"):
            if part.strip():
                out.append((number, part.strip()))
    return out


def _find_operator(statement: str) -> str | None:
    positions = [(statement.find(op), op) for op in _OPERATORS if op in statement]
    if not positions:
        return None
    first = min(pos for pos, _ in positions)
    # at the same position prefer the two-character operator ("~~" over "~")
    return max((op for pos, op in positions if pos == first), key=len)


def parse_syntax(syntax: str) -> list[Param]:
    """Return the user rows in the order written (one row per right-hand-side term)."""
    rows: list[UserRow] = []
    for line, statement in _split_statements(syntax):
        op = _find_operator(statement)
        if op is None:
            raise FitError(f"model syntax line {line}: no operator in '{statement}'. Fix: use =~, ~, ~~ or :=")
        lhs, rhs = (s.strip() for s in statement.split(op, 1))
        if op == ":=":
            if not _IDENT.match(lhs):
                raise FitError(f"model syntax line {line}: '{lhs}' is not a valid name for a defined parameter")
            rows.append(Param(lhs, op, rhs.replace(" ", ""), label=lhs, line=line))
            continue
        if not _IDENT.match(lhs):
            raise FitError(f"model syntax line {line}: '{lhs}' is not a variable name")
        for term in rhs.split("+"):
            term = term.strip()
            label, fixed = "", None
            if "*" in term:
                modifier, term = (s.strip() for s in term.split("*", 1))
                if _NUMBER.match(modifier):
                    fixed = float(modifier)
                elif _IDENT.match(modifier):
                    label = modifier
                else:
                    raise FitError(f"model syntax line {line}: cannot read modifier '{modifier}'")
            if term == "1" or not _IDENT.match(term):
                raise FitError(f"model syntax line {line}: '{term}' is not supported here "
                               "(intercepts and other operators are not part of cluster-sem's syntax)")
            rows.append(Param(lhs, op, term, label=label, value=fixed, line=line))
    return rows
