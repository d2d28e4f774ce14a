"""WLSMV with exogenous controls (lavaan's default ``conditional.x = TRUE``) against lavaan 0.6-14: every
parameter row and every fit key of ``controls.wlsmv`` in design_reference.json (ordinal HS1939, x1–x9 in four
categories, ``age`` and ``sex`` regressed into both endogenous constructs, ``ind := a*b``).

What lavaan does that is easy to miss: the controls' (co)variances are the sample covariance with divisor
N − 1 (``sample.cov.rescale`` is off for DWLS); thresholds are standardised by the *total* sd of y*, i.e.
including the variance the controls explain; and the categorical SRMR divides by p(p − 1)/2 + nvar with
nvar counting the controls too.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cluster_sem as cs
from cluster_sem.model.ordinal.fit import fit_model_wlsmv

HERE = Path(__file__).parent
DESIGN = HERE / "reference" / "design"
REF = json.loads((DESIGN / "design_reference.json").read_text())["controls"]
DATA = DESIGN / "hs_controls_ordinal.csv"
ITEMS = [f"x{i}" for i in range(1, 10)]
FIT_KEYS = {"chisq": "chi2", "df": "df", "chisq.scaled": "chi2_scaled", "df.scaled": "df_scaled",
            "pvalue.scaled": "pvalue_scaled", "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled",
            "rmsea.scaled": "rmsea_scaled", "srmr": "srmr"}
SPEC = """spec_version: 1
title: {en: "Holzinger-Swineford 1939, ordered items with controls"}
scale: {min: 1, max: 4}
ordinal: true
id: id
constructs:
  visual:  {label: {en: Visual}, items: [x1, x2, x3]}
  textual: {label: {en: Textual}, items: [x4, x5, x6]}
  speed:   {label: {en: Speed}, items: [x7, x8, x9]}
controls: [age, sex]
paths:
  - {to: textual, from: [visual]}
  - {to: speed, from: [textual, visual]}
indirect:
  - {name: ind, path: [visual, textual, speed]}
"""


def _unreported(ref: dict) -> bool:
    """lavaan rows the parameter table leaves out: scale factors (fixed 1), item intercepts and latent means
    (fixed 0), and the controls' sample means."""
    return ref["op"] in ("~*~", "~1")


def _key(lhs: str, op: str, rhs: str) -> tuple:
    """A row's key; a defined effect by its name (the pipeline writes it with its own path labels)."""
    return (lhs, op) if op == ":=" else (lhs, op, rhs)


def _compare(rows: dict, refs: list[dict], *, std_defined: bool = True) -> int:
    """Assert est (1e-5), se (1e-4 relative) and std.all (1e-5) of every reference row, each of which must
    be in ``rows``; the number of rows compared.  ``std_defined=False``: a table that leaves std.all of :=
    rows empty."""
    checked = 0
    for ref in refs:
        where = _key(ref["lhs"], ref["op"], ref["rhs"])
        row = rows[where]
        assert row["est"] == pytest.approx(ref["est"], abs=1e-5), where
        assert row["se"] == pytest.approx(ref["se"], rel=1e-4, abs=1e-12), where
        if std_defined or ref["op"] != ":=":
            assert row["std_all"] == pytest.approx(ref["std.all"], abs=1e-5), where
        checked += 1
    return checked


def _compare_fit(fit: dict) -> None:
    for theirs, ours in FIT_KEYS.items():
        assert fit[ours] == pytest.approx(REF["wlsmv"]["fit"][theirs], rel=1e-6, abs=1e-9), theirs


REPORTED = [r for r in REF["wlsmv"]["params"] if not _unreported(r)]


@pytest.fixture(scope="module")
def fit():
    return fit_model_wlsmv(REF["model"], pd.read_csv(DATA), ITEMS)


def test_reference_is_conditional_x_dwls():
    settings = REF["wlsmv"]["settings"]
    assert (settings["estimator"], settings["test"], settings["conditional.x"]) == ("DWLS", "scaled.shifted", True)
    skipped = [r for r in REF["wlsmv"]["params"] if _unreported(r)]
    assert {(r["lhs"], r["est"]) for r in skipped if r["op"] == "~*~"} == {(v, 1) for v in ITEMS}
    assert all(r["est"] == 0 for r in skipped if r["op"] == "~1" and r["lhs"] not in ("age", "sex"))


def test_every_parameter_row_matches_lavaan(fit):
    rows = {_key(r.lhs, r.op, r.rhs): r._asdict() for r in fit.parameters.itertuples(index=False)}
    # 9 loadings, 7 regressions, 27 thresholds, 12 (residual) variances, the controls' variances and
    # covariance, the defined indirect effect
    assert _compare(rows, REPORTED) == 9 + 7 + 27 + 12 + 3 + 1


def test_controls_covariance_uses_n_minus_1(fit):
    data = pd.read_csv(DATA)
    P = fit.parameters.set_index(["lhs", "op", "rhs"])
    assert P.loc[("age", "~~", "age"), "est"] == pytest.approx(data.age.var(ddof=1), rel=1e-12)
    assert P.loc[("age", "~~", "sex"), "est"] == pytest.approx(data[["age", "sex"]].cov().iloc[0, 1], rel=1e-12)


def test_every_fit_key_matches_lavaan(fit):
    assert set(REF["wlsmv"]["fit"]) == set(FIT_KEYS)
    assert fit.fit["n"] == 301
    _compare_fit(fit.fit)


def test_pipeline_results_json_carries_the_same_numbers(tmp_path):
    spec = tmp_path / "controls.yaml"
    spec.write_text(SPEC)
    doc = json.loads(cs.fit(spec, DATA, estimator="WLSMV", timestamp="2026-01-01T00:00:00+00:00").to_json())
    assert doc["meta"]["estimator"] == "WLSMV"
    block = doc["structural_model"]
    rows = {_key(r["lhs"], r["op"], r["rhs"]): r for r in block["parameters"]}
    assert _compare(rows, REPORTED) == 9 + 7 + 27 + 12 + 3 + 1
    effect = next(e for e in doc["indirect_effects"] if e["name"] == "ind")
    assert _compare({("ind", ":="): effect}, [r for r in REPORTED if r["op"] == ":="]) == 1
    _compare_fit(block["fit"])


def test_multigroup_code_with_one_group_gives_every_lavaan_row():
    """The invariance engine's WLSMV (``fit_model(..., estimator="WLSMV")``, mean structure and Δ rows as
    lavaan prints them) on the same model: all 82 rows, the controls' means (std.all = mean / sd) and the
    std.all of ``ind := a*b`` (from the labelled rows' std.all, as the single-group table) too."""
    from cluster_sem.model.fitted import fit_model
    fit = fit_model(REF["model"], pd.read_csv(DATA), estimator="WLSMV", meanstructure=True)
    rows = {_key(r.lhs, r.op, r.rhs): r._asdict() for r in fit.parameters.itertuples(index=False)}
    assert len(rows) == len(REF["wlsmv"]["params"]) == 82
    assert _compare(rows, REF["wlsmv"]["params"]) == 82
    _compare_fit(fit.fit)


def test_single_group_entry_agrees_with_the_one_group_multigroup_fit():
    """The two WLSMV entries on the same data (controls and a := row): every row of the single-group table,
    std.all of := included, is in the one-group multigroup table (which adds lavaan's ~1 and ~*~ rows) with
    the same numbers up to the two fitters' stopping rules (measured: est 3e-7, se 6e-8, std.all 9e-8, χ²
    scaled 4e-9 relative), so neither drifts from the other."""
    import numpy as np
    from cluster_sem.model.fitted import fit_model
    data = pd.read_csv(DATA)
    single = fit_model_wlsmv(REF["model"], data, ITEMS)
    one = fit_model(REF["model"], data, estimator="WLSMV", meanstructure=True)
    shared = one.parameters[~one.parameters.op.isin(["~1", "~*~"])].reset_index(drop=True)
    P = single.parameters
    assert shared[["lhs", "op", "rhs"]].equals(P[["lhs", "op", "rhs"]])
    for col in ("est", "se", "std_all"):
        assert np.allclose(shared[col].to_numpy(float), P[col].to_numpy(float), rtol=0, atol=1e-5), col
    for key in ("chi2", "chi2_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled", "srmr"):
        assert one.fit[key] == pytest.approx(single.fit[key], rel=1e-6), key
