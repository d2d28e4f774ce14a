"""Multigroup WLSMV and `cluster-sem invariance --estimator WLSMV` (issue 11).

There is no multigroup ordinal lavaan output in tests/reference (no R here), so the checks are independent
ones: the one-group route through the multigroup code equals lavaan's single-group ``hs_wlsmv``; the
configural model equals separate single-group fits (estimates, χ² sum, lavaan's N − G SE scaling); the
constraints and lavaan's identification rules hold exactly; the analytic Jacobian equals finite differences;
the Satorra (2000) difference traces equal the difference of the two models' traces at a common point.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.api import simulate
from cluster_sem.cli import main
from cluster_sem.model.fitted import fit_model
from cluster_sem.model.lrt import lrt
from cluster_sem.model.ordinal import group_fit
from cluster_sem.model.ordinal.fit import fit_model_wlsmv
from cluster_sem.model.ordinal.group_layout import build_layout
from cluster_sem.model.ordinal.group_robust import _traces, information, satorra2000_traces
from cluster_sem.model.ordinal.group_vector import GroupModelVector
from cluster_sem.model.ordinal.samplestats import ordinal_stats

ROOT = Path(__file__).resolve().parents[1]
REF = Path(__file__).parent / "reference"
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
ITEMS = [f"x{i}" for i in range(1, 10)]
SCHOOLS = ["Pasteur", "Grant-White"]
SPEC = ROOT / "tests" / "specs" / "regions_small.yaml"


@pytest.fixture(scope="module")
def hs():
    ordinal = pd.read_csv(REF / "HolzingerSwineford1939_ordinal.csv")
    raw = pd.read_csv(REF / "HolzingerSwineford1939.csv")[["id", "school", "sex"]]
    return ordinal.merge(raw, on="id")


@pytest.fixture(scope="module")
def levels(hs):
    out, previous = {}, None
    for name, equal in (("configural", ()), ("metric", ("loadings",)), ("scalar", ("loadings", "thresholds"))):
        previous = out[name] = fit_model(HS, hs, group="school", groups=SCHOOLS, group_equal=equal,
                                         estimator="WLSMV", start_fit=previous)
    return out


def test_one_group_through_the_multigroup_code_matches_lavaan(hs):
    ref = json.loads((REF / "lavaan_reference.json").read_text())["hs_wlsmv"]
    fit = fit_model(HS, hs, estimator="WLSMV", meanstructure=True)
    P = fit.parameters
    for r in ref["params"]:
        row = P[(P.lhs == r["lhs"]) & (P.op == r["op"]) & (P.rhs == r["rhs"])]
        assert len(row) == 1, (r["lhs"], r["op"], r["rhs"])
        assert row.est.iloc[0] == pytest.approx(r["est"], abs=1e-3)
        assert row.se.iloc[0] == pytest.approx(r["se"], abs=1e-3)
        if r["op"] != "~*~":
            assert row.std_all.iloc[0] == pytest.approx(r["std.all"], abs=1e-3)
    assert len(P) == len(ref["params"])
    f = ref["fit"]
    assert fit.fit["chi2_scaled"] == pytest.approx(f["chisq.scaled"], rel=1e-3)
    for ours, theirs in (("cfi_scaled", "cfi.scaled"), ("tli_scaled", "tli.scaled"),
                         ("rmsea_scaled", "rmsea.scaled"), ("srmr", "srmr")):
        assert fit.fit[ours] == pytest.approx(f[theirs], abs=0.002)


def test_configural_equals_separate_fits(hs, levels):
    conf = levels["configural"]
    P = conf.parameters
    N, G = len(hs), 2
    chi2 = 0.0
    for g in SCHOOLS:
        part = hs[hs.school == g]
        alone = fit_model_wlsmv(HS, part)
        assert alone.converged
        chi2 += alone.fit["chi2"]
        m = alone.parameters.merge(P[P.group == g], on=["lhs", "op", "rhs"], suffixes=("_1", "_g"))
        assert len(m) == len(alone.parameters)
        assert np.abs(m.est_1 - m.est_g).max() < 1e-5     # both stop at their own tolerance
        free = m.se_1 > 0
        n = len(part)
        # lavaan: vcov = E⁻¹BE⁻¹/(N − G) with E, B weighted by n_g/N  ⇒  SE ratio √(N(n−1)/(n(N−G)))
        ratio = np.sqrt(N * (n - 1) / (n * (N - G)))
        assert np.allclose(m.se_g[free] / m.se_1[free], ratio, rtol=1e-4)
    assert conf.fit["chi2"] == pytest.approx(chi2, rel=1e-8)
    assert sum(conf.fit["chi2_groups"]) == pytest.approx(conf.fit["chi2"], rel=1e-12)


def test_constraints_and_lavaan_identification(levels):
    assert [levels[k].fit["df"] for k in ("configural", "metric", "scalar")] == [48, 54, 69]
    for name, fit in levels.items():
        assert fit.converged, name
        P = fit.parameters
        a, b = (P[P.group == g].reset_index(drop=True) for g in SCHOOLS)
        loads, ths = (P.op == "=~"), (P.op == "|")
        if name != "configural":
            assert np.array_equal(a.est[a.op == "=~"].to_numpy(), b.est[b.op == "=~"].to_numpy())
        scale_b = b[b.op == "~*~"]
        means_b = b[(b.op == "~1") & b.lhs.isin(["visual", "textual", "speed"])]
        ref_rows = a[a.op.isin(["~*~", "~1"])]
        assert (ref_rows.se == 0).all()                    # reference group: Δ = 1, means 0
        assert np.allclose(a.est[a.op == "~*~"], 1.0) and np.allclose(ref_rows.est[ref_rows.op == "~1"], 0.0)
        assert np.allclose(b.est[(b.op == "~1") & b.lhs.isin(ITEMS)], 0.0)   # item intercepts fixed 0
        if name == "scalar":
            assert np.array_equal(a.est[a.op == "|"].to_numpy(), b.est[b.op == "|"].to_numpy())
            assert (scale_b.se > 0).all() and (means_b.se > 0).all()
        else:
            assert not np.array_equal(a.est[a.op == "|"].to_numpy(), b.est[b.op == "|"].to_numpy())
            assert (scale_b.se == 0).all() and (means_b.se == 0).all()
        assert loads.sum() == 18 and ths.sum() == 54
    # the derived residual variances give the y* unit variance after scaling: θ = 1/Δ² − (ΛΨΛ')_ii
    P = levels["scalar"].parameters
    b = P[P.group == "Grant-White"]
    d = b[b.op == "~*~"].set_index("lhs").est
    theta = b[(b.op == "~~") & (b.lhs == b.rhs) & b.lhs.isin(ITEMS)].set_index("lhs").est
    lam = b[b.op == "=~"].set_index("rhs").est
    psi = b[(b.op == "~~") & (b.lhs == b.rhs)].set_index("lhs").est
    factor = {f"x{i}": ["visual", "textual", "speed"][(i - 1) // 3] for i in range(1, 10)}
    implied = pd.Series({i: lam[i] ** 2 * psi[factor[i]] + theta[i] for i in ITEMS})
    assert np.allclose(implied * d[ITEMS] ** 2, 1.0)


def test_binary_items_keep_their_scale_fixed():
    lay = build_layout(HS, ("a", "b", "c"), np.array([2, 4, 4, 4, 4, 4, 4, 4, 2]),
                       group_equal=("loadings", "thresholds"))
    assert (lay.scale_index[0] == -1).all()
    assert lay.scale_index[1, 0] == -1 and lay.scale_index[1, 8] == -1 and (lay.scale_index[1, 1:8] >= 0).all()
    assert np.array_equal(lay.th_index[0], lay.th_index[2])
    released = build_layout(HS, ("a", "b"), np.full(9, 4), group_equal=("loadings", "thresholds"),
                            group_partial=("x3|t2",))
    k = 3 * 2 + 1                                          # x3|t2
    assert released.th_index[0, k] != released.th_index[1, k]
    assert (np.delete(released.th_index[0], k) == np.delete(released.th_index[1], k)).all()


def _model_vector(hs, syntax, equal, covariates=()):
    parts = [(g, hs[hs.school == g][ITEMS + list(covariates)]) for g in SCHOOLS]
    stats = [ordinal_stats(f, ITEMS, list(covariates)) for _, f in parts]
    lay = build_layout(syntax, tuple(SCHOOLS), stats[0].coding.n_categories, group_equal=equal)
    S = [group_fit._moments(lay, st) for st in stats]
    mv = GroupModelVector(lay, S, stats[0].pair_a, stats[0].pair_b)
    return lay, mv, stats, group_fit.start_values(syntax, lay, stats, parts, None)


def test_jacobian_matches_finite_differences(hs):
    data = hs.assign(sex=hs.sex.astype(float))
    syntax = HS + "speed ~ visual + sex\n"
    lay, mv, _, start = _model_vector(data, syntax, ("loadings", "thresholds"), ("sex",))
    theta = start + np.random.default_rng(3).normal(0, 0.05, lay.q)
    J = mv.jacobian(theta)
    h = 1e-6
    numeric = np.column_stack([(mv.sigma(theta + h * e) - mv.sigma(theta - h * e)) / (2 * h)
                               for e in np.eye(lay.q)])
    assert (lay.scale_index[1] >= 0).all()
    assert np.abs(J - numeric).max() < 1e-7


def test_satorra2000_traces_equal_the_difference_of_the_models_traces(hs):
    """At a common point, with Δ₀ = Δ₁K (the restricted model is the free one under constraints),
    tr(U₀Γ) − tr(U₁Γ) = tr(P⁻¹A'(AP⁻¹A')⁻¹AP⁻¹ N₁): the algebra of lav_test_diff_Satorra2000."""
    lay1, mv1, stats, start = _model_vector(hs, HS, ())
    lay0, _, _, _ = _model_vector(hs, HS, ("loadings",))
    K = np.zeros((lay1.q, lay0.q))
    for p1, p0 in zip(lay1.delta.params, lay0.delta.params):
        if p1.free >= 0:
            K[p1.free, p0.free] = 1.0
    for g in range(2):
        K[lay1.th_index[g], lay0.th_index[g]] = 1.0
    J1 = [mv1.jacobian_group(start, g) for g in range(2)]
    J0 = [j @ K for j in J1]
    w = [st.weight_diag for st in stats]
    gamma = [st.gamma for st in stats]
    n = np.array([st.n for st in stats], dtype=float)
    f = n / n.sum()

    def trace(J):
        return _traces(J, w, gamma, f, np.linalg.inv(information(J, w, f)))[0]

    from cluster_sem.model.ordinal.group_robust import GroupDWLSTest
    t1 = GroupDWLSTest(0.0, 0, tuple(J1), tuple(w), tuple(gamma), f)
    t0 = GroupDWLSTest(0.0, 6, tuple(J0), tuple(w), tuple(gamma), f)
    tr1, tr2 = satorra2000_traces(t1, t0)
    assert tr1 == pytest.approx(trace(J0) - trace(J1), rel=1e-8)
    assert 0 < tr2 and tr1 > 0


def test_lrt_is_the_scaled_shifted_difference(levels):
    d = lrt(levels["metric"], levels["configural"])
    assert d["df"] == 6
    unscaled = levels["metric"].fit["chi2"] - levels["configural"].fit["chi2"]
    assert d["chi2_unscaled"] == pytest.approx(unscaled)
    assert d["chi2"] == pytest.approx(unscaled * d["scaling_factor"] + d["shift"])
    assert d["chi2"] != pytest.approx(unscaled, rel=1e-3)


# -- the command --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def regions_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "regions.csv"
    simulate(SPEC, 400, 7).to_csv(path, index=False)
    return path


def test_invariance_with_wlsmv_end_to_end(regions_csv, tmp_path):
    out = tmp_path / "inv"
    assert main(["invariance", str(SPEC), str(regions_csv), "--out", str(out), "--quiet",
                 "--estimator", "WLSMV"]) == 0
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    inv = doc["invariance"]
    assert inv["estimator"] == "WLSMV"
    assert [lv["level"] for lv in inv["levels"]] == ["configural", "metric", "scalar"]
    assert inv["levels"][2]["group_equal"] == ["loadings", "thresholds"]
    assert all(lv["decision"] == "holds" for lv in inv["levels"])     # same population in every region
    assert inv["levels"][1]["delta"]["df"] == 6
    P = pd.DataFrame(inv["levels"][2]["parameters"])
    assert (P.op == "|").sum() == 2 * 8 * 4 and (P.op == "~*~").sum() == 16
    assert {m["construct"] for m in inv["latent_means"]} == {"TS", "RQ"}
    assert inv["path_differences"][0]["df"] == 1
    assert "satorra.2000" in doc["meta"]["conventions"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Scalar (+ thresholds)" in report and "scaled-shifted" in report


def test_a_category_empty_in_one_group_exits_2(regions_csv, tmp_path, capsys):
    df = pd.read_csv(regions_csv)
    inland = df.region.isin(["Jinhua", "Quzhou"])
    df.loc[inland & (df.ts2 == 1), "ts2"] = 2            # nobody inland answers 1 on ts2
    assert (df.ts2 == 1).any()
    data = tmp_path / "empty.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["invariance", str(SPEC), str(data), "--out", str(out), "--estimator", "WLSMV"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    for part in ("ts2", "category 1", "group 'inland'", "recode:"):
        assert part in err
    assert not out.exists()
