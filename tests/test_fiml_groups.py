"""Multigroup FIML (issue 10): ``fit_model(..., group=, missing="fiml")`` and ``invariance --missing fiml``.

There is no lavaan output for multigroup FIML in tests/reference (lavaan_reference_groups.json holds ML/MLR
invariance on complete data and a *single-group* FIML+MLR fit), so the checks are these:
(a) complete data: multigroup FIML = multigroup ML (estimates, χ², log-likelihood, fit indices; lavaan does
    the same) — and through ML, lavaan's invariance Δχ² and score tests; SEs differ (observed information);
(b) blanks, configural model (no equality constraints): every group's part of the multigroup FIML fit equals
    the single-group FIML fit of that group's rows (``fit_model_casewise``, checked against lavaan's hs_fiml /
    hs_fiml_mlr) — estimates, SEs, std.all, log-likelihood, χ²; with MLR the scaling factor is the
    df-weighted mean of the groups' and the FIML-corrected robust indices equal those built from the
    single-group pieces (``fiml_corrected_parts``) summed over groups;
(c) blanks in one group only: the other group is untouched, and the blanked group's FIML estimates use more
    information than listwise deletion (smaller SEs, closer to the complete-data estimates).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.invariance import engine
from cluster_sem.model.casewise import CasewiseModel
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.fitted_casewise import fiml_corrected_parts, fit_model_casewise
from cluster_sem.model.missing import Patterns, em_moments
from cluster_sem.model.robust import cfi_robust, rmsea_robust, tli_robust
from cluster_sem.model.score_test import univariate_score_tests

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference_groups.json").read_text())
HS = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")
HS_MISSING = pd.read_csv(REF_DIR / "HolzingerSwineford1939_missing.csv")
MEAS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
GROUPS = ("Pasteur", "Grant-White")
ITEMS = [f"x{i}" for i in range(1, 10)]
KW = dict(group="school", groups=GROUPS)


def _rows(fit, group=None):
    P = fit.parameters
    if group is not None:
        P = P[P.group == group]
    return P.set_index(["lhs", "op", "rhs"])


@pytest.mark.parametrize("equal", [(), ("loadings", "intercepts")])
def test_complete_data_fiml_equals_multigroup_ml(equal):
    ml = fit_model(MEAS, HS, group_equal=equal, **KW)
    fiml = fit_model(MEAS, HS, group_equal=equal, missing="fiml", **KW)
    assert fiml.converged and fiml.missing == "ml" and fiml.information == "observed"
    assert np.abs(ml.parameters.est - fiml.parameters.est).max() < 1e-6
    for key in ("chi2", "loglik", "aic", "bic", "baseline_chi2"):
        assert fiml.fit[key] == pytest.approx(ml.fit[key], rel=1e-9, abs=1e-6), key
    for key in ("df", "npar", "n", "baseline_df"):
        assert fiml.fit[key] == ml.fit[key], key
    for key in ("cfi", "tli", "rmsea", "srmr", "pvalue"):
        assert fiml.fit[key] == pytest.approx(ml.fit[key], abs=1e-8), key
    # and so lavaan's numbers (ML = FIML without blanks)
    ref = REF["invariance_ML"]["configural" if not equal else "scalar"]["fit"]
    assert fiml.fit["chi2"] == pytest.approx(ref["chisq"], rel=1e-3)
    assert fiml.fit["aic"] == pytest.approx(ref["aic"], abs=0.5)
    assert fiml.fit["bic"] == pytest.approx(ref["bic"], abs=0.5)


def test_complete_data_fiml_invariance_and_score_tests_match_lavaan():
    levels = engine.fit_levels(MEAS, engine.GroupedData(HS, "school", GROUPS, "fiml"))
    ref = REF["invariance_ML"]
    for lv in levels[1:]:
        assert lv.delta["chi2"] == pytest.approx(ref[lv.name]["delta"]["chisq"], rel=1e-3)
        assert lv.delta["df"] == ref[lv.name]["delta"]["df"]
    scalar = next(lv for lv in levels if lv.name == "scalar")
    ours = univariate_score_tests(scalar.fit)        # FIML expected information = ML's without blanks
    refs = ref["scalar"]["score_tests"]
    assert len(ours) == len(refs)
    for o, r in zip(ours, refs):
        assert o["chi2"] == pytest.approx(r["X2"], rel=1e-3, abs=1e-4)


def _casewise_pieces(part: pd.DataFrame, one):
    """(XX3, k, XX3_b, k_b) of a single-group FIML+MLR fit, rebuilt from its own casewise model."""
    mm = one.matrix_model
    x = part[list(mm.ov)].to_numpy(dtype=float)
    pats = Patterns.from_array(x[~np.isnan(x).all(axis=1)])
    h1 = em_moments(pats)
    model = CasewiseModel(mm, pats, h1.cov, h1.mean.copy(), np.arange(mm.p))
    phi = np.concatenate([one.theta, one.implied_mean])
    return fiml_corrected_parts(pats, h1, model, phi, [])


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_each_group_equals_its_single_group_fiml_fit(estimator):
    multi = fit_model(MEAS, HS_MISSING, missing="fiml", estimator=estimator, **KW)
    assert multi.converged and multi.fit["n"] == len(HS_MISSING)
    loglik = chi2 = 0.0
    c_df = df = 0.0
    xx3 = k = xx3_b = k_b = 0.0
    for g in GROUPS:
        part = HS_MISSING[HS_MISSING.school == g]
        one = fit_model_casewise(MEAS, part, missing="fiml", estimator=estimator)
        a, b = _rows(multi, g), _rows(one)
        b = b.loc[a.index]
        for col in ("est", "se", "std_all"):
            assert np.abs(a[col].to_numpy() - b[col].to_numpy()).max() < 1e-6, (g, col)
        loglik += one.fit["loglik"]
        chi2 += one.fit["chi2"]
        if estimator == "MLR":
            c_df += one.fit["chi2_scaling_factor"] * one.fit["df"]
            df += one.fit["df"]
            pieces = _casewise_pieces(part, one)
            xx3, k, xx3_b, k_b = (s + t for s, t in zip((xx3, k, xx3_b, k_b), pieces))
    assert multi.fit["loglik"] == pytest.approx(loglik, abs=1e-6)
    assert multi.fit["chi2"] == pytest.approx(chi2, abs=1e-6)
    assert multi.fit["df"] == 48
    if estimator == "MLR":
        assert multi.test_name == "yuan.bentler.mplus"
        c = c_df / df
        assert multi.fit["chi2_scaling_factor"] == pytest.approx(c, rel=1e-8)
        assert multi.fit["chi2_scaled"] == pytest.approx(chi2 / c, rel=1e-8)
        df_b = multi.fit["baseline_df"]
        c3, c3_b = k / df, k_b / df_b
        assert multi.fit["cfi_robust"] == pytest.approx(cfi_robust(xx3, df, c3, xx3_b, df_b, c3_b), abs=1e-8)
        assert multi.fit["tli_robust"] == pytest.approx(tli_robust(xx3, df, c3, xx3_b, df_b, c3_b), abs=1e-8)
        assert multi.fit["rmsea_robust"] == pytest.approx(rmsea_robust(xx3, df, len(HS_MISSING), c3) * math.sqrt(2),
                                                          abs=1e-8)


def test_blanks_in_one_group_fiml_against_listwise():
    rng = np.random.default_rng(2026)
    data = HS.copy()
    gw = np.flatnonzero(data.school == "Grant-White")
    x = data[ITEMS].to_numpy(dtype=float).copy()
    x[gw] = np.where(rng.random((len(gw), 9)) < 0.12, np.nan, x[gw])
    data[ITEMS] = x
    listwise = data.dropna(subset=ITEMS)
    assert len(listwise) < len(data) - 60                     # about 2/3 of Grant-White loses a row
    full = fit_model(MEAS, HS, **KW)
    fiml = fit_model(MEAS, data, missing="fiml", **KW)
    lw = fit_model(MEAS, listwise, **KW)
    assert fiml.fit["n"] == len(data) and lw.fit["n"] == len(listwise)
    # Pasteur has no blanks: its part of the configural model is untouched by Grant-White's blanks
    assert np.abs(_rows(fiml, "Pasteur").est - _rows(full, "Pasteur").est).max() < 1e-6
    assert np.abs(_rows(lw, "Pasteur").est - _rows(full, "Pasteur").est).max() < 1e-6
    f, l_, c = (_rows(m, "Grant-White") for m in (fiml, lw, full))
    free = f.se > 0
    ratio = (f.se[free] / l_.se[free]).to_numpy()
    assert np.median(ratio) < 0.95 and (ratio < 1.0).mean() > 0.8   # FIML uses the partly answered rows
    assert (f.est - c.est).abs().sum() < (l_.est - c.est).abs().sum()
    # χ² against the EM saturated model, on the same df
    assert fiml.fit["df"] == lw.fit["df"] == full.fit["df"]


def test_fiml_invariance_on_blanks_mlr_levels():
    levels = engine.fit_levels(MEAS, engine.GroupedData(HS_MISSING, "school", GROUPS, "fiml"), estimator="MLR")
    assert [lv.fit.fit["df"] for lv in levels] == [48, 54, 60, 69]
    assert all(lv.fit.converged for lv in levels)
    chi2 = [lv.fit.fit["chi2"] for lv in levels]
    assert chi2 == sorted(chi2)
    for prev, lv in zip(levels, levels[1:]):
        # Satorra–Bentler (2001) with the FIML fits' unscaled χ² and scaling factors
        r, f = lv.fit.fit, prev.fit.fit
        cd = (r["df"] * r["chi2_scaling_factor"] - f["df"] * f["chi2_scaling_factor"]) / (r["df"] - f["df"])
        assert lv.delta["chi2"] == pytest.approx((r["chi2"] - f["chi2"]) / cd, rel=1e-9)
        assert lv.delta["df"] == r["df"] - f["df"]


def test_invariance_command_with_fiml_keeps_rows_with_blanks(tmp_path):
    from cluster_sem.api import simulate
    from cluster_sem.cli import main
    spec = Path(__file__).parent / "specs" / "regions_small.yaml"
    df = simulate(spec, 400, 7)
    items = [c for c in df.columns if c[:2] in ("ts", "rq")]
    x = df[items].to_numpy(dtype=float).copy()
    x[np.random.default_rng(1).random(x.shape) < 0.08] = np.nan
    df[items] = x
    data = tmp_path / "blanks.csv"
    df.to_csv(data, index=False)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["invariance", str(spec), str(data), "--out", str(out), "--missing", "fiml", "--quiet"]) == 0
        outs.append(json.loads((out / "results.json").read_text(encoding="utf-8")))
    doc = outs[0]
    inv = doc["invariance"]
    assert inv["missing"] == "fiml" and doc["meta"]["n_used"] == 400      # no row has every item blank
    assert [g["n"] for g in inv["groups"]] == [200, 200]
    assert [lv["fit"]["df"] for lv in inv["levels"]] == [38, 44, 50, 58]
    assert 'missing = "ml"' in doc["meta"]["conventions"]
    for d in outs:
        d["meta"].pop("timestamp"), d["meta"].pop("command")
    assert json.dumps(outs[0], sort_keys=True) == json.dumps(outs[1], sort_keys=True)


def test_fiml_group_bootstrap_equals_one_at_a_time_refits():
    from cluster_sem.bootstrap import run_bootstrap
    from cluster_sem.bootstrap.groups import group_resample_indices
    syntax = MEAS + "textual ~ a*visual\nspeed ~ b*textual\nab := a*b\n"
    kw = dict(group_equal=("loadings",), missing="fiml", **KW)
    fit = fit_model(syntax, HS_MISSING, **kw)
    res = run_bootstrap(fit, None, B=30, seed=11)
    assert res.n_converged == 30 and "keep their blanks" in res.rule
    assert len(res.param_se) == len(fit.parameters)               # no extra ~1 rows: they are in the table
    idx = group_resample_indices(fit.sample.n, 30, 11)
    for r in (0, 7, 29):
        rows = [HS_MISSING[HS_MISSING.school == g].reset_index(drop=True).iloc[idx[k][r]] for k, g in enumerate(GROUPS)]
        one = fit_model(syntax, pd.concat(rows), **kw)
        assert np.abs(one.theta - res.estimates[r]).max() < 1e-6
    (ab,) = res.defined
    assert ab["perc"][0] < ab["est"] < ab["perc"][1]


# -- FIML + controls (fixed.x) with MLR: no lavaan output with controls exists here ---------------------

def _lavaan_v3_trace(w_m, j_m, w_c, delta, zero):
    """lav_fit_fiml_corrected (V3) as lavaan writes it: x rows/cols zeroed (lav_mvn_zero_x_idx), symmetric
    inverse dropping zero rows (lav_mat_sym_inverse), k = tr11 − 2·tr12 + tr22 with E⁻¹ = (Δ'W_mΔ)⁻¹."""
    def zeroed(m):
        m = m.copy()
        m[zero, :] = 0.0
        m[:, zero] = 0.0
        return m

    def sym_inverse(m):
        nz = np.abs(m).sum(axis=1) != 0
        out = np.zeros_like(m)
        out[np.ix_(nz, nz)] = np.linalg.inv(m[np.ix_(nz, nz)])
        return out

    wm, jm, wc = zeroed(w_m), zeroed(j_m), zeroed(w_c)
    wmi = sym_inverse(wm)
    e_inv = np.linalg.inv(delta.T @ wm @ delta)
    tr11 = np.sum(wc * (wmi @ jm @ wmi))
    tr12 = np.sum((delta.T @ jm @ wmi @ wc @ delta) * e_inv)
    tr22 = np.sum((delta.T @ jm @ delta @ e_inv) * (delta.T @ wc @ delta @ e_inv).T)
    return tr11 - 2 * tr12 + tr22


def test_fiml_mlr_with_a_control_follows_lavaans_fixed_x_rule():
    from cluster_sem.model.fiml import h1_observed_information, h1_scores, vech_indices
    from cluster_sem.model.fitted_casewise import baseline_delta, baseline_fiml, complete_h1_information, complete_loglik_f
    data = HS_MISSING.merge(HS[["id", "ageyr"]], on="id")
    syntax = MEAS + "visual ~ ageyr\n"
    one = fit_model_casewise(syntax, data[data.school == "Pasteur"], missing="fiml", estimator="MLR")
    mm = one.matrix_model
    x_index = [mm.ov.index("ageyr")]
    x = data[data.school == "Pasteur"][list(mm.ov)].to_numpy(dtype=float)
    pats = Patterns.from_array(x)
    h1 = em_moments(pats)
    free_mu = np.array([j for j in range(mm.p) if j not in x_index])
    model = CasewiseModel(mm, pats, h1.cov, h1.mean.copy(), free_mu)
    phi = np.concatenate([one.theta, one.implied_mean[free_mu]])
    p, n = mm.p, pats.n
    r, c = vech_indices(p)
    zero = np.concatenate([np.isin(np.arange(p), x_index), np.isin(r, x_index) & np.isin(c, x_index)])
    w_m = h1_observed_information(pats, h1.mean, h1.cov)
    sc = h1_scores(pats, h1.mean, h1.cov)
    sc[:, zero] = 0.0
    j_m = sc.T @ sc / n
    w_c = complete_h1_information(h1.cov)
    mu, sigma = model.moments(phi)
    xx3 = n * complete_loglik_f(h1.mean, h1.cov, mu, sigma)
    mu_b, sigma_b, _ = baseline_fiml(pats, h1, x_index)
    xx3_b = n * complete_loglik_f(h1.mean, h1.cov, mu_b, sigma_b)
    df, df_b = one.fit["df"], one.fit["baseline_df"]
    c3 = _lavaan_v3_trace(w_m, j_m, w_c, model.delta(phi), zero) / df
    c3_b = _lavaan_v3_trace(w_m, j_m, w_c, baseline_delta(p, x_index), zero) / df_b
    assert one.fit["cfi_robust"] == pytest.approx(cfi_robust(xx3, df, c3, xx3_b, df_b, c3_b), abs=1e-8)
    assert one.fit["tli_robust"] == pytest.approx(tli_robust(xx3, df, c3, xx3_b, df_b, c3_b), abs=1e-8)
    assert one.fit["rmsea_robust"] == pytest.approx(rmsea_robust(xx3, df, n, c3), abs=1e-8)
    # the multigroup path applies the same rule: with one group it is the single-group fit
    multi = fit_model(syntax, data[data.school == "Pasteur"], missing="fiml", estimator="MLR")
    for key in ("chi2", "chi2_scaling_factor", "cfi_robust", "tli_robust", "rmsea_robust", "loglik"):
        assert multi.fit[key] == pytest.approx(one.fit[key], rel=1e-7, abs=1e-8), key
    a, b = _rows(multi), _rows(one)
    assert np.abs(a.se.to_numpy() - b.se.loc[a.index].to_numpy()).max() < 1e-6


def test_item_without_any_answer_in_a_group_is_refused(tmp_path, capsys):
    from cluster_sem.api import simulate
    from cluster_sem.cli import main
    spec = Path(__file__).parent / "specs" / "regions_small.yaml"
    df = simulate(spec, 400, 7)
    df.loc[df.region.isin(["Jinhua", "Quzhou"]), "ts1"] = np.nan
    data = tmp_path / "no_ts1_inland.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "out"
    assert main(["invariance", str(spec), str(data), "--out", str(out), "--missing", "fiml", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'ts1' has no answer in group 'inland'" in err[0] and "Fix:" in err[0]
    assert not out.exists()
