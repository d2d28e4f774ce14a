"""Multigroup MLR (sandwich SEs, Yuan–Bentler Mplus χ², robust CFI/TLI/RMSEA, Satorra–Bentler 2001 Δ-tests)
against lavaan's invariance_MLR levels (tests/reference/lavaan_reference_groups.json)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cluster_sem.model.fitted import fit_model
from cluster_sem.model.lrt import lrt

REF_DIR = Path(__file__).parent / "reference"
GROUPS = json.loads((REF_DIR / "lavaan_reference_groups.json").read_text())
DATA = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")
MEAS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
NAMES = ["Pasteur", "Grant-White"]
LEVELS = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts"),
          "strict": ("loadings", "intercepts", "residuals")}


@pytest.fixture(scope="module")
def fits():
    out, previous = {}, None
    for name, eq in LEVELS.items():
        previous = fit_model(MEAS, DATA, group="school", groups=NAMES, group_equal=eq, estimator="MLR",
                             start_fit=previous)
        out[name] = previous
    return out


@pytest.mark.parametrize("level", list(LEVELS))
def test_mlr_level_matches_lavaan(fits, level):
    fit, ref = fits[level], GROUPS["invariance_MLR"][level]
    for key, value in ref["fit"].items():
        ours = {"chisq": "chi2", "ntotal": "n", "rmsea.ci.lower": None, "rmsea.ci.upper": None}.get(
            key, key.replace("chisq", "chi2").replace(".", "_"))
        if ours is None or value is None:
            continue
        if key in ("chisq", "chisq.scaled"):
            assert fit.fit[ours] == pytest.approx(value, rel=1e-3), key
        elif key in ("aic", "bic"):
            assert fit.fit[ours] == pytest.approx(value, abs=0.5), key
        else:
            assert fit.fit[ours] == pytest.approx(value, abs=2e-3), key
    P = fit.parameters
    for r in ref["params"]:
        m = P[(P.lhs == r["lhs"]) & (P.op == r["op"]) & (P.rhs == r["rhs"]) & (P.group == NAMES[r["group"] - 1])]
        assert len(m) == 1, r
        assert m.iloc[0]["est"] == pytest.approx(r["est"], abs=1e-3), r
        assert m.iloc[0]["se"] == pytest.approx(r["se"], abs=1e-3), r
        assert m.iloc[0]["std_all"] == pytest.approx(r["std.all"], abs=1e-3), r


@pytest.mark.parametrize("level", ["metric", "scalar", "strict"])
def test_satorra_bentler_deltas(fits, level):
    names = list(LEVELS)
    out = lrt(fits[level], fits[names[names.index(level) - 1]])
    ref = GROUPS["invariance_MLR"][level]["delta"]
    assert out["chi2"] == pytest.approx(ref["chisq"], rel=1e-3)
    assert out["df"] == ref["df"]
    assert out["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-3)


def test_mlr_invariance_decisions_read_robust_indices():
    """Under MLR the ΔCFI/ΔRMSEA rule reads lavaan's .robust CFI/RMSEA (as the fit verdicts do), not the
    plain ML ones: each level's Δ equals the difference of lavaan's cfi.robust / rmsea.robust."""
    from cluster_sem.invariance.engine import GroupedData, fit_levels

    frame = DATA.assign(school=DATA.school.astype(str))
    levels = fit_levels(MEAS, GroupedData(frame, "school", tuple(NAMES)), estimator="MLR")
    ref = GROUPS["invariance_MLR"]
    for before, level in zip(levels, levels[1:]):
        r0, r1 = ref[before.name]["fit"], ref[level.name]["fit"]
        assert level.delta["cfi"] == pytest.approx(r1["cfi.robust"] - r0["cfi.robust"], abs=1e-4), level.name
        assert level.delta["rmsea"] == pytest.approx(r1["rmsea.robust"] - r0["rmsea.robust"], abs=1e-4), level.name
        # the plain differences are different numbers: the test can fail if the rule slips back
        assert abs((r1["cfi"] - r0["cfi"]) - (r1["cfi.robust"] - r0["cfi.robust"])) > 1e-4
