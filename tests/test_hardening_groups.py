"""Hardening (stress matrix, tests/stress/matrix.py): multigroup data that is fine pooled but not per group,
FIML on too few rows, and missing codes in the group column.

Each case used to end in a traceback (numpy LinAlgError from EM's Cholesky) or in an anonymous
"singular matrix" line without file, column or fix; now it is exit 2 with one line naming them, before any
model is fitted (so every test here is fast), or a documented data decision.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.cli import main
from cluster_sem.errors import FitError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
SPEC = """spec_version: 1
title: {en: Hardening groups}
scale: {min: 1, max: 5}
missing_codes: [99]
id: firm_id
group: region
group_levels: {north: [Hangzhou, Ningbo, Shaoxing], south: [Wenzhou, Taizhou]}
constructs:
  NC: {items: [NC1, NC2, NC3, {id: NC4, reverse: true}]}
  TS: {items: [TS1, TS2, TS3, {id: TS4, reverse: true}]}
  CE: {items: [CE1, CE2, CE3, {id: CE4, reverse: true}]}
controls: [firm_age, log_employees]
paths:
  - {to: CE, from: [NC, TS]}
"""
SOUTH = ["Wenzhou", "Taizhou"]


def _files(tmp_path, edit=None, spec=SPEC):
    frame = pd.read_csv(DATA)
    if edit is not None:
        result = edit(frame)
        frame = frame if result is None else result
    (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
    frame.to_csv(tmp_path / "data.csv", index=False)
    return str(tmp_path / "spec.yaml"), str(tmp_path / "data.csv")


def _refused(capsys, argv, out: Path, *fragments) -> str:
    assert main(argv) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1, err
    assert "Fix:" in err[0] and "data.csv" in err[0], err[0]
    for fragment in fragments:
        assert fragment in err[0], err[0]
    assert not out.exists()
    return err[0]


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_invariance_names_an_item_constant_in_all_rows(tmp_path, capsys, missing):
    def edit(f):
        f["TS2"] = 3
    spec, data = _files(tmp_path, edit)
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out), "--missing", missing], out, "'TS2'", "zero variance")


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_invariance_names_an_item_constant_in_one_group(tmp_path, capsys, missing):
    def edit(f):
        f.loc[f["region"].isin(SOUTH), "TS2"] = 4
    spec, data = _files(tmp_path, edit)
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out), "--missing", missing], out,
             "'TS2'", "group 'south'", "group_levels")


def test_invariance_names_a_control_constant_in_one_group(tmp_path, capsys):
    def edit(f):
        f.loc[f["region"].isin(SOUTH), "log_employees"] = 4.5
    spec, data = _files(tmp_path, edit)
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out)], out, "'log_employees'", "group 'south'")


def test_invariance_names_a_constant_control(tmp_path, capsys):
    def edit(f):
        f["firm_age"] = 5
    spec, data = _files(tmp_path, edit)
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out), "--missing", "fiml"], out, "'firm_age'")


def test_invariance_names_items_collinear_inside_one_group(tmp_path, capsys):
    def edit(f):
        south = f["region"].isin(SOUTH)
        f["CE1"] = f["CE1"].astype(float)
        f.loc[south, "CE1"] = (f.loc[south, "NC1"] + f.loc[south, "TS1"]) / 2
    spec, data = _files(tmp_path, edit)
    out = tmp_path / "out"
    _refused(capsys, ["invariance", spec, data, "--out", str(out)], out, "collinear", "group 'south'", "'CE1'")


def test_fiml_fit_with_no_more_rows_than_variables_is_refused(tmp_path, capsys):
    def edit(f):
        return f.head(10)
    spec, data = _files(tmp_path, edit)
    out = tmp_path / "out"
    _refused(capsys, ["fit", spec, data, "--out", str(out), "--missing", "fiml"], out, "n = 10")


def test_em_on_a_singular_covariance_is_a_fit_error_with_a_fix():
    """Complete rows with an exact linear dependency: EM's log-likelihood used to fail in Cholesky."""
    from cluster_sem.model.sample_stats_missing import missing_statistics
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 0] + x[:, 1], "d": x[:, 2]})
    with pytest.raises(FitError, match="Fix:"):
        missing_statistics(frame, ["a", "b", "c", "d"])


def test_a_missing_code_in_the_group_column_means_no_group(tmp_path):
    """'99 = no answer' applies to the group question too: the row has no group (dropped by multigroup
    analyses and counted), instead of a group named '99' or a refusal asking to list 99 in group_levels."""
    from cluster_sem.data import prepare_data
    from cluster_sem.spec import load_spec

    def edit(f):
        f.loc[[0, 4], "region"] = "99"
    spec, data = _files(tmp_path, edit)
    prepared = prepare_data(load_spec(spec), data, by_group=True)
    assert prepared.n_used == 126
    assert [row for row, _ in prepared.dropped] == [2, 6]
    assert all("region" in reason for _, reason in prepared.dropped)
    assert any("in 'region' set to missing" in line for line in prepared.log)
    kept = prepare_data(load_spec(spec), data, by_group=False)   # fit keeps rows without a group
    assert kept.n_used == 128 and kept.frame["region"].isna().sum() == 2


HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"


def _hs_groups():
    frame = pd.read_csv(ROOT / "tests" / "reference" / "HolzingerSwineford1939.csv")
    return frame[["school"] + [f"x{i}" for i in range(1, 10)]]


def _non_pd_start(*args, **kwargs):
    """A start whose implied covariance is not positive definite (every variance -1), as a warm start from
    a non-converged previous invariance level can be."""
    from cluster_sem.model import fit_groups
    theta = fit_groups._simple_start(args[2], args[3], args[4])
    pt = args[2]
    for p in pt.params:
        if p.op == "~~" and p.lhs == p.rhs and p.free >= 0:
            theta[p.free] = -1.0
    return theta, "bad start"


def test_multigroup_fit_restarts_when_the_start_gives_a_non_pd_covariance(monkeypatch):
    """It used to raise numpy's LinAlgError (a traceback from `invariance`)."""
    from cluster_sem.model import fit_groups
    from cluster_sem.model.fitted import fit_model
    frame = _hs_groups()
    reference = fit_model(HS_MODEL, frame, group="school")
    monkeypatch.setattr(fit_groups, "start_values", _non_pd_start)
    fit = fit_model(HS_MODEL, frame, group="school")
    assert fit.converged and "restarted from simple values" in fit.start_note
    assert np.allclose(fit.parameters["est"], reference.parameters["est"], atol=1e-4)


def test_multigroup_fit_without_any_usable_start_is_a_fit_error(monkeypatch):
    from cluster_sem.model import fit_groups
    from cluster_sem.model.fitted import fit_model
    monkeypatch.setattr(fit_groups, "start_values", _non_pd_start)
    monkeypatch.setattr(fit_groups, "_simple_start", lambda pt, model, stats: np.full(pt.n_free, -1.0))
    with pytest.raises(FitError, match="Fix:"):
        fit_model(HS_MODEL, _hs_groups(), group="school")


@pytest.mark.parametrize("command", ["fit", "invariance"])
def test_fiml_on_complete_collinear_data_names_the_columns(tmp_path, capsys, command):
    """Without blanks FIML is complete-data ML: the exact dependency is named (it used to surface as an
    anonymous EM 'singular' line without file or columns)."""
    def edit(f):
        f["CE1"] = (f["NC1"] + f["TS1"]) / 2
    spec, data = _files(tmp_path, edit)
    out = tmp_path / "out"
    _refused(capsys, [command, spec, data, "--out", str(out), "--missing", "fiml"], out, "collinear", "'CE1'")


def test_model_layer_fit_errors_name_the_data_file(tmp_path, capsys, monkeypatch):
    from cluster_sem import pipeline

    def failing(*args, **kwargs):
        raise FitError("the (EM) covariance matrix of the model variables is singular. Fix: drop items")
    monkeypatch.setattr(pipeline, "stage_fit", failing)
    spec, data = _files(tmp_path)
    out = tmp_path / "out"
    line = _refused(capsys, ["fit", spec, data, "--out", str(out)], out)
    assert line.startswith("cluster-sem fit: error: data.csv: the (EM) covariance")


def test_power_without_population_names_the_spec_file(tmp_path, capsys):
    spec, _ = _files(tmp_path)
    out = tmp_path / "out"
    assert main(["power", spec, "--n", "100", "--reps", "2", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error: spec.yaml: key 'population': missing" in err[0] and "Fix:" in err[0]
    assert not out.exists()
