"""The bootstrap engines by name: the estimator table's rows say which one resamples their fits.

Why a table here and not a ``"module:attribute"`` reference in the row: the rows live in ``model/``, a layer
below ``bootstrap/`` (``tests/test_architecture.py``), and a model row naming a bootstrap module would be
that upward dependency hidden in a string.  So a row declares an engine *name* (``Estimator.bootstrap``,
``"batched"`` for the ML family, ``"wlsmv"``) and this module maps names to engines; every engine takes
one call shape, so ``pipeline.stage_effects`` runs whichever the row names without asking which it is.
``tests/test_estimator_table.py`` checks that every row's engine is here.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from . import BootstrapResult


def _batched(fit, frame: pd.DataFrame, *, B: int, seed: int, level: float, quiet: bool, jobs: int, scheduler,
             meanwhile: Callable[[], None] | None, cluster: np.ndarray | None,
             weights: np.ndarray | None) -> BootstrapResult:
    """The ML family: single-group batched ML, groups and FIML through the objective protocol, clusters."""
    from . import run_bootstrap
    return run_bootstrap(fit, frame, B=B, seed=seed, jobs=jobs, level=level, scheduler=scheduler, quiet=quiet,
                         meanwhile=meanwhile, cluster=cluster, weights=weights)


def _wlsmv(fit, frame: pd.DataFrame, *, B: int, seed: int, level: float, quiet: bool, jobs: int, scheduler,
           meanwhile: Callable[[], None] | None, cluster: np.ndarray | None,
           weights: np.ndarray | None) -> BootstrapResult:
    """WLSMV: case resamples refitted by the ordinal fitter.  ``meanwhile`` runs first (the engine has no
    hook inside its loop); a cluster or weights never arrive (``lavoptions.SUPPORT`` refuses them)."""
    if cluster is not None or weights is not None:
        raise ValueError("the WLSMV bootstrap resamples cases only: no cluster bootstrap, no weights")
    from .wlsmv import run_bootstrap_wlsmv
    if meanwhile is not None:
        meanwhile()
    return run_bootstrap_wlsmv(fit, frame, B=B, seed=seed, level=level, quiet=quiet, jobs=jobs,
                               scheduler=scheduler)


ENGINES: dict[str, Callable[..., BootstrapResult]] = {
    "batched": _batched,
    "wlsmv": _wlsmv,
}


def run_engine(name: str, fit, frame: pd.DataFrame, *, B: int, seed: int, level: float = 0.95, quiet: bool = True,
               jobs: int = 1, scheduler=None, meanwhile: Callable[[], None] | None = None,
               cluster: np.ndarray | None = None, weights: np.ndarray | None = None) -> BootstrapResult:
    """Run the engine ``name`` (an estimator row's ``bootstrap``) on ``fit`` and the rows it was fitted to."""
    return ENGINES[name](fit, frame, B=B, seed=seed, level=level, quiet=quiet, jobs=jobs, scheduler=scheduler,
                         meanwhile=meanwhile, cluster=cluster, weights=weights)


__all__ = ["ENGINES", "run_engine"]
