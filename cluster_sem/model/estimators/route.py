"""The one fit entry: every estimator × missing × groups × cluster/weights combination, routed by the table.

``fit(syntax, data, lav, ...)`` packs its arguments into a :class:`FitCall` and hands it to the one fitter
the estimator's row names for the layout asked for — ``group_fitter`` with analysis groups (or the
mean-structure G = 1 path), ``design_fitter`` with ``cluster=`` / ``sampling.weights=``, else ``fitter``.
The fitters read what they need from the call (and ``fit_groups`` its stages from the row), so no caller
tests an estimator name to choose one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import FitError
from ...lavoptions import LavOptions
from .base import Estimator, resolve
from .registry import TABLE


@dataclass(frozen=True)
class FitCall:
    """One fit request as every fitter receives it (``fit``'s arguments, the options resolved once)."""

    syntax: str
    data: Any                           # pandas.DataFrame
    lav: LavOptions
    group: str | None = None
    groups: Sequence[str] | None = None
    group_equal: tuple[str, ...] = ()
    group_partial: tuple[str, ...] = ()
    equal_rows: tuple[str, ...] = ()
    meanstructure: bool = False         # the multigroup stages' mean structure (True with groups)
    fixed_lv_means: tuple[str, ...] = ()
    start_fit: Any = None               # a nested model's ModelFit whose estimates start this one
    cluster: str | None = None
    weights: str | None = None
    items: tuple[str, ...] | None = None    # the ordered items (WLSMV); None: every indicator
    fallback: bool = True               # restarts after a failed first start (complete ML)
    as_groups: bool = False             # one group through the multigroup fitter (G = 1)

    @property
    def row(self) -> Estimator:
        return row(self.lav.estimator, self.lav.missing)


def find(estimator: str, missing: str) -> Estimator | None:
    """The table's row of ``estimator`` with ``missing`` (None: no such row)."""
    return next((r for r in TABLE if r.estimator == estimator and r.missing == missing), None)


def row(estimator: str, missing: str = "listwise") -> Estimator:
    """The table's row, or the one-line refusal naming the rows there are."""
    found = find(estimator, missing)
    if found is None:
        known = ", ".join(f"{r.estimator}/{r.missing}" for r in TABLE)
        raise FitError(f"estimator '{estimator}' is not available here with missing = '{missing}'. "
                       f"Fix: use one of {known}")
    return found


def fitter_of(call: FitCall) -> str:
    """The reference of the fitter that runs ``call``."""
    est = call.row
    if call.group is not None:
        if call.weights is not None:
            raise FitError("sampling weights with analysis groups are not supported. Fix: fit one group at a "
                           "time, or drop the weights setting")
        return est.group_fitter
    if call.cluster is not None or call.weights is not None:
        if est.design_fitter is None:
            raise FitError(f"--cluster/--weights are not available with estimator '{est.estimator}' and missing "
                           f"= '{est.missing}'. Fix: drop --cluster/--weights")
        return est.design_fitter
    return est.group_fitter if call.meanstructure or call.as_groups else est.fitter


def fit(syntax: str, data, lav: LavOptions, *, group: str | None = None, groups: Sequence[str] | None = None,
        group_equal: Iterable[str] = (), group_partial: Iterable[str] = (), equal_rows: Iterable[str] = (),
        meanstructure: bool | None = None, fixed_lv_means: Iterable[str] = (), start_fit=None,
        cluster: str | None = None, weights: str | None = None, items: Iterable[str] | None = None,
        fallback: bool = True, as_groups: bool = False):
    """Fit ``syntax`` to ``data`` with the resolved options ``lav`` and return a ``ModelFit``.

    ``group`` (with ``groups`` fixing the order, reference first) fits every group, with lavaan's
    ``group.equal`` sets; ``meanstructure`` (default: with groups) sends a single group through the same
    multigroup stages (G = 1), as ``as_groups`` does without a mean structure.  ``cluster`` / ``weights`` are lavaan's ``cluster=`` / ``sampling.weights=``.
    ``items`` names the ordered items of a categorical estimator.  ``fallback=False`` skips the complete-ML
    restarts (near-unidentified method models report non-convergence instead)."""
    call = FitCall(syntax, data, lav, group, groups, tuple(group_equal), tuple(group_partial), tuple(equal_rows),
                   group is not None if meanstructure is None else meanstructure, tuple(fixed_lv_means),
                   start_fit, cluster, weights, None if items is None else tuple(items), fallback, as_groups)
    return resolve(fitter_of(call))(call)
