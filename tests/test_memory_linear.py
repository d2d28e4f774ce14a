"""Memory grows at most linearly in n (issue 25): no step of ``fit`` holds an n × n or n × Q × p array.

Two kinds of checks:
* in process, per statistic: the bounded-memory form gives the numbers of the direct form to 1e-10, and its
  tracemalloc peak stays far below what the direct form allocates (Mardia's n × n matrix was 3.2 GB at
  n = 20,000; LMS's n × k² array of y y' 310 MB; the polychoric cell scores 9 GiB for 10 items of 300
  categories);
* end to end: ``python -m cluster_sem.cli fit`` on 100,000 simulated respondents under an address-space cap,
  and the growth of its peak RSS from 20,000 to 40,000 respondents.

The end-to-end runs use the shipped spec without its latent interaction (LMS costs ~0.35 s per likelihood
evaluation at n = 20,000 and ~260 evaluations, minutes at n = 100,000 — benchmarks/README.md "Scale"); the
interaction model's memory is checked in process instead.
"""
from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cluster_sem.blas import one_blas_thread
from cluster_sem.quality.normality import mardia

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
MiB = 1 << 20


def _peak(fn) -> int:
    """tracemalloc peak (bytes) of ``fn()`` — numpy's buffers are traced; one BLAS thread, as ``fit`` runs."""
    tracemalloc.start()
    try:
        with one_blas_thread():
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _shipped_frame():
    """The shipped example after the fit's own data stage (missing codes, reverse keys, listwise rows)."""
    from cluster_sem.pipeline import FitOptions, stage_data, stage_spec
    spec, _ = stage_spec(SPEC)
    return spec, stage_data(spec, pd.read_csv(DATA), FitOptions()).frame


# --- Mardia -------------------------------------------------------------------------------------------

def _mardia_direct(x: np.ndarray) -> tuple[float, float]:
    """semTools' definition with the n × n matrix G = D S⁻¹ D' (only for small n)."""
    n = len(x)
    d = x - x.mean(axis=0)
    g = d @ np.linalg.inv(d.T @ d / (n - 1)) @ d.T
    return float((g ** 3).sum() / n ** 2), float((np.diag(g) ** 2).sum() / n)


def test_mardia_matches_the_n_by_n_definition_on_the_shipped_data():
    spec, frame = _shipped_frame()
    x = frame[list(spec.items)].to_numpy(float)
    b1, b2 = _mardia_direct(x[~np.isnan(x).any(axis=1)])
    out = mardia(x)
    assert out["p"] == 42 and out["n"] == 128
    assert out["mardia_skewness"]["b1d"] == pytest.approx(b1, rel=1e-10, abs=0)
    assert out["mardia_kurtosis"]["b2d"] == pytest.approx(b2, rel=1e-10, abs=0)


def test_mardia_does_not_hold_an_n_by_n_matrix():
    x = np.random.default_rng(1).standard_normal((20_000, 42)) ** 3
    peak = _peak(lambda: mardia(x))
    assert peak < 40 * MiB, f"{peak / MiB:.0f} MiB (one n × n matrix is {20_000 ** 2 * 8 / MiB:.0f} MiB)"


# --- LMS / QML -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def interaction_likelihood():
    """The LMS likelihood of the shipped spec's interaction model and its start vector."""
    from cluster_sem.model.interaction import lms
    from cluster_sem.model.interaction.moments import quadrature_grid
    from cluster_sem.model.interaction.fit import interaction_syntax
    spec, frame = _shipped_frame()
    model, start = lms.model_and_start(interaction_syntax(spec), frame)
    data = lms.mixture_data(model, frame)
    grid = quadrature_grid(len(model.integrated), spacing=lms.grid_spacing(model, start, data))
    return model, data, grid, start


def test_lms_row_blocks_give_the_whole_sample_numbers(interaction_likelihood):
    from cluster_sem.model.interaction import lms
    model, data, grid, start = interaction_likelihood
    whole = lms.MixtureLikelihood(model, data, grid)
    blocks = lms.MixtureLikelihood(model, data, grid)
    blocks._yy, blocks.block = None, 37           # 4 blocks of 37 rows (the large-n path)
    for theta in (start, start * 1.02 + 0.01):
        v0, g0 = whole.value_and_gradient(theta)
        v1, g1 = blocks.value_and_gradient(theta)
        assert v1 == pytest.approx(v0, rel=1e-12)
        assert np.max(np.abs(g1 - g0)) <= 1e-10 * np.max(np.abs(g0))


def test_lms_evaluation_memory_is_bounded(interaction_likelihood):
    """20,000 cases: y y' of every case (k = 44: 310 MB) is never held, only one row block and Q × n arrays."""
    from cluster_sem.model.interaction import lms
    model, data, grid, start = interaction_likelihood
    rows = np.random.default_rng(2).integers(0, data.n, 20_000)
    big = lms.MixtureData(data.x[rows], data.c[rows] - data.c[rows].mean(axis=0))
    peak = _peak(lambda: lms.MixtureLikelihood(model, big, grid).value_and_gradient(start))
    k = big.x.shape[1] + big.c.shape[1]
    assert peak < 0.5 * 20_000 * k * k * 8, f"{peak / MiB:.0f} MiB"


def test_qml_row_blocks_give_the_whole_sample_numbers(interaction_likelihood, monkeypatch):
    from cluster_sem.model.interaction import qml
    model, data, _, start = interaction_likelihood
    lik = qml.QuasiLikelihood(model, data)
    thetas = np.vstack([start, start * 1.02 + 0.01])
    whole = lik.logliks(thetas)
    monkeypatch.setattr(qml, "_CASE_BUDGET", 100)   # 4 parameter vectors × 25 rows per block
    assert np.all(np.isfinite(whole))
    assert lik.logliks(thetas) == pytest.approx(whole, rel=1e-12)


# --- polychoric correlations ---------------------------------------------------------------------------

def _many_categories(n: int, items: int, k: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    f = rng.standard_normal(n)
    x = 0.7 * f[:, None] + 0.7 * rng.standard_normal((n, items))
    return pd.DataFrame(np.clip(np.round((x + 3) / 6 * k), 0, k).astype(int),
                        columns=[f"y{i}" for i in range(items)])


def test_polychoric_scores_do_not_hold_a_k_cubed_array_per_pair():
    """10 items with ~80 observed categories each at n = 300: the dense ∂log π/∂b arrays of every pair were
    2 × P × K² × (K+1) numbers (≈ 370 MB here; 9 GiB at 300 categories), A11⁻¹ was solved on a K³ broadcast
    per item, and Φ₂'s quadrature held (corners × 20 nodes); now the peak is a few dozen P × K² arrays."""
    from cluster_sem.model.ordinal.samplestats import ordinal_stats
    frame = _many_categories(300, 10, 120)
    k = int(frame.nunique().max())
    stats = {}
    peak = _peak(lambda: stats.setdefault("s", ordinal_stats(frame, list(frame.columns))))
    assert np.all(np.isfinite(stats["s"].correlation))
    assert peak < 20 * 45 * k * k * 8 < 45 * k ** 3 * 8, f"{peak / MiB:.0f} MiB for K = {k}"


def test_polychoric_compact_scores_equal_the_dense_ones():
    """The two bound scores each cell keeps are the nonzero entries of lavaan's dense score array."""
    from cluster_sem.model.ordinal.polychoric import fit_polychoric, pair_cells, pair_tables
    from cluster_sem.model.ordinal.categories import code_items
    from cluster_sem.model.ordinal.samplestats import pair_index
    from cluster_sem.model.ordinal.univariate import bounds_from_counts
    coding = code_items(_many_categories(300, 4, 8), [f"y{i}" for i in range(4)])
    ia, ib = pair_index(4)
    bounds = bounds_from_counts(coding.counts(), coding.n_categories)
    b1, b2 = bounds[ia, None, :], bounds[ib, None, :]
    tables = pair_tables(coding.codes, ia, ib, coding.k_max)
    cells = pair_cells(b1, b2, fit_polychoric(b1, b2, tables))
    eps = 1e-6
    for which, b in ((1, b1), (2, b2)):
        for t in range(1, b.shape[-1] - 1):             # each finite threshold, by central differences
            up, dn = b.copy(), b.copy()
            up[..., t] += eps
            dn[..., t] -= eps
            args_up = (up, b2) if which == 1 else (b1, up)
            args_dn = (dn, b2) if which == 1 else (b1, dn)
            rho = cells.rho
            with np.errstate(divide="ignore", invalid="ignore"):     # log 0 in empty corner cells
                num = (np.log(pair_cells(*args_up, rho).prob) - np.log(pair_cells(*args_dn, rho).prob)) / (2 * eps)
            lo = cells.score_lo1 if which == 1 else cells.score_lo2
            hi = cells.score_hi1 if which == 1 else cells.score_hi2
            ana = np.zeros_like(num)
            if which == 1:
                ana[..., t, :] += lo[..., t, :]
                ana[..., t - 1, :] += hi[..., t - 1, :]
            else:
                ana[..., :, t] += lo[..., :, t]
                ana[..., :, t - 1] += hi[..., :, t - 1]
            ok = cells.prob > 1e-4                       # differences of log π are exact enough there
            assert np.allclose(ana[ok], num[ok], rtol=1e-5, atol=1e-5)


# --- MLR / FIML casewise scores -------------------------------------------------------------------------

def test_mlr_casewise_scores_in_row_blocks_give_the_same_fit(monkeypatch):
    """MLR's casewise scores hold p² numbers per case (G_i = ∂ℓ_i/∂Σ) only for one row block at a time."""
    import json

    from cluster_sem.model import casewise
    from cluster_sem.model.fitted_casewise import fit_model_casewise
    ref = Path(__file__).parent / "reference"
    syntax = json.loads((ref / "lavaan_reference.json").read_text())["hs_cfa"]["model"]
    data = pd.read_csv(ref / "HolzingerSwineford1939_missing.csv")
    whole = fit_model_casewise(syntax, data, estimator="MLR")
    monkeypatch.setattr(casewise, "_SCORE_BUDGET", 81 * 7)   # 7 cases per block
    blocks = fit_model_casewise(syntax, data, estimator="MLR")
    assert np.allclose(blocks.parameters.se, whole.parameters.se, rtol=1e-10, atol=0)
    assert blocks.fit["chi2_scaled"] == pytest.approx(whole.fit["chi2_scaled"], rel=1e-10)


def test_fiml_observed_information_in_pattern_blocks_is_the_same(monkeypatch):
    """The h1 observed information sums per-pattern p × p matrices (one pattern per case when blanks are
    random) over blocks of patterns: the same matrix as over all patterns at once."""
    from cluster_sem.model import fiml
    from cluster_sem.model.missing import Patterns
    data = pd.read_csv(Path(__file__).parent / "reference" / "HolzingerSwineford1939_missing.csv")
    x = data[[f"x{i}" for i in range(1, 10)]].to_numpy(float)
    pats = Patterns.from_array(x[~np.isnan(x).all(axis=1)])
    mu, sigma = np.nanmean(x, axis=0), np.ma.cov(np.ma.masked_invalid(x), rowvar=False).data
    whole = fiml.h1_observed_information(pats, mu, sigma)
    monkeypatch.setattr(fiml, "_PATTERN_BLOCK", 81 * 3)       # 3 patterns per block
    assert len(pats.patterns) > 3
    assert np.allclose(fiml.h1_observed_information(pats, mu, sigma), whole, rtol=1e-12, atol=1e-14)


# --- end to end: the CLI under an address-space cap ---------------------------------------------------

def _spec_without_interaction(tmp_path: Path) -> Path:
    """The shipped spec without its latent interaction (its population keeps it for the simulator)."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec.pop("interactions")
    path = tmp_path / "no_interaction.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _simulate(spec: Path, n: int, out: Path) -> Path:
    from cluster_sem.simulate import simulate_to_csv
    return simulate_to_csv(spec, n, 1, out)


_CAPPED = """
import resource, runpy, sys
cap, peak_file = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
sys.argv = ["cluster-sem"] + sys.argv[3:]
try:
    runpy.run_module("cluster_sem.cli", run_name="__main__")
finally:
    with open(peak_file, "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def _fit(spec: Path, data: Path, out: Path, cap: int) -> tuple[subprocess.CompletedProcess, int]:
    """``cluster-sem fit`` in a child with RLIMIT_AS = cap; (process, the child's own peak RSS in bytes)."""
    peak = out.with_name(out.name + ".peak")
    proc = subprocess.run([sys.executable, "-c", _CAPPED, str(cap), str(peak), "fit", str(spec), str(data),
                           "--out", str(out), "--bootstrap", "0", "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    return proc, int(peak.read_text()) * 1024 if peak.is_file() else 0


def test_fit_of_100k_respondents_runs_under_a_3_gib_cap(tmp_path):
    spec = _spec_without_interaction(tmp_path)
    data = _simulate(spec, 100_000, tmp_path / "d100k.csv")
    proc, _ = _fit(spec, data, tmp_path / "out", 3 << 30)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "out" / "results.json").is_file()


def test_peak_memory_grows_linearly_in_n(tmp_path):
    """Peak RSS at 20,000 and at 40,000 respondents < 2.5× that at 10,000 (measured ~170, ~185, ~235 MB:
    ~150 MB of imports and templates plus a few copies of the data; one n × n matrix at 10,000 is 0.8 GB).

    Each size runs in a fresh child that reports its own peak.  Differences of peaks are not compared: which
    stage peaks changes with n, so they jump by ±30 MB from run to run."""
    spec = _spec_without_interaction(tmp_path)
    peaks = {}
    for n in (10_000, 20_000, 40_000):
        proc, peaks[n] = _fit(spec, _simulate(spec, n, tmp_path / f"d{n}.csv"), tmp_path / f"out{n}", 3 << 30)
        assert proc.returncode == 0, proc.stderr[-2000:]
    in_mib = {n: p // MiB for n, p in peaks.items()}
    assert peaks[20_000] < 2.5 * peaks[10_000], in_mib
    assert peaks[40_000] < 2.5 * peaks[10_000], in_mib
