"""Can a covariance-based model be estimated from the cleaned rows at all?  Say *why* not, by name.

ML SEM needs a positive-definite sample covariance matrix of the items and controls.  It is singular when
there are no more rows than variables, when a column is constant, when two columns are identical, or when
one column is an exact linear combination of others.  Each case gets its own line naming the columns and
the fix, for ``fit`` and ``validate SPEC DATA`` alike, instead of one generic "singular" from the model.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..spec.schema import Spec
from .clean import SurveyData

MAX_NAMED = 5


def check_estimable(spec: Spec, data: SurveyData) -> None:
    """Raise one DataError if the complete rows cannot give a positive-definite covariance matrix."""
    columns = list(spec.controls) + list(spec.items)
    frame = data.frame[columns].astype(float)
    src, n, p = data.source, len(frame), len(columns)
    if data.missing == "listwise" and n <= p:
        dropped = f" ({data.n_dropped} of {data.n_raw} rows were dropped for missing values)" if data.n_dropped else ""
        raise DataError(f"{src}: only n = {n} usable rows{dropped} for {p} items and controls: with no more "
                        f"rows than variables the covariance matrix is singular. Fix: use more responses "
                        f"(SEM usually needs n >= 100-200), or fewer items; check missing codes if rows were dropped")
    var = frame.var(axis=0, ddof=0)
    constant = [c for c in columns if not var[c] > 0]
    if constant:
        c = constant[0]
        value = frame[c].dropna()
        only = f": every used row has the value {value.iloc[0]:g}" if len(value) else ""
        also = f" (also {', '.join(repr(x) for x in constant[1:1 + MAX_NAMED])})" if len(constant) > 1 else ""
        raise DataError(f"{src}: column '{c}': zero variance{only}{also}. Fix: remove it from the spec (a constant "
                        "carries no information), or check that the right column was exported")
    values = {c: frame[c].to_numpy() for c in columns}
    for i, a in enumerate(columns):
        for b in columns[i + 1:]:
            both = ~(np.isnan(values[a]) | np.isnan(values[b]))
            if both.sum() > 1 and np.array_equal(values[a][both], values[b][both]):
                raise DataError(f"{src}: columns '{a}' and '{b}' are identical in all {int(both.sum())} used rows. "
                                "Fix: check for a copy-paste error in the data, or keep only one of them in the spec")
    if data.missing != "listwise":
        return
    x = frame.to_numpy()
    z = (x - x.mean(axis=0)) / np.sqrt(var.to_numpy())
    corr = z.T @ z / n
    eigval, eigvec = np.linalg.eigh(corr)
    if eigval[0] <= 1e-10 * p:
        weights = np.abs(eigvec[:, 0])
        involved = [columns[k] for k in np.argsort(-weights) if weights[k] > 1e-3][:MAX_NAMED]
        raise DataError(f"{src}: columns {', '.join(repr(c) for c in involved)} are perfectly collinear (one is an "
                        "exact linear combination of the others). Fix: remove one of them from the spec, or check "
                        "for a computed column (a sum score or total) listed as an item or control")


__all__ = ["check_estimable"]
