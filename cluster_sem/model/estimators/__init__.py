"""The estimators, declared once as a static table (``registry.TABLE``), and the one fit entry (``fit``).

Each row (``base.Estimator``) names its fitters and stages by lazy ``"module:attribute"`` references, its
report kind and its ``meta.conventions`` text; everything that used to test an estimator's name looks it up
here instead.  Layout: ``base.py`` (the row's shape), ``ml.py`` / ``mlr.py`` / ``fiml.py`` / ``wlsmv.py``
(one module per estimator), ``registry.py`` (the table), ``route.py`` (the entry)."""
from __future__ import annotations

from collections.abc import Callable

from .base import DeltaTest, Estimator, Stages, resolve
from .registry import TABLE
from .route import FitCall, find, fit, fitter_of, row


def row_of(lav) -> Estimator:
    """The row of a run's resolved options (``lavoptions.LavOptions``)."""
    return row(lav.estimator, lav.missing)


def by_kind(kind: str) -> Estimator | None:
    """The row a report kind (``ML``, ``FIML_MLR``, ...) names (None: not a kind of the table)."""
    return next((r for r in TABLE if r.kind == kind), None)


def kind_of(estimator: str | None, missing: str | None) -> str:
    """The report kind of results.json's ``meta.estimator`` / ``meta.missing`` (lavaan's words: "ml" is
    FIML).  A missing-data method the estimator has no row for is its listwise row (WLSMV); an estimator
    the table does not know is named as it is (an older results.json)."""
    est = (estimator or "ML").upper()
    found = find(est, "fiml" if missing == "ml" else "listwise") or find(est, "listwise")
    return found.kind if found is not None else est


def delta_test(statistic: str) -> Callable | None:
    """lavTestLRT's difference test for fits whose statistic is ``statistic`` (None: none declared)."""
    found = next((r.delta_test for r in TABLE if r.delta_test is not None and r.delta_test.statistic == statistic),
                 None)
    return None if found is None else resolve(found.function)


def conventions(lav) -> str:
    """results.json ``meta.conventions`` of a ``fit`` run: what lavaan computes for its estimator and
    missing-data method."""
    return row_of(lav).conventions


INVARIANCE_CONVENTIONS: dict[str, str] = {r.estimator: r.invariance_conventions for r in TABLE
                                          if r.invariance_conventions is not None}

__all__ = ["DeltaTest", "Estimator", "FitCall", "INVARIANCE_CONVENTIONS", "Stages", "TABLE", "by_kind",
           "conventions", "delta_test", "find", "fit", "fitter_of", "kind_of", "resolve", "row", "row_of"]
