"""Measurement invariance across groups and path differences (issue 9), on top of the multigroup core.

``engine`` fits the levels and tests (arrays and records only); ``document`` assembles the results.json
document; ``report`` builds the report section's view model.  ``run_invariance`` is the command.
"""
from __future__ import annotations

from .document import InvarianceOptions, run_invariance

__all__ = ["InvarianceOptions", "run_invariance"]
