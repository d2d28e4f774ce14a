"""Which command wrote a results document: `fit` documents, and the `pls`, `invariance` and `cmb` documents
that have their own top level and report.

Why here, below the renderers: the schema (``results/schema.py``, which model checks the document) and the
renderers (``render/kinds.py``, which report it gets) must tell the kinds apart the same way, in the same
order; one table serves both.
"""
from __future__ import annotations

from typing import Callable, Mapping


def is_pls_document(doc: Mapping) -> bool:
    """A `cluster-sem pls` document, not a `fit` document."""
    return "pls" in doc and "measurement_model" not in doc


def is_invariance_document(doc: Mapping) -> bool:
    """A `cluster-sem invariance` document, not a `fit` document."""
    return "invariance" in doc and "measurement_model" not in doc


def is_cmb_document(doc: Mapping) -> bool:
    """A `cluster-sem cmb` document (``cluster_sem.cmb.run_cmb``), not a `fit` document."""
    meta = doc.get("meta")
    return isinstance(meta, dict) and meta.get("analysis") == "cmb" and "measurement_model" not in doc


# the kinds with their own top level, in the order they are asked (the first that answers yes)
KINDS: tuple[tuple[str, Callable[[Mapping], bool]], ...] = (
    ("pls", is_pls_document), ("invariance", is_invariance_document), ("cmb", is_cmb_document))


def document_kind(doc: Mapping) -> str | None:
    """The command whose document ``doc`` is (pls, invariance or cmb), None for a `fit` document."""
    return next((kind for kind, test in KINDS if test(doc)), None)


__all__ = ["KINDS", "document_kind", "is_pls_document", "is_invariance_document", "is_cmb_document"]
