"""The `cluster-sem cmb` document, read side: how a renderer tells the battery's own document from a `fit`
document (the analysis that writes it is ``cluster_sem.cmb.run_cmb``)."""
from __future__ import annotations

def is_cmb_document(doc) -> bool:
    """A `cluster-sem cmb` document (its own report), not a `fit` document."""
    meta = doc.get("meta")
    return isinstance(meta, dict) and meta.get("analysis") == "cmb" and "measurement_model" not in doc


__all__ = ["is_cmb_document"]
