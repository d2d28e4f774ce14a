"""Can a covariance-based model be estimated from the cleaned rows at all?  Say *why* not, by name.

ML SEM needs a positive-definite sample covariance matrix of the items and controls.  It is singular when
there are no more rows than variables, when a column is constant, when two columns are identical, or when
one column is an exact linear combination of others.  Each case gets its own line naming the columns and
the fix, for ``fit`` and ``validate SPEC DATA`` alike, instead of one generic "singular" from the model.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from ..spec.schema import Spec
from .clean import SurveyData

MAX_NAMED = 5


def check_estimable(spec: Spec, data: SurveyData) -> None:
    """Raise one DataError if the complete rows cannot give a positive-definite covariance matrix."""
    columns = list(spec.controls) + list(spec.items)
    frame = data.frame[columns].astype(float)
    src, n, p = data.source, len(frame), len(columns)
    if n <= p:   # FIML too: EM cannot give a positive-definite saturated covariance from n <= p rows
        dropped = f" ({data.n_dropped} of {data.n_raw} rows were dropped for missing values)" if data.n_dropped else ""
        raise DataError(f"{src}: only n = {n} usable rows{dropped} for {p} items and controls: with no more "
                        f"rows than variables the covariance matrix is singular. Fix: use more responses "
                        f"(SEM usually needs n >= 100-200), or fewer items; check missing codes if rows were dropped")
    blank = [c for c in columns if frame[c].isna().all()]
    if blank:   # only FIML gets here with one (listwise deletion has no row left): not "zero variance"
        also = f" (also {', '.join(repr(x) for x in blank[1:1 + MAX_NAMED])})" if len(blank) > 1 else ""
        raise DataError(f"{src}: column '{blank[0]}': all blank (no answer in any of the {n} used rows){also}. "
                        "Fix: check that the right column was exported and that its values are not all missing "
                        "codes, or remove it from the spec")
    values = {c: frame[c].to_numpy() for c in columns}   # views: a large file is not copied again here
    blanks = {c: np.isnan(v) for c, v in values.items()}
    constant = [c for c in columns if not np.var(values[c][~blanks[c]]) > 0]
    if constant:
        c = constant[0]
        value = frame[c].dropna()
        only = f": every used row has the value {value.iloc[0]:g}" if len(value) else ""
        also = f" (also {', '.join(repr(x) for x in constant[1:1 + MAX_NAMED])})" if len(constant) > 1 else ""
        raise DataError(f"{src}: column '{c}': zero variance{only}{also}. Fix: remove it from the spec (a constant "
                        "carries no information), or check that the right column was exported")
    for i, a in enumerate(columns):
        for b in columns[i + 1:]:
            if not (blanks[a].any() or blanks[b].any()):   # complete columns: compared whole, without copies
                both_n = n if np.array_equal(values[a], values[b]) else 0
            else:
                both = ~(blanks[a] | blanks[b])
                both_n = int(both.sum()) if np.array_equal(values[a][both], values[b][both]) else 0
            if both_n > 1:
                raise DataError(f"{src}: columns '{a}' and '{b}' are identical in all {both_n} used rows. "
                                "Fix: check for a copy-paste error in the data, or keep only one of them in the spec")
    if data.missing != "listwise" and any(b.any() for b in blanks.values()):
        _check_coverage(blanks, columns, src)
        return   # with blanks (FIML) an exact dependency among complete rows need not hold for the EM moments
    involved = _collinear(values, columns)
    if involved:
        raise DataError(f"{src}: columns {', '.join(repr(c) for c in involved)} are perfectly collinear (one is an "
                        "exact linear combination of the others). Fix: remove one of them from the spec, or check "
                        "for a computed column (a sum score or total) listed as an item or control")


def _row_chunks(n: int, size: int = 65536):
    """Row slices of at most ``size`` rows: cross-products of a large file are summed chunk by chunk instead
    of from an n × p copy of it."""
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _check_coverage(blanks: dict[str, np.ndarray], columns: list[str], src: str, where: str = "") -> None:
    """FIML estimates the covariance of two columns from the rows answering both: two columns never answered
    together (split questionnaire versions, a skip rule) leave it unidentified, and EM returns an arbitrary
    value.  Refuse naming the pair (lavaan reports such pairs as zero coverage)."""
    n = len(blanks[columns[0]])
    coverage = np.zeros((len(columns), len(columns)))
    for rows in _row_chunks(n):
        seen = np.column_stack([~blanks[c][rows] for c in columns]).astype(np.float64)
        coverage += seen.T @ seen
    never = np.argwhere(np.triu(coverage == 0, k=1))
    if len(never):
        a, b = columns[never[0][0]], columns[never[0][1]]
        more = f" (and {len(never) - 1} more pairs)" if len(never) > 1 else ""
        raise DataError(f"{src}: columns '{a}' and '{b}' are never answered in the same row{where}{more}, so full-"
                        "information ML cannot estimate their covariance. Fix: check the skip rules or "
                        "questionnaire versions that left them blank, or remove one of them from the spec")


def check_groups_estimable(spec: Spec, data: SurveyData, labels: pd.Series, groups, *, with_controls: bool) -> None:
    """Multigroup analyses estimate every item's variance (and covariances) *per group*: an item every firm of a
    group answered alike, or items that are collinear inside one group, make that group's covariance matrix
    singular although the pooled data are fine.  Raise one DataError naming the group and the columns (the
    model would otherwise stop with an anonymous "singular matrix" or a failed Cholesky factorisation).
    ``labels``: the analysis group of every row of ``data.frame`` (None where missing)."""
    columns = (list(spec.controls) if with_controls else []) + list(spec.items)
    frame = data.frame[columns].astype(float)
    src = data.source
    fix = (f"merge group '{{g}}' with another group in the spec's group_levels (e.g. group_levels: "
           f"{{{{merged: [{{g}}, ...]}}}}), or remove {{what}} from the spec")
    for g in groups:
        part = frame[(labels == g).to_numpy()]
        var = part.var(axis=0, ddof=0)
        answered = part.notna().sum(axis=0)
        constant = [c for c in columns if not (answered[c] > 1 and var[c] > 0)]
        if constant:
            c = constant[0]
            value = part[c].dropna()
            also = f" (also {', '.join(repr(x) for x in constant[1:1 + MAX_NAMED])})" if len(constant) > 1 else ""
            problem = (f"'{c}' has no answer in group '{g}' of '{spec.group}'" if len(value) == 0 else
                       f"column '{c}': no variance in group '{g}' of '{spec.group}' (" +
                       (f"every one of its {len(value)} answers is {value.iloc[0]:g})" if len(value) > 1 else
                        "only 1 answer)"))
            raise DataError(f"{src}: {problem}{also}, so its variance cannot be estimated in that group. Fix: "
                            + fix.format(g=g, what="the column"))
        if data.missing != "listwise":
            _check_coverage({c: part[c].isna().to_numpy() for c in columns}, columns, src,
                            f" of group '{g}' of '{spec.group}'")
        if not part.isna().to_numpy().any() and len(part) > len(columns):   # as check_estimable: no blanks
            involved = _collinear({c: part[c].to_numpy() for c in columns}, columns)
            if involved:
                raise DataError(f"{src}: columns {', '.join(repr(c) for c in involved)} are perfectly collinear in "
                                f"group '{g}' of '{spec.group}'. Fix: " + fix.format(g=g, what="one of them"))


def _collinear(values: dict[str, np.ndarray], columns: list[str]) -> list[str]:
    """The columns of an exact linear dependency among complete, non-constant columns ([] if none): the
    smallest eigenvalue of their correlation matrix is 0.  The correlations are summed over row chunks of
    the standardised columns (a large file is not copied whole)."""
    mean = np.array([values[c].mean() for c in columns])
    sd = np.array([values[c].std() for c in columns])
    n = len(values[columns[0]])
    gram = np.zeros((len(columns), len(columns)))
    for rows in _row_chunks(n):
        z = (np.column_stack([values[c][rows] for c in columns]) - mean) / sd
        gram += z.T @ z
    eigval, eigvec = np.linalg.eigh(gram / n)
    if eigval[0] > 1e-10 * len(columns):
        return []
    weights = np.abs(eigvec[:, 0])
    return [columns[k] for k in np.argsort(-weights) if weights[k] > 1e-3][:MAX_NAMED]


MAX_ORDINAL_CATEGORIES = 11   # a 0-10 rating scale; more distinct values are scores, not answer categories


def note_many_categories(spec: Spec, data: SurveyData) -> None:
    """WLSMV makes every distinct value of an item an ordered category (lavaan's ``ordered``): continuous
    scores (0.33, 0.67, ...) give hundreds of thresholds, a minutes-long fit and meaningless polychorics.
    Not an error (lavaan fits it too), but worth one warning naming the items and the fix."""
    import warnings

    from ..errors import DataWarning
    counts = {c: int(data.frame[c].nunique()) for c in spec.items}
    many = [c for c, k in counts.items() if k > MAX_ORDINAL_CATEGORIES]
    if many:
        shown = ", ".join(f"'{c}' ({counts[c]})" for c in many[:MAX_NAMED]) + (", ..." if len(many) > MAX_NAMED else "")
        warnings.warn(f"{data.source}: items with more than {MAX_ORDINAL_CATEGORIES} distinct values: {shown}; WLSMV "
                      "treats every value as an ordered category. Fix: for continuous scores use --estimator ML "
                      "or MLR (and no 'ordinal: true')", DataWarning, stacklevel=2)


__all__ = ["check_estimable", "check_groups_estimable", "note_many_categories"]
