"""Split lavaan/modsem syntax with product terms (``Y ~ X + Z + X:Z``) into linear syntax + interactions.

Why: the project's lavaan parser (``model.syntax_parser``) rejects ``:`` on purpose — a plain ML fit
cannot estimate a latent product.  Interaction estimators take the linear part through the ordinary
parser (same defaults, same labels) and keep the product terms aside as ``Interaction`` records.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import FitError
from ..param import Param

_IDENT = r"[A-Za-z_.][A-Za-z0-9_.]*"
_TERM = re.compile(rf"^(?:(?P<label>{_IDENT})\s*\*\s*)?(?P<a>{_IDENT})\s*:\s*(?P<b>{_IDENT})$")


@dataclass(frozen=True)
class Interaction:
    """One latent product term ``outcome ~ label*first:second``: the regression row it adds to the parameter
    table (``row``, the project's one row type ``Param``, with the line it was written on) and the two
    constructs whose product is the predictor."""

    row: Param
    first: str
    second: str

    @classmethod
    def written(cls, outcome: str, first: str, second: str, label: str = "", line: int = 0) -> "Interaction":
        return cls(Param(outcome, "~", f"{first}:{second}", label, line=line), first, second)

    @property
    def outcome(self) -> str:
        return self.row.lhs

    @property
    def label(self) -> str:
        return self.row.label

    @property
    def term(self) -> str:
        """The ``rhs`` of the parameter row, as modsem and the contract write it (``X:Z``)."""
        return self.row.rhs


def split_interactions(syntax: str) -> tuple[str, tuple[Interaction, ...]]:
    """Return the syntax without product terms and the product terms in the order written."""
    kept: list[str] = []
    found: list[Interaction] = []
    for number, raw in enumerate(syntax.splitlines(), start=1):
        text = re.split(r"[#!]", raw, maxsplit=1)[0]
        out_parts = []
        for part in text.split(";"):
            if ":" not in part or ":=" in part or "~" not in part or "~~" in part or "=~" in part:
                out_parts.append(part)
                continue
            lhs, rhs = (s.strip() for s in part.split("~", 1))
            linear = []
            for term in (t.strip() for t in rhs.split("+")):
                m = _TERM.match(term)
                if m:
                    found.append(Interaction.written(lhs, m["a"], m["b"], m["label"] or "", number))
                elif ":" in term:
                    raise FitError(f"model syntax line {number}: cannot read the product term '{term}'. "
                                   "Fix: write a two-way product of construct names, e.g. Y ~ X:Z")
                else:
                    linear.append(term)
            if linear:
                out_parts.append(f"{lhs} ~ {' + '.join(linear)}")
        kept.append("; ".join(p for p in out_parts if p.strip()))
    return "\n".join(kept) + "\n", tuple(found)
