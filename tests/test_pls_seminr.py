"""PLS-SEM and PLSc against R seminr 2.3.1 on its `mobi` data (tests/reference/pls/make_reference_pls.R):
every path, loading, weight, R², HTMT, reliability and the iteration count, to 1e-6; the bootstrap SDs of
the paths within Monte Carlo error of seminr's 2,000 resamples; and bootstrap determinism (same seed →
identical numbers; --jobs 1 and 2 identical; a batched block = single fits of its resamples)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.pls.algorithm import correlations
from cluster_sem.pls.bootstrap import BootCore, run_bootstrap
from cluster_sem.pls.estimate import estimate
from cluster_sem.pls.model import from_spec
from cluster_sem.pls.quality import alpha, htmt, htmt_pairs, rho_c_ave
from cluster_sem.pls.statistics import Layout
from cluster_sem.spec.loader import load_spec

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference/pls/pls_reference.json").read_text())
DATA = pd.read_csv(HERE / "reference/pls/mobi.csv")
SPEC = HERE / "specs/pls_mobi.yaml"
TOL = 1e-6


def _spec():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # Value has two items (a warning, not an error)
        return load_spec(SPEC, pls=True)


@pytest.fixture(scope="module", params=["pls", "plsc"])
def fitted(request):
    variant = request.param
    model = from_spec(_spec(), consistent=variant == "plsc")
    S = correlations(DATA[list(model.items)].to_numpy(float))
    return variant, model, S, estimate(S[None], model, consistent=variant == "plsc")


def _cases(part: str):
    return [(v, key) for v in ("pls", "plsc") for key in REF[v][part]]


def test_spec_matches_reference_model():
    model = from_spec(_spec())
    want = {k: [v] if isinstance(v, str) else v for k, v in REF["constructs"].items()}
    assert {c: list(b) for c, b in zip(model.constructs, model.blocks)} == want
    assert {f"{d}~{s}" for s, d, _ in model.paths} == set(REF["pls"]["paths"])


def test_paths(fitted):
    variant, model, _, est = fitted
    for key, want in REF[variant]["paths"].items():
        to, src = key.split("~")
        assert est.paths[0, model.index(src), model.index(to)] == pytest.approx(want, abs=TOL), key


@pytest.mark.parametrize("part", ["loadings", "weights"])
def test_outer(fitted, part):
    variant, model, _, est = fitted
    arr = est.loadings if part == "loadings" else est.weights
    for key, want in REF[variant][part].items():
        construct, item = key.split("=~")
        assert arr[0, model.items.index(item), model.index(construct)] == pytest.approx(want, abs=TOL), key


def test_r2_and_iterations(fitted):
    variant, model, _, est = fitted
    for construct, want in REF[variant]["r2"].items():
        assert est.r2[0, model.index(construct)] == pytest.approx(want, abs=TOL), construct
    assert int(est.iterations[0]) == REF[variant]["iterations"]
    assert bool(est.converged[0])


def test_reliability(fitted):
    variant, model, S, est = fitted
    ref = REF[variant]["reliability"]
    a, rc = alpha(S, model), rho_c_ave(est.loadings[0], model)
    for c in model.constructs:
        assert a[c] == pytest.approx(ref["alpha"][c], abs=TOL), c
        assert est.rho_a[0, model.index(c)] == pytest.approx(ref["rhoA"][c], abs=TOL), c
        assert rc[c][0] == pytest.approx(ref["rhoC"][c], abs=TOL), c
        assert rc[c][1] == pytest.approx(ref["AVE"][c], abs=TOL), c


def test_htmt(fitted):
    variant, model, S, _ = fitted
    pairs = htmt_pairs(model, model.constructs)
    values = htmt(S[None], model, pairs)[0]
    for key, want in REF[variant]["htmt"].items():
        assert values[pairs.index(tuple(key.split("-")))] == pytest.approx(want, abs=TOL), key


def _layout(consistent: bool = False) -> tuple[Layout, np.ndarray]:
    spec = _spec()
    model = from_spec(spec, consistent=consistent)
    layout = Layout.of(model, consistent=consistent, scheme="path", htmt_constructs=model.constructs,
                       indirect=tuple((i.name, tuple(i.path)) for i in spec.indirect), total=())
    return layout, DATA[list(model.items)].to_numpy(float)


@pytest.fixture(scope="module")
def boot2000():
    layout, X = _layout()
    return layout, run_bootstrap(BootCore(X, layout), 2000, 123)


def test_bootstrap_sd_within_monte_carlo_error(boot2000):
    """seminr's SDs come from other resamples: with B = 2000 the SD of an SD estimate is ~1.6 % (normal
    theory), so 10 % is a loose bound; the CI limits agree within a quarter of the SD."""
    layout, (t, _) = boot2000
    sd = t.std(axis=0, ddof=1)
    for j, (src, dst, _) in enumerate(layout.paths):
        ref = next(r for r in REF["pls"]["bootstrap_paths"] if r["path"] == f"{src}  ->  {dst}")
        assert sd[j] == pytest.approx(ref["boot_sd"], rel=0.10), (src, dst)
        lo, hi = np.quantile(t[:, j], [0.025, 0.975])
        assert abs(lo - ref["ci_lower"]) < 0.25 * ref["boot_sd"] and abs(hi - ref["ci_upper"]) < 0.25 * ref["boot_sd"]


def test_bootstrap_same_seed_identical_and_jobs_identical(boot2000):
    layout, (t, conv) = boot2000
    _, X = _layout()
    core = BootCore(X, layout)
    again, _ = run_bootstrap(core, 600, 123, jobs=2)
    assert np.array_equal(again, t[:600], equal_nan=True)      # a shorter run is a prefix, jobs 2 = jobs 1
    other, _ = run_bootstrap(core, 300, 124)
    assert not np.allclose(other, t[:300])


@pytest.mark.parametrize("consistent", [False, True])
def test_batched_block_equals_single_fits(consistent):
    """Replicates iterated together stop at their own iteration: each equals its own single fit."""
    from cluster_sem.bootstrap.resample import block_indices
    layout, X = _layout(consistent)
    idx = block_indices(X.shape[0], 40, 7, 0)
    _, batched = layout.estimate(correlations(X[idx]))
    for r in range(0, 40, 7):
        _, single = layout.estimate(correlations(X[idx[r]])[None])
        np.testing.assert_allclose(batched[r], single[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("consistent", [False, True])
def test_batched_replicates_equal_seminr_refits(consistent):
    """30 resamples estimated in one batch equal seminr's refits of the same resamples (the 0.2.1 port of
    seminr 2.3's bootstrap_model with injected indices; tests/reference/pls/make_reference_pls_boot.py)."""
    ref = json.loads((HERE / "reference/pls/pls_boot_reference.json").read_text())
    layout, X = _layout(consistent)
    model = layout.model
    est = estimate(correlations(X[np.array(ref["indices"])]), model, consistent=consistent)
    for r, want in enumerate(ref["plsc" if consistent else "pls"]):
        for key, value in want["paths"].items():
            to, src = key.split("~")
            assert est.paths[r, model.index(src), model.index(to)] == pytest.approx(value, abs=1e-9), (r, key)
        for part, arr in (("loadings", est.loadings), ("weights", est.weights)):
            for key, value in want[part].items():
                c, i = key.split("=~")
                assert arr[r, model.items.index(i), model.index(c)] == pytest.approx(value, abs=1e-9), (r, key)
