"""The estimator table: one row per estimator × missing-data method, declared once (one line per row).

Adding an estimator is a module beside this one declaring its ``Estimator`` row(s) and a line here; the
names must be ``lavoptions.ESTIMATORS`` × ``lavoptions.MISSING`` pairs that ``lavoptions.SUPPORT`` does not
refuse (``tests/test_estimator_table.py`` checks both directions and that every reference resolves).
"""
from __future__ import annotations

from .base import Estimator
from .fiml import FIML, FIML_MLR
from .ml import ML
from .mlr import MLR
from .wlsmv import WLSMV

TABLE: tuple[Estimator, ...] = (
    ML,
    MLR,
    FIML,
    FIML_MLR,
    WLSMV,
)
