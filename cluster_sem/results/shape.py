"""The shape a results.json must have before renderers read it.

``cluster-sem report DIR`` re-renders from a file anyone can edit, and renderers trust the document's
shape (a list where a mapping belongs ends in a TypeError deep inside a template).  This is the contract's
top level as data: each key and the JSON type it must hold.
"""
from __future__ import annotations

from typing import Any

REQUIRED: dict[str, type | tuple[type, ...]] = {
    "measurement_model": dict, "structural_model": dict, "indirect_effects": list, "total_effects": list,
    "reliability": dict, "htmt": dict, "hypotheses": list, "data": dict, "spec": dict, "warnings": list,
    "meta": dict,
}
MODEL_KEYS: dict[str, type | tuple[type, ...]] = {"fit": dict, "parameters": list}
NUMBER = (int, float, type(None))


def shape_problem(doc: Any) -> str | None:
    """The first way ``doc`` departs from a results document, or None."""
    if not isinstance(doc, dict):
        return f"the top level is a {type(doc).__name__}, not an object"
    for key, kind in REQUIRED.items():
        if not isinstance(doc.get(key), kind):
            return f"'{key}' is missing or not {'an object' if kind is dict else 'a list'}"
    for model in ("measurement_model", "structural_model"):
        for key, kind in MODEL_KEYS.items():
            if not isinstance(doc[model].get(key), kind):
                return f"'{model}.{key}' is missing or of the wrong type"
        for i, row in enumerate(doc[model]["parameters"]):
            if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("lhs", "op", "rhs")) \
                    or not all(isinstance(row.get(k), NUMBER) and not isinstance(row.get(k), bool)
                               for k in ("est", "se", "pvalue", "std_all")):
                return f"'{model}.parameters[{i}]' is not a parameter row (lhs, op, rhs text; est, se numbers)"
    for i, row in enumerate(doc["indirect_effects"] + doc["total_effects"]):
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            return f"effect {i} is not an object with a name"
    title = doc["meta"].get("title", {})
    if not isinstance(title, dict) or not all(isinstance(v, str) for v in title.values()):
        return "'meta.title' is not a mapping of language to text"
    return None


__all__ = ["shape_problem"]
