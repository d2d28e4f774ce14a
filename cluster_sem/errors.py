"""Typed errors and warnings.

One base error (``ClusterSemError``) is caught once at the CLI boundary and turned into exit code 2 with a
single line on stderr; library users can catch the narrower classes.  Warnings are classes so users can
filter them with :mod:`warnings`, and every warning raised during a fit is also recorded in ``Results``.
"""
from __future__ import annotations

from contextlib import contextmanager


class ClusterSemError(Exception):
    """Base class of every error caused by the user's input (spec, data, options)."""


class SpecError(ClusterSemError):
    """The questionnaire spec is invalid.  The message names file, key path, problem and fix; ``problems``
    holds every problem found (``spec.problems.Problem``), the message is the first (plus how many more)."""

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = list(problems)


class DataError(ClusterSemError):
    """The data file does not fit the spec.  The message names file, column/rows, problem and fix."""


class FitError(ClusterSemError):
    """The model cannot be estimated (e.g. not identified, no convergence at all)."""


@contextmanager
def naming_source(source: str):
    """Prefix the data file to a FitError raised inside (the model layer sees arrays, not files), so the
    CLI's one error line names the file as every other input error does."""
    try:
        yield
    except FitError as exc:
        text = str(exc)
        if text.startswith(f"{source}:"):
            raise
        raise FitError(f"{source}: {text}") from None


class ClusterSemWarning(UserWarning):
    """Base class of warnings users may want to filter."""


class SpecWarning(ClusterSemWarning):
    """A spec that is valid but questionable (e.g. a construct with only two items)."""


class DataWarning(ClusterSemWarning):
    """A data decision the user should know about (rows dropped, codes recoded)."""


class ConvergenceWarning(ClusterSemWarning):
    """The optimiser did not converge."""


class AdmissibilityWarning(ClusterSemWarning):
    """Heywood cases, non-positive-definite matrices, standardized loadings > 1, too few cases."""
