"""The one immutable Results object.

Why a plain JSON-able document underneath: ``cluster-sem report DIR`` must re-render the report from
``results.json`` alone, so every renderer (terminal, Markdown, HTML, notebook) reads the same document
that is written to disk.  ``Results`` wraps that document with typed, read-only views (DataFrames are
rebuilt on access, so callers cannot mutate the stored numbers).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from types import MappingProxyType
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Mapping

import pandas as pd

_CHECK_ELSEWHERE: ContextVar[bool] = ContextVar("schema_check_elsewhere", default=False)


@contextmanager
def schema_check_elsewhere() -> Iterator[None]:
    """Within it, ``from_document`` leaves the schema check to the caller, who must run
    ``results/schema.check_written`` on the document before writing it.  Why: the command line's forked
    report process (``render/forked.py``) loads the typed reader anyway and checks the results.json text
    there, so the fitting process never loads the reader (start-up time); the caller checks in-process if
    that process does not answer."""
    token = _CHECK_ELSEWHERE.set(True)
    try:
        yield
    finally:
        _CHECK_ELSEWHERE.reset(token)


def _param_keys() -> tuple[str, ...]:
    """lhs, op, rhs, label, est, se, z, pvalue, std_all: read from the parameter row's model in
    ``results/document.py``, where they are declared once; loaded on first use, because a fit whose reports
    are rendered elsewhere never needs the typed reader (start-up time)."""
    from .document import ParameterColumns
    return ParameterColumns.keys()


def __getattr__(name: str) -> Any:
    """``PARAM_KEYS``, the module's public name for ``_param_keys()``."""
    if name == "PARAM_KEYS":
        return _param_keys()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FIT_KEYS = ("chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci90", "srmr", "aic", "bic", "n")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class Results:
    """Results of ``cluster_sem.fit``: computed once, then read-only.

    Views: ``parameters`` (lavaan columns, both models), ``fit_measures``, ``reliability``,
    ``indirect_effects``, ``htmt``, ``r_squared``, ``warnings``; the one serialiser ``to_json()``.  The
    reports (``summary()``, ``to_markdown()``, ``to_html()``, ``_repr_html_``) are added by the subclass
    ``cluster_sem.render.report.Results`` — what ``cluster_sem.fit`` and ``load_results`` return — because
    the renderers read this layer, never the other way round.
    """

    _doc: Mapping[str, Any]

    @classmethod
    def from_document(cls, doc: dict, *, check: bool = True) -> "Results":
        """The Results of a document a command has just built: checked against its schema first
        (``results/schema.check_written``), so a writer drifting from the models fails here, not in `report`."""
        if check and not _CHECK_ELSEWHERE.get():
            from .schema import check_written
            check_written(doc)
        return cls(_freeze(copy.deepcopy(doc)))

    @classmethod
    def from_json(cls, text: str) -> "Results":
        """A stored document, as it is: `report` words what is wrong with it (``results/schema.document_problem``)."""
        return cls.from_document(json.loads(text), check=False)

    # -- document ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return _thaw(self._doc)

    def to_json(self, *, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    # -- typed views ------------------------------------------------------------------------------
    @property
    def parameters(self) -> pd.DataFrame:
        keys = list(_param_keys())
        frames = []
        for model in ("measurement_model", "structural_model"):
            df = pd.DataFrame(_thaw(self._doc[model]["parameters"]), columns=keys)
            df.insert(0, "model", model.split("_")[0])
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    @property
    def fit_measures(self) -> pd.DataFrame:
        rows = {}
        for model in ("measurement_model", "structural_model"):
            fit = _thaw(self._doc[model]["fit"])
            for key in [k for k in fit if k.startswith("rmsea_ci90")]:   # plain, _scaled, _robust: [lo, hi]
                fit[f"{key}_lower"], fit[f"{key}_upper"] = fit.pop(key)
            rows[model.split("_")[0]] = fit
        return pd.DataFrame(rows).T

    @property
    def reliability(self) -> pd.DataFrame:
        return pd.DataFrame(_thaw(self._doc["reliability"])).T

    @property
    def htmt(self) -> pd.DataFrame:
        return pd.DataFrame(_thaw(self._doc["htmt"]))

    @property
    def indirect_effects(self) -> pd.DataFrame:
        return pd.DataFrame(_thaw(self._doc["indirect_effects"]))

    @property
    def r_squared(self) -> pd.Series:
        """R² of every endogenous construct and item of the structural model (lavaan's ``lavInspect(fit, "r2")``),
        in parameter-table order; NaN where lavaan gives NA (a negative residual variance)."""
        values = _thaw(self._doc.get("r_squared") or {})
        return pd.Series({k: (float("nan") if v is None else v) for k, v in values.items()}, name="r_squared",
                         dtype=float)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._doc.get("warnings", ()))

    @property
    def meta(self) -> dict:
        return _thaw(self._doc["meta"])

    @property
    def blocks(self) -> "ResultsDocument":
        """The document as typed, frozen blocks (``results.document``): what the renderers read."""
        from .document import ResultsDocument
        return ResultsDocument.of(self.to_dict())

    def __repr__(self) -> str:
        m = self._doc["meta"]
        return f"<Results {m.get('title', '')!s}: n={m.get('n_used')}, {len(self._doc.get('indirect_effects', ()))} indirect effects>"
