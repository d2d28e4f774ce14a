"""Survey data: reading .csv/.xlsx/.sav (:mod:`.io`) and checking/cleaning it against the spec
(:mod:`.clean`) into the numeric frame the models are fitted to."""
from __future__ import annotations

from .clean import SurveyData, prepare_data, validate_data
from .io import TableFile, read_file, read_table

__all__ = ["SurveyData", "TableFile", "prepare_data", "read_file", "read_table", "validate_data"]
