"""Reliability and validity against semTools (compRelSEM, AVE, htmt) on HolzingerSwineford1939, and
hand-checkable small cases for α, Harman and Fornell–Larcker."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.quality import (cronbach_alpha, fornell_larcker, fornell_larcker_violations, harman_single_factor,
                                 htmt, htmt_flags, item_descriptives, measurement_quality)

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())["hs_cfa"]
HS = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")
CONSTRUCTS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


def lavaan_inputs():
    """Loadings and factor variances from lavaan's own estimates; S with divisor N (lavaan's)."""
    rows = REF["params"]
    loadings = {c: pd.Series({r["rhs"]: r["est"] for r in rows if r["op"] == "=~" and r["lhs"] == c}) for c in CONSTRUCTS}
    psi = pd.DataFrame(0.0, index=list(CONSTRUCTS), columns=list(CONSTRUCTS))
    for r in rows:
        if r["op"] == "~~" and r["lhs"] in CONSTRUCTS:
            psi.loc[r["lhs"], r["rhs"]] = psi.loc[r["rhs"], r["lhs"]] = r["est"]
    items = [i for v in CONSTRUCTS.values() for i in v]
    S = HS[items].cov(ddof=0)
    return loadings, psi, S


def test_omega_and_ave_match_semtools():
    loadings, psi, S = lavaan_inputs()
    q = measurement_quality(loadings, psi, S, HS)
    for c in CONSTRUCTS:
        assert q[c]["omega"] == pytest.approx(REF["omega"][c], abs=1e-3)
        assert q[c]["ave"] == pytest.approx(REF["ave"][c], abs=1e-3)


def test_htmt_matches_semtools():
    table = htmt(HS, CONSTRUCTS)
    assert np.allclose(table.to_numpy(), np.array(REF["htmt"]), atol=1e-4)
    assert htmt_flags(table) == []


def test_alpha_matches_the_covariance_formula():
    items = HS[["x1", "x2", "x3"]]
    C = items.cov().to_numpy()
    k = 3
    expected = k / (k - 1) * (1 - np.trace(C) / C.sum())
    assert cronbach_alpha(items) == pytest.approx(expected, abs=1e-12)
    # parallel items with known reliability: alpha of k identical columns is 1
    same = pd.DataFrame({"a": HS.x1, "b": HS.x1, "c": HS.x1})
    assert cronbach_alpha(same) == pytest.approx(1.0)


def test_harman_share_on_one_factor_data():
    rng = np.random.default_rng(3)
    f = rng.normal(size=20000)
    data = pd.DataFrame({f"i{j}": 0.8 * f + 0.6 * rng.normal(size=20000) for j in range(6)})
    res = harman_single_factor(data)
    # correlation .64 between all items → first eigenvalue 1 + 5·.64 = 4.2 of 6
    assert res.first_factor_share == pytest.approx(4.2 / 6, abs=0.01)
    assert res.n_factors_eigen_gt_1 == 1


def test_fornell_larcker_diagonal_and_violations():
    corr = pd.DataFrame([[1, 0.9], [0.9, 1]], index=["A", "B"], columns=["A", "B"])
    table = fornell_larcker({"A": 0.64, "B": 0.49}, corr)
    assert table.loc["A", "A"] == pytest.approx(0.8) and table.loc["B", "B"] == pytest.approx(0.7)
    assert fornell_larcker_violations(table) == [("A", "B", 0.9)]


def test_item_descriptives_match_known_values():
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5, None]})
    d = item_descriptives(df, ["a"]).iloc[0]
    assert d["n"] == 5 and d["mean"] == 3 and d["sd"] == pytest.approx(np.sqrt(2.5))
    assert d["skewness"] == pytest.approx(0.0) and d["kurtosis"] == pytest.approx(-1.2)
    assert d["pct_missing"] == pytest.approx(100 / 6)
