"""The spec loader under the names the simulator and older callers use.

Reading a spec is the spec layer's job (``spec.loader``); this module only keeps the names
``load_spec_file`` and ``as_spec`` importable from ``cluster_sem.simulate``.
"""
from __future__ import annotations

from ..spec.loader import as_spec
from ..spec.loader import load_spec as load_spec_file

__all__ = ["as_spec", "load_spec_file"]
