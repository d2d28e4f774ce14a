"""Two-level SEM (lavaan ``level: 1`` / ``level: 2``, ML on complete rows): a plug-in beside the
single-level core that reuses its parameter-table and matrix builders once per level."""
from .fit import TwoLevelFit, fit_measures_at, fit_twolevel, observed_information
from .syntax import split_levels

__all__ = ["TwoLevelFit", "fit_twolevel", "fit_measures_at", "observed_information", "split_levels"]
