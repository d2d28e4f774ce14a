"""What each kind of results.json must hold, checked by the models of ``results/document.py``.

One declaration, two callers: every writer (``check_written``: `fit`, `invariance`, `pls`, `cmb`, through
``Results.from_document``) checks the dict it is about to store, so a writer drifting from the schema fails
in its tests instead of writing a document `report` later refuses; and `cluster-sem report DIR`
(``document_problem``) checks a stored, perhaps hand-edited file and names the first damaged key by its
JSON path ("'measurement_model.parameters[3].est' is not a number").

A kind's top level is its own model: the tolerant ``ResultsDocument`` (what renderers read) with the blocks
that kind always writes made required.  The kind is told apart by ``results/kinds.py``, the
table the renderers ask too.
"""
from __future__ import annotations

from typing import Any, Mapping

from pydantic import Field, ValidationError

from .document import (Block, ChiSquareTest, CommonMethod, DataBlock, Effect, Hypothesis, Invariance, Maybe, Meta,
                       ModelBlock, Number, Reliability, ResultsDocument, SpecLabels)
from . import pls_blocks  # noqa: F401 - the module: ResultsDocument's ``pls`` field is declared by it
from .kinds import document_kind
from .pls_blocks import PlsBlock


class _Kind(ResultsDocument):
    """The blocks every kind writes: data, spec, warnings and meta."""

    meta: Meta
    data: DataBlock
    spec: SpecLabels
    warnings: tuple[str, ...]


class FitDocument(_Kind):
    """`cluster-sem fit` (and the Python API's ``fit``)."""

    measurement: ModelBlock = Field(alias="measurement_model")
    structural: ModelBlock = Field(alias="structural_model")
    indirect_effects: tuple[Effect, ...]
    total_effects: tuple[Effect, ...]
    reliability_by_construct: dict[str, Reliability] = Field(alias="reliability")
    htmt: dict[str, dict[str, Number | None]]
    hypotheses: tuple[Hypothesis, ...]


class InvarianceDocument(_Kind):
    """`cluster-sem invariance`."""

    invariance: Invariance


class PlsDocument(_Kind):
    """`cluster-sem pls`."""

    pls: PlsBlock


class CmbFit(ChiSquareTest):
    """A battery model's fit: the indices the battery report prints (null where lavaan has none)."""

    cfi: Number | None = None
    tli: Number | None = None
    rmsea: Number | None = None
    srmr: Number | None = None


class CmbModel(Block):
    """One model of the battery (cfa, one_factor_cfa, clf, ulmc): its fit, or null when it was not estimated."""

    fit: Maybe[CmbFit] = None


class CmbVerdict(Block):
    level: str
    reasons: tuple[Any, ...]
    sources: tuple[Any, ...]


class CmbBattery(CommonMethod):
    """The ``common_method`` block of a `cluster-sem cmb` document: Harman's keys and every model record."""

    harman: dict[str, Any]
    cfa: CmbModel
    one_factor_cfa: CmbModel
    clf: CmbModel
    ulmc: CmbModel
    verdict: CmbVerdict


class CmbDocument(_Kind):
    """`cluster-sem cmb`."""

    common_method: CmbBattery


def kind_model(doc: Mapping) -> type[_Kind]:
    """The model of ``doc``'s kind of document (``results/kinds.document_kind``, as the renderers ask)."""
    return _KIND_MODELS.get(document_kind(doc), FitDocument)


_KIND_MODELS: dict[str | None, type[_Kind]] = {"pls": PlsDocument, "invariance": InvarianceDocument,
                                               "cmb": CmbDocument}


def document_problem(doc: Any) -> str | None:
    """The first way ``doc`` departs from its kind of results document, as one phrase naming the key path;
    None when it is a well-formed document."""
    if not isinstance(doc, Mapping):
        return f"the top level is a {type(doc).__name__}, not an object"
    try:
        kind_model(doc).model_validate(doc)
    except ValidationError as exc:
        return wording(exc)
    return None


def read_complete(doc: Mapping) -> ResultsDocument | None:
    """``doc`` read by its kind's model, or None when it is not a complete document of its kind."""
    try:
        return kind_model(doc).model_validate(doc)
    except ValidationError:
        return None


class SchemaDrift(RuntimeError):
    """A writer built a document its own schema refuses: a bug in cluster-sem, not in the user's input."""


def check_written(doc: Mapping) -> None:
    """Refuse to store a document `report` would refuse: a writer and the schema have drifted apart."""
    problem = document_problem(doc)
    if problem:
        raise SchemaDrift(f"the results document does not match its schema (results/document.py): {problem}")


_SAYS = {"missing": "is missing", "number": "is not a number", "string_type": "is not text",
         "dict_type": "is not an object", "model_type": "is not an object", "model_attributes_type": "is not an object",
         "mapping_type": "is not an object", "tuple_type": "is not a list", "list_type": "is not a list",
         "bool_type": "is not true or false", "bool_parsing": "is not true or false"}


def wording(exc: ValidationError) -> str:
    """pydantic's first error as "'key.path[i].key' is not a number"."""
    error = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    return f"'{key_path(error['loc'])}' {_SAYS.get(error['type'], error['msg'].lower())}"


def key_path(loc: tuple) -> str:
    """pydantic's ``loc`` as a JSON key path: ``('parameters', 3, 'est')`` → ``parameters[3].est``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


__all__ = ["document_problem", "check_written", "read_complete", "kind_model", "SchemaDrift", "wording", "key_path",
           "FitDocument", "InvarianceDocument", "PlsDocument", "CmbDocument"]
