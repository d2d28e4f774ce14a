"""Simple slopes, Johnson–Neyman and conditional indirect effects against closed-form/hand values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cluster_sem.model.interaction.moderation import (Coefficients, conditional_indirect, johnson_neyman, lrt,
                                                       simple_slopes)


def test_simple_slopes_delta_method():
    out = simple_slopes(b=0.5, omega=-0.2, v_bb=0.01, v_oo=0.004, v_bo=0.001, sd_moderator=2.0)
    assert [r["at"] for r in out] == [-1, 0, 1]
    low = out[0]
    assert low["moderator_value"] == -2.0
    assert low["est"] == pytest.approx(0.5 + 0.4)
    assert low["se"] == pytest.approx(math.sqrt(0.01 + 4 * 0.004 - 4 * 0.001))
    assert low["ci_upper"] - low["est"] == pytest.approx(stats.norm.ppf(0.975) * low["se"])


def test_johnson_neyman_boundaries_have_z_equal_critical():
    b, om, vbb, voo, vbo = 0.3, -0.25, 0.01, 0.002, 0.0005
    interval, where = johnson_neyman(b, om, vbb, voo, vbo)
    assert where == "outside"
    for w in interval:
        z = (b + om * w) / math.sqrt(vbb + w * w * voo + 2 * w * vbo)
        assert abs(z) == pytest.approx(stats.norm.ppf(0.975), rel=1e-9)
    # an imprecise product with a strong main effect: significant only inside the interval
    interval, where = johnson_neyman(1.0, 0.01, 0.01, 0.01, 0.0)
    assert where == "inside" and interval[0] < 0 < interval[1]
    assert (1.0 + 0.01 * interval[1]) / math.sqrt(0.01 + interval[1] ** 2 * 0.01) == pytest.approx(stats.norm.ppf(0.975))


def test_lrt():
    out = lrt(-100.0, -103.0, 1)
    assert out["chi2"] == pytest.approx(6.0) and out["pvalue"] == pytest.approx(stats.chi2.sf(6.0, 1))


def test_conditional_indirect_and_imm():
    V = np.diag([0.01, 0.02, 0.005])
    coefs = Coefficients(("a", "b", "w"), np.array([0.4, 0.5, -0.2]), V)
    out = conditional_indirect(coefs, ["a", "b"], "b", "w", sd_moderator=1.5, draws=40000, seed=1)
    assert out["est"] == pytest.approx(0.4 * -0.2)
    assert out["se"] == pytest.approx(math.sqrt(0.2**2 * 0.01 + 0.4**2 * 0.005))  # delta method
    hi = out["conditional_indirect"][2]
    assert hi["moderator_value"] == 1.5 and hi["est"] == pytest.approx(0.4 * (0.5 - 0.3))
    # the Monte Carlo interval of a product of normals brackets the estimate and is seeded
    assert hi["ci_lower"] < hi["est"] < hi["ci_upper"]
    again = conditional_indirect(coefs, ["a", "b"], "b", "w", sd_moderator=1.5, draws=40000, seed=1)
    assert again == out
