"""The shape a results.json must have before renderers read it.

``cluster-sem report DIR`` re-renders from a file anyone can edit, and renderers trust the document's
shape (a list where a mapping belongs ends in a TypeError deep inside a template).  This is the contract's
top level as data: each key and the JSON type it must hold.  Inside the models, the effects and the
invariance levels, the typed reader's declarations (``results/document.py``: ``ModelBlock``, ``ParameterRow``,
``Effect``, ``InvarianceLevel``) are the shape: ``Block.problems`` checks a block against the fields
``Block.of`` reads, so a key is declared once.
"""
from __future__ import annotations

from typing import Any

from .cmb import is_cmb_document
from .document import Effect, InvarianceLevel, ModelBlock

REQUIRED: dict[str, type | tuple[type, ...]] = {
    "measurement_model": dict, "structural_model": dict, "indirect_effects": list, "total_effects": list,
    "reliability": dict, "htmt": dict, "hypotheses": list, "data": dict, "spec": dict, "warnings": list,
    "meta": dict,
}
# a `cluster-sem invariance` document (``meta.analysis == "invariance"``) has its own top level
REQUIRED_INVARIANCE: dict[str, type | tuple[type, ...]] = {
    "invariance": dict, "data": dict, "spec": dict, "warnings": list, "meta": dict,
}
INVARIANCE_KEYS: dict[str, type | tuple[type, ...]] = {"groups": list, "levels": list}
# a `cluster-sem pls` document (``meta.analysis == "pls"``) has its own top level too
REQUIRED_PLS: dict[str, type | tuple[type, ...]] = {"pls": dict, "data": dict, "spec": dict, "warnings": list,
                                                    "meta": dict}
PLS_KEYS: dict[str, type | tuple[type, ...]] = {"paths": list, "loadings": list, "weights": list, "htmt": list,
                                                "reliability": dict, "r2": dict}
NUMBER = (int, float, type(None))


def shape_problem(doc: Any) -> str | None:
    """The first way ``doc`` departs from a results document, or None."""
    if not isinstance(doc, dict):
        return f"the top level is a {type(doc).__name__}, not an object"
    if "invariance" in doc and "measurement_model" not in doc:
        return _invariance_problem(doc)
    if "pls" in doc and "measurement_model" not in doc:
        return _pls_problem(doc)
    if is_cmb_document(doc):
        return _cmb_problem(doc)
    problem = _missing_key(doc, REQUIRED)
    if problem:
        return problem
    for model in ("measurement_model", "structural_model"):
        problem = ModelBlock.problems(doc[model], f"{model}.")
        if problem:
            return problem
    for part in ("indirect_effects", "total_effects"):
        for i, row in enumerate(doc[part]):
            problem = Effect.problems(row, f"{part}[{i}].")
            if problem:
                return problem
    return _r_squared_problem(doc) or _title_problem(doc)


def _r_squared_problem(doc: dict) -> str | None:
    """``r_squared`` (optional: older documents lack it) maps variable names to numbers or null."""
    r2 = doc.get("r_squared", {})
    if not isinstance(r2, dict) or not all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in r2.values()):
        return "'r_squared' is not a mapping of variable to number"
    return None


def _title_problem(doc: dict) -> str | None:
    title = doc["meta"].get("title", {})
    if not isinstance(title, dict) or not all(isinstance(v, str) for v in title.values()):
        return "'meta.title' is not a mapping of language to text"
    return None


def _missing_key(doc: dict, required: dict, where: str = "") -> str | None:
    for key, kind in required.items():
        if not isinstance(doc.get(key), kind):
            return f"'{where}{key}' is missing or not {'an object' if kind is dict else 'a list'}"
    return None


def _cmb_problem(doc: dict) -> str | None:
    """The shape of a `cluster-sem cmb` document: its battery block with every model record."""
    problem = _missing_key(doc, {"common_method": dict, "data": dict, "spec": dict, "warnings": list, "meta": dict})
    if problem:
        return problem
    cm = doc["common_method"]
    problem = _missing_key(cm, {"harman": dict, "cfa": dict, "one_factor_cfa": dict, "clf": dict, "ulmc": dict,
                                "verdict": dict}, "common_method.")
    if problem:
        return problem
    for key in ("cfa", "one_factor_cfa", "clf", "ulmc"):
        fit = cm[key].get("fit")
        if fit is not None and not (isinstance(fit, dict) and all(
                isinstance(fit.get(k), NUMBER) for k in ("chi2", "df", "cfi", "tli", "rmsea", "srmr"))):
            return f"'common_method.{key}.fit' is not a fit object"
    verdict = cm["verdict"]
    if not isinstance(verdict.get("level"), str) or not isinstance(verdict.get("reasons"), list) \
            or not isinstance(verdict.get("sources"), list):
        return "'common_method.verdict' has no level, reasons and sources"
    return _title_problem(doc)


def _invariance_problem(doc: dict) -> str | None:
    """The shape of a `cluster-sem invariance` document: its block, levels and groups."""
    problem = _missing_key(doc, REQUIRED_INVARIANCE) or _missing_key(doc["invariance"], INVARIANCE_KEYS,
                                                                     "invariance.")
    if problem:
        return problem
    for i, level in enumerate(doc["invariance"]["levels"]):
        problem = InvarianceLevel.problems(level, f"invariance.levels[{i}].")
        if problem:
            return problem
    return _title_problem(doc)


def _pls_problem(doc: dict) -> str | None:
    """The shape of a `cluster-sem pls` document: its block, and path/outer rows naming their ends."""
    problem = _missing_key(doc, REQUIRED_PLS) or _missing_key(doc["pls"], PLS_KEYS, "pls.")
    if problem:
        return problem
    rows = [("paths", ("from", "to"))] + [(part, ("construct", "item")) for part in ("loadings", "weights")]
    for part, names in rows:
        for i, row in enumerate(doc["pls"][part]):
            if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in names) \
                    or not isinstance(row.get("est"), NUMBER) or isinstance(row.get("est"), bool):
                return f"'pls.{part}[{i}]' is not a row ({', '.join(names)} text; est a number)"
    return _title_problem(doc)


__all__ = ["shape_problem"]
