"""Monte Carlo CIs for defined effects (Selig & Preacher 2008)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from cluster_sem.bootstrap import monte_carlo_ci
from cluster_sem.model.fitted import fit_model

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())


@pytest.fixture(scope="module")
def fit():
    syntax = REF["poldem_sem"]["model"].rstrip() + "\nlinear := c - 0.5*a + 2*b\n"
    return fit_model(syntax, pd.read_csv(REF_DIR / "PoliticalDemocracy.csv"))


def test_linear_effect_matches_delta_method(fit):
    """For a linear function of θ̂ the MC draws are exactly normal with the delta-method SD, so the MC
    percentile CI equals est ± z·SE up to Monte Carlo error: the SE of a 2.5 % quantile of 20 000 normal
    draws is √(p(1−p)/N)/φ(z) ≈ 0.019·SE; we allow 0.06·SE (3 MC SEs)."""
    rec = next(r for r in monte_carlo_ci(fit, seed=5, level=0.95) if r["name"] == "linear")
    row = fit.parameters[(fit.parameters.op == ":=") & (fit.parameters.lhs == "linear")].iloc[0]
    z = stats.norm.ppf(0.975)
    assert rec["est"] == pytest.approx(row.est, abs=1e-10)
    assert rec["se"] == pytest.approx(row.se, rel=0.03)
    assert rec["ci"][0] == pytest.approx(row.est - z * row.se, abs=0.06 * row.se)
    assert rec["ci"][1] == pytest.approx(row.est + z * row.se, abs=0.06 * row.se)


def test_seeded_fast_and_sensible_for_indirect(fit):
    t0 = time.perf_counter()
    a = monte_carlo_ci(fit, draws=20000, seed=3, level=0.95)
    assert time.perf_counter() - t0 < 1.0
    b = monte_carlo_ci(fit, draws=20000, seed=3, level=0.95)
    assert a == b
    ind = next(r for r in a if r["name"] == "indirect")
    # lavaan's bootstrap percentile CI for the same effect is [0.567, 1.976]; MC should be in that region
    assert 0.4 < ind["ci"][0] < 0.75 and 1.8 < ind["ci"][1] < 2.2
    assert ind["ci"][0] < ind["est"] < ind["ci"][1]
    narrower = next(r for r in monte_carlo_ci(fit, seed=3, level=0.90) if r["name"] == "indirect")
    assert ind["ci"][0] < narrower["ci"][0] and narrower["ci"][1] < ind["ci"][1]
