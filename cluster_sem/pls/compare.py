"""CB-SEM beside PLS(c) (``cluster-sem pls --cbsem FIT_DIR``): the structural paths and the spec's indirect
effects of a ``cluster-sem fit`` of the same spec and data, next to the PLS (or PLSc) estimates.

Why a comparison needs the same spec *and* data: the two estimators answer the same question only on the
same model and rows, so the fit's ``meta.spec_sha256``/``meta.data_sha256`` must equal this run's (else
exit 2).  What is compared: the CB-SEM completely standardised estimate (``std_all``, lavaan's std.all) with
the claim the fit report makes of it (a path: p < 1 − level; an indirect effect: its CI excludes 0), against
the PLS estimate (standardised by construction) with its bootstrap percentile CI.  Second-order "paths" are
loadings in CB-SEM and are left out.

Why they differ: CB-SEM estimates common factors free of measurement error; PLS estimates composites
(weighted sums of the items) that carry it, so PLS paths between reflective constructs are attenuated and
its loadings inflated.  PLSc corrects the composite correlations by ρ_A and is the consistent comparison.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from ..errors import ClusterSemError


def _fix(fit_dir: str) -> str:
    return f"Fix: run 'cluster-sem fit SPEC DATA --out {fit_dir}' on this spec and data, then re-run pls"


def load_cbsem(fit_dir: str, *, spec_name: str, spec_sha: str, data_name: str, data_sha: str) -> dict:
    """The fit document in ``fit_dir``, refused (one line naming both files and the fix) when it is missing,
    unreadable, not a ``fit`` document, or of another spec or data file."""
    path = Path(fit_dir) / "results.json"
    if not path.is_file():
        raise ClusterSemError(f"--cbsem {fit_dir}: no results.json here. {_fix(fit_dir)}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ClusterSemError(f"--cbsem {path}: not readable JSON ({type(exc).__name__}). {_fix(fit_dir)}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("structural_model"), dict) \
            or not isinstance(doc.get("meta"), dict):
        raise ClusterSemError(f"--cbsem {path}: not the results.json of 'cluster-sem fit' (no structural_model). "
                              f"{_fix(fit_dir)}")
    meta = doc["meta"]
    for key, name, sha in (("spec_sha256", spec_name, spec_sha), ("data_sha256", data_name, data_sha)):
        if meta.get(key) != sha:
            what = "spec" if key == "spec_sha256" else "data"
            raise ClusterSemError(f"--cbsem {path}: meta.{key} {str(meta.get(key))[:12]}… differs from {name} "
                                  f"({sha[:12]}…), so the CB-SEM fit used another {what} file. {_fix(fit_dir)}")
    return doc


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _excludes_zero(lo: float | None, hi: float | None) -> bool | None:
    return None if lo is None or hi is None else bool(lo > 0 or hi < 0)


def _agree(a: bool | None, b: bool | None) -> bool | None:
    return None if a is None or b is None else a == b


def _cbsem_paths(doc: Mapping, alpha: float) -> dict[tuple[str, str], dict]:
    """(from, to) → std_all, p and the p < alpha claim of the fit's regressions."""
    out = {}
    for p in doc["structural_model"].get("parameters") or ():
        if isinstance(p, dict) and p.get("op") == "~":
            pvalue = _num(p.get("pvalue"))
            out[(str(p.get("rhs")), str(p.get("lhs")))] = {
                "cbsem_std": _num(p.get("std_all")), "cbsem_pvalue": pvalue,
                "cbsem_significant": None if pvalue is None else pvalue < alpha}
    return out


def _cbsem_indirect(doc: Mapping) -> dict[str, dict]:
    """name → std_all, p, CI and the CI claim of the fit's indirect effects."""
    out = {}
    for x in doc.get("indirect_effects") or ():
        if isinstance(x, dict) and isinstance(x.get("name"), str):
            lo, hi = _num(x.get("ci_lower")), _num(x.get("ci_upper"))
            significant = x.get("significant")
            out[x["name"]] = {"cbsem_std": _num(x.get("std_all")), "cbsem_pvalue": _num(x.get("pvalue")),
                              "cbsem_ci_lower": lo, "cbsem_ci_upper": hi,
                              "cbsem_significant": significant if isinstance(significant, bool)
                              else _excludes_zero(lo, hi)}
    return out


def _pls_side(row: Mapping) -> dict:
    lo, hi = row.get("ci_lower"), row.get("ci_upper")
    return {"pls_est": row.get("est"), "pls_ci_lower": lo, "pls_ci_upper": hi,
            "pls_significant": _excludes_zero(lo, hi)}


def cbsem_comparison(doc: Mapping, block: Mapping, source: str) -> dict:
    """The ``pls.cbsem_comparison`` block: every structural/control path and named indirect effect that both
    documents hold, the two estimates side by side and whether their significance claims agree."""
    meta = doc["meta"]
    level = _num(meta.get("ci_level")) or 0.95
    paths_cb = _cbsem_paths(doc, 1 - level)
    paths = []
    for p in block["paths"]:
        cb = paths_cb.get((p["from"], p["to"]))
        if p["kind"] == "second_order" or cb is None:
            continue
        row = {"from": p["from"], "to": p["to"], "kind": p["kind"], **cb, **_pls_side(p)}
        paths.append({**row, "same_conclusion": _agree(row["cbsem_significant"], row["pls_significant"])})
    indirect_cb = _cbsem_indirect(doc)
    indirect = []
    for x in block["indirect"]:
        cb = indirect_cb.get(x["name"])
        if cb is None:
            continue
        row = {"name": x["name"], "path": list(x["path"]), **cb, **_pls_side(x)}
        indirect.append({**row, "same_conclusion": _agree(row["cbsem_significant"], row["pls_significant"])})
    return {"source": source, "cbsem_estimator": meta.get("estimator"), "cbsem_level": level,
            "pls_variant": block["variant"], "paths": paths, "indirect": indirect}
