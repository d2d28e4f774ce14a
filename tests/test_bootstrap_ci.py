"""Bootstrap CI formulas (lavaan's perc and bca.simple) and the PolDem CIs against lavaan's reference run."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cluster_sem.bootstrap import run_bootstrap
from cluster_sem.bootstrap.ci import bc_ci, bootstrap_se, norm_inter, percentile_ci
from cluster_sem.model.fitted import fit_model

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_reference.json").read_text())


def test_norm_inter_integer_rank_is_an_order_statistic():
    t = np.random.default_rng(1).permutation(np.arange(1.0, 1000.0))   # R = 999: (R+1)·0.025 = 25
    lo, hi = percentile_ci(t, 0.95)
    # (1 − 0.95)/2 is 0.025000000000000022 in floating point (in R too), hence approx for the lower limit
    assert lo == pytest.approx(25.0, abs=1e-9) and hi == 975.0


def test_norm_inter_interpolates_on_the_normal_scale():
    t = np.arange(1.0, 401.0)                     # R = 400, (R+1)·0.025 = 10.025 → between t(10), t(11)
    z = stats.norm.ppf
    expected = 10 + (z(0.025) - z(10 / 401)) / (z(11 / 401) - z(10 / 401)) * (11 - 10)
    assert norm_inter(t, [0.025])[0] == pytest.approx(expected, abs=1e-12)
    assert 10.0 < expected < 10.1
    # R's quantile(type = 7) is available too and equals numpy's default
    assert percentile_ci(t, 0.95, method="type7") == pytest.approx(tuple(np.quantile(t, [0.025, 0.975])))


def test_bc_hand_computed():
    t = np.arange(1.0, 401.0)
    # 240 of 400 replicates below the estimate: z0 = Φ⁻¹(0.6) = 0.2533471
    z0 = 0.2533471031357997
    lo_p = stats.norm.cdf(2 * z0 - 1.959963984540054)    # 0.0730744…
    hi_p = stats.norm.cdf(2 * z0 + 1.959963984540054)    # 0.9931810…
    assert lo_p == pytest.approx(0.0730744, abs=1e-7) and hi_p == pytest.approx(0.9931810, abs=1e-7)
    # norm.inter by hand: rk = 401·p; lower rk = 29.30 → t(29)..t(30); upper rk = 398.27 → t(398)..t(399)
    z = stats.norm.ppf
    lo = 29 + (z(lo_p) - z(29 / 401)) / (z(30 / 401) - z(29 / 401))
    hi = 398 + (z(hi_p) - z(398 / 401)) / (z(399 / 401) - z(398 / 401))
    assert bc_ci(t, 240.5, 0.95) == pytest.approx((lo, hi), abs=1e-10)
    # no bias (half below) → BC equals the percentile interval
    assert bc_ci(t, 200.5, 0.95) == pytest.approx(percentile_ci(t, 0.95), abs=1e-12)
    # no spread → the estimate
    assert bc_ci(np.ones(50), 1.0) == (1.0, 1.0)


def test_bootstrap_se_is_sd_with_n_minus_1_and_drops_failed():
    t = np.array([1.0, 2.0, 4.0, np.nan])
    assert bootstrap_se(t) == pytest.approx(np.std([1, 2, 4], ddof=1))


@pytest.fixture(scope="module")
def poldem_boot():
    df = pd.read_csv(REF_DIR / "PoliticalDemocracy.csv")
    fit = fit_model(REF["poldem_sem"]["model"], df)
    return fit, run_bootstrap(fit, df, B=2000, seed=2026, jobs=1)


def _quantile_mc_se(t: np.ndarray, p: float, B: int) -> float:
    """Monte Carlo SE of a bootstrap p-quantile: √(p(1−p)/B) / f(q), with the density f estimated from
    our own replicates by a central difference of quantiles, f ≈ 2h / (Q(p+h) − Q(p−h)), h = 0.01."""
    h = 0.01
    dens = 2 * h / (np.quantile(t, p + h) - np.quantile(t, p - h))
    return np.sqrt(p * (1 - p) / B) / dens


def test_poldem_percentile_ci_matches_lavaan_within_monte_carlo_error(poldem_boot):
    """lavaan's run and ours use different random resamples, so the CI limits differ by Monte Carlo error
    only.  Each limit is a 2.5 %/97.5 % quantile of B = 2000 replicates with MC SE s (estimated as in
    ``_quantile_mc_se``, ≈ 0.02–0.03 here); the difference of two independent runs has SE √2·s, and we
    allow 3 of those (a false alarm has probability ~0.3 % per limit).  The bootstrap SE (an SD of B
    replicates) has relative MC error ≈ 1/√(2B) = 1.6 %; two runs differ by √2 of that; we allow 3×."""
    fit, boot = poldem_boot
    t_all = boot.defined_estimates[boot.converged]
    for ref in REF["poldem_bootstrap2000_perc"]:
        rec = next(d for d in boot.defined if d["name"] == ref["lhs"])
        col = t_all[:, [d["name"] for d in boot.defined].index(ref["lhs"])]
        assert rec["est"] == pytest.approx(ref["est"], abs=1e-5)
        for p, ours, theirs in ((0.025, rec["perc"][0], ref["ci.lower"]), (0.975, rec["perc"][1], ref["ci.upper"])):
            tol = 3 * np.sqrt(2) * _quantile_mc_se(col, p, len(col))
            assert 0.03 < tol < 0.2                      # sanity of the tolerance itself
            assert abs(ours - theirs) < tol, (ref["lhs"], p, ours, theirs, tol)
        assert rec["se"] == pytest.approx(ref["se"], rel=3 * np.sqrt(2) / np.sqrt(2 * len(col)))
        assert rec["bc"][0] < rec["est"] < rec["bc"][1]


def test_poldem_counts_inadmissible_like_lavaan(poldem_boot):
    fit, boot = poldem_boot
    # lavaan keeps them and warns about 657 of 2000; ours counts the same kind of cases (Heywood etc.)
    assert boot.n_converged + boot.n_nonconverged == boot.B == 2000
    assert 500 < boot.n_inadmissible < 800
    assert boot.n_inadmissible == int((boot.converged & ~boot.admissible).sum())
    # inadmissible replicates are kept: the CI uses every converged replicate
    assert boot.n_converged > 2000 - 10
    assert len(boot.param_se) == len(fit.parameters)
    fixed = [i for i, p in enumerate(fit.partable.params) if p.free < 0]
    assert np.all(boot.param_se[fixed] == 0)
    assert np.all(boot.param_se[len(fit.partable.params):] > 0)
    assert "excluded" in boot.rule and "kept" in boot.rule
