"""LMS's factored likelihood (m-dimensional per-case data, row blocks, threads) against its definition."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"


@pytest.fixture(scope="module")
def shipped():
    """The shipped example's LMS likelihood pieces and a parameter vector away from the linear optimum."""
    from cluster_sem.model.interaction import lms
    from cluster_sem.model.interaction.fit import interaction_syntax
    from cluster_sem.model.interaction.moments import quadrature_grid
    from cluster_sem.pipeline import FitOptions, stage_data, stage_spec
    spec, _ = stage_spec(SPEC)
    frame = stage_data(spec, pd.read_csv(DATA), FitOptions()).frame
    model, start = lms.model_and_start(interaction_syntax(spec), frame)
    data = lms.mixture_data(model, frame)
    grid = quadrature_grid(len(model.integrated), spacing=lms.grid_spacing(model, start, data))
    theta = start * 1.02 + 0.01
    theta[[r.free for r in model.free_rows() if r.matrix == "omega"]] = -0.2   # a real interaction
    return model, data, grid, theta


def _dense_loglik(model, data, grid, theta) -> float:
    """The definition: sum_i log sum_q w_q N(x_i; mean_q + M_q c_i, Sigma_q), one p-variate normal per node."""
    from cluster_sem.model.interaction.moments import conditional_moments
    mom = conditional_moments(model, theta[None], grid.nodes)
    logf = []
    for q in range(len(grid.weights)):
        chol = np.linalg.cholesky(mom.cov[0, q])
        r = data.x - mom.mean[0, q] - data.c @ mom.slope[0, q].T
        w = np.linalg.solve(chol, r.T)
        logf.append(-0.5 * (len(chol) * np.log(2 * np.pi) + 2 * np.log(np.diag(chol)).sum() + (w * w).sum(axis=0)))
    joint = np.array(logf) + np.log(grid.weights)[:, None]
    top = joint.max(axis=0)
    return float((top + np.log(np.exp(joint - top).sum(axis=0))).sum())


def test_factored_loglik_is_the_mixture_density(shipped):
    from cluster_sem.model.interaction import lms
    model, data, grid, theta = shipped
    lik = lms.MixtureLikelihood(model, data, grid)
    dense = _dense_loglik(model, data, grid, theta)
    assert lik.loglik(theta) == pytest.approx(dense, rel=1e-11, abs=0)
    assert lik.value_and_gradient(theta)[0] == pytest.approx(dense, rel=1e-11, abs=0)


def test_gradient_matches_central_differences_of_the_loglik(shipped):
    from cluster_sem.model.interaction import lms
    model, data, grid, theta = shipped
    lik = lms.MixtureLikelihood(model, data, grid)
    grad = lik.value_and_gradient(theta)[1]
    h = 1e-5
    numeric = np.array([(lik.loglik(theta + h * e) - lik.loglik(theta - h * e)) / (2 * h)
                        for e in np.eye(theta.size)])
    assert np.max(np.abs(grad - numeric)) <= 1e-6 * np.max(np.abs(grad))


@pytest.mark.parametrize("block, workers", [(37, 1), (37, 2), (1000, 2)])
def test_row_blocks_and_threads_give_the_whole_sample_numbers(shipped, block, workers):
    from cluster_sem.model.interaction import lms
    model, data, grid, theta = shipped
    whole = lms.MixtureLikelihood(model, data, grid)
    assert whole.block >= data.n                          # the example is one block
    split = lms.MixtureLikelihood(model, data, grid, workers=workers)
    split.block = block
    v0, g0 = whole.value_and_gradient(theta)
    v1, g1 = split.value_and_gradient(theta)
    assert v1 == pytest.approx(v0, rel=1e-12, abs=0)
    assert split.loglik(theta) == pytest.approx(v0, rel=1e-12, abs=0)
    assert np.max(np.abs(g1 - g0)) <= 1e-10 * np.max(np.abs(g0))
    assert np.allclose(split.posterior(theta), whole.posterior(theta), rtol=0, atol=1e-12)
