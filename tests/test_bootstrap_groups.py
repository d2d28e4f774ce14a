"""Multigroup bootstrap: cases resampled within groups (n_g kept), batched fits equal single refits of the
same resamples, bootstrap SEs agree with the expected-information SEs within Monte Carlo error."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.bootstrap import run_bootstrap
from cluster_sem.bootstrap.groups import group_resample_indices
from cluster_sem.model.fitted import fit_model

REF_DIR = Path(__file__).parent / "reference"
HS = pd.read_csv(REF_DIR / "HolzingerSwineford1939.csv")
SYNTAX = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
          "textual ~ a*visual\nspeed ~ b*textual + visual\nind := a*b\n")
GROUPS = ("Pasteur", "Grant-White")


@pytest.fixture(scope="module")
def fitted():
    fit = fit_model(SYNTAX, HS, group="school", groups=GROUPS, group_equal=["loadings", "intercepts"])
    return fit, run_bootstrap(fit, HS, B=120, seed=11)


def test_resamples_stay_within_groups():
    idx = group_resample_indices((156, 145), 50, 3)
    assert [i.shape for i in idx] == [(50, 156), (50, 145)]
    assert all(i.min() >= 0 and i.max() < n for i, n in zip(idx, (156, 145)))
    again = group_resample_indices((156, 145), 50, 3)
    assert all(np.array_equal(a, b) for a, b in zip(idx, again))


def test_batched_replicates_equal_single_refits(fitted):
    fit, boot = fitted
    assert boot.n_converged == boot.B
    idx = group_resample_indices(fit.sample.n, boot.B, 11)
    for r in (0, 57):
        parts = [pd.DataFrame(x[i[r]], columns=list(fit.sample.ov)).assign(school=g)
                 for x, i, g in zip(fit.sample.data, idx, GROUPS)]
        ref = fit_model(SYNTAX, pd.concat(parts, ignore_index=True), group="school", groups=GROUPS,
                        group_equal=["loadings", "intercepts"], start_fit=fit)
        assert np.abs(ref.theta - boot.estimates[r]).max() < 1e-5


def test_bootstrap_se_close_to_expected_information_se(fitted):
    fit, boot = fitted
    se = fit.parameters.se.to_numpy()
    free = se > 0
    ratio = boot.param_se[free] / se[free]
    assert 0.75 < np.median(ratio) < 1.3            # B = 120: Monte Carlo error ~ 1/sqrt(2B) ≈ 6 %
    (ind,) = boot.defined
    assert ind["name"] == "ind" and ind["perc"][0] < ind["est"] < ind["perc"][1]
