"""`cluster-sem cmb SPEC DATA --out DIR`: the common-method battery as its own results document.

The document has the `fit` document's ``common_method`` block (Harman's keys as `fit` writes them, plus
``harman``, ``one_factor_cfa``, ``clf``, ``ulmc``, ``marker`` and ``verdict``), and ``data``, ``spec``,
``warnings`` and ``meta`` (``meta.analysis = "cmb"``: the renderers' cue for the battery report,
``results.kinds.is_cmb_document``).  Marker items (spec ``method_marker``) are read and cleaned with the spec's
items (missing codes, scale range, listwise deletion) by treating them, for the data step only, as one more
construct.  An analysis beside ``invariance`` and ``power``: it composes the pipeline's spec stage and the
model layer's fits.
"""
from __future__ import annotations

import datetime
from pathlib import Path

from . import __version__
from .blas import one_blas_thread
from .data import prepare_data
from .errors import naming_source
from .model.fitted import fit_model
from .pipeline import stage_spec
from .quality import harman_single_factor
from .quality.method_battery import BatteryModel, run_battery
from .render.report import Results
from .results.jsonsafe import json_safe
from .results.provenance import versions
from .spec import Spec
from .spec.schema import Construct


def _data_spec(spec: Spec, marker_name: str) -> Spec:
    """The spec with the marker items as one extra construct, so the data step checks and cleans them."""
    if not spec.method_marker:
        return spec
    marker = Construct.model_validate({"label": {"en": "Marker"}, "items": list(spec.method_marker)})
    return spec.model_copy(update={"constructs": {**spec.constructs, marker_name: marker}})


def run_cmb(spec: Spec | str | Path, data, *, command: str = "", timestamp: str | None = None) -> Results:
    """Harman (EFA share and one-factor CFA), CLF, ULMC and the marker technique on complete rows (ML)."""
    parsed, spec_sha = stage_spec(spec)
    model = BatteryModel({c: parsed.items_of(c) for c in parsed.first_order},
                         tuple((a, b) for a, b in parsed.covariances if a in parsed.items and b in parsed.items),
                         tuple(parsed.method_marker))
    prepared = prepare_data(_data_spec(parsed, model.fresh("method_marker")), data, missing="listwise", by_group=False)
    frame = prepared.frame
    harman = harman_single_factor(frame[model.items])
    def fitter(syntax: str):
        """Fisher scoring; the restarts only when they can help (not with more parameters than cases,
        where a near-unidentified method model would spend a minute on them and still fail)."""
        fit = fit_model(syntax, frame, fallback=False)
        if not fit.converged and fit.partable.n_free <= fit.n:
            fit = fit_model(syntax, frame)
        return fit

    with one_blas_thread(), naming_source(prepared.source):
        battery = run_battery(model, frame, fitter, harman.first_factor_share)
    block = {**harman.block(), **battery}
    warnings = [f"{name}: {w}" for name in ("one_factor_cfa", "clf", "ulmc")
                for w in (battery[name].get("warnings") or [])]
    stamp = timestamp or datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    doc = {
        "common_method": block,
        "data": {"source": prepared.source, "n_raw": prepared.n_raw, "n_used": prepared.n_used,
                 "n_dropped": prepared.n_dropped, "log": list(prepared.log)},
        "spec": parsed.model_dump(mode="json", by_alias=True, exclude_none=True),
        "warnings": warnings,
        "meta": {"analysis": "cmb", "version": __version__, "data_sha256": prepared.sha256, "spec_sha256": spec_sha,
                 "n_used": prepared.n_used, "n_dropped": prepared.n_dropped, "estimator": "ML",
                 "title": parsed.title.model_dump(exclude_none=True), "command": command,
                 "versions": versions(), "timestamp": stamp,
                 "conventions": "lavaan 0.6 (ML, N-based chi2, complete rows; lavTestLRT differences)"},
    }
    return Results.from_document(json_safe(doc))


__all__ = ["run_cmb"]
