"""cluster-sem: describe the questionnaire once (YAML), fit CFA + structural mediation models with
lavaan-convention results, bootstrap indirect effects, and write reproducible reports.

Public API (what the CLI calls)::

    import cluster_sem as cs
    spec = cs.load_spec("questionnaires/zhejiang_cluster_growth.yaml")
    res = cs.fit(spec, "data/zhejiang_128_synthetic.csv", bootstrap=2000, seed=1)
    res.parameters; res.fit_measures; res.reliability; print(res.summary())
"""
from __future__ import annotations

import sys
import types

__version__ = "0.1.0"

from .errors import (AdmissibilityWarning, ClusterSemError, ClusterSemWarning, ConvergenceWarning, DataError,
                     DataWarning, FitError, SpecError, SpecWarning)

_LAZY = {"fit": "api", "cmb": "api", "load_results": "api", "load_spec": "api", "prepare_data": "api",
         "simulate": "api", "Results": "render.report", "library_scales": "api", "new_spec": "api", "pls": "api"}


def __getattr__(name: str):
    """Import the API lazily so ``cluster-sem validate`` does not pay for numpy/scipy/semopy start-up."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'cluster_sem' has no attribute {name!r}")



class _Package(types.ModuleType):
    """Keeps the public API names functions: importing the ``cluster_sem.simulate`` subpackage would
    otherwise rebind ``cluster_sem.simulate`` from the function to the module (README's ``cs.simulate``
    broke on its second call).  The subpackage stays importable through ``sys.modules`` as usual."""

    def __setattr__(self, name: str, value) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "__version__", "fit", "load_spec", "prepare_data", "simulate", "load_results", "Results",
    "library_scales", "new_spec", "pls",
    "ClusterSemError", "SpecError", "DataError", "FitError",
    "ClusterSemWarning", "SpecWarning", "DataWarning", "ConvergenceWarning", "AdmissibilityWarning",
]
