"""Memory grows at most linearly in n (issue 25): no step of any command holds an n × n or n × Q × p array.

Three kinds of checks:
* in process, per statistic: the bounded-memory form gives the numbers of the direct form to 1e-10, and its
  tracemalloc peak stays far below what the direct form allocates (Mardia's n × n matrix was 3.2 GB at
  n = 20,000; LMS's n × k² array of y y' 310 MB; the polychoric cell scores 9 GiB for 10 items of 300
  categories; FIML's per-pattern cross-products p² numbers per case when blanks are random, and MLR's
  casewise h1 scores n × p² numbers);
* every command (fit, FIML, MLR, WLSMV with controls, invariance, bootstrap, power, pls, cmb) as
  ``python -m cluster_sem.cli`` on 25,000 simulated respondents of a small spec under a 1.25 GiB
  address-space cap: one n × n array of doubles is 4.7 GiB, so any comes back as a failure;
* ``fit`` of the shipped spec on 100,000 respondents under a 3 GiB cap, and the growth of its peak RSS from
  10,000 to 40,000 respondents.

The shipped-spec runs leave out its latent interaction (LMS costs ~0.35 s per likelihood evaluation at
n = 20,000 and ~260 evaluations, minutes at n = 100,000 — benchmarks/README.md "Scale"); the interaction
model's memory is checked in process instead.
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


def test_wlsmv_with_controls_sums_gamma_over_row_blocks(monkeypatch):
    """With controls (conditional.x) the casewise influence ψ has a column per statistic (~1,100 at 42 items);
    Γ = N Σ ψ_i ψ_i', its diagonal (bootstrap weights) and the cluster-robust Γ are summed over row blocks of
    ψ.  Blocks of 3 cases (and pair chunks of 1 pair) give the single-block numbers."""
    from cluster_sem.model.ordinal import conditional
    from cluster_sem.model.ordinal.categories import code_items
    from cluster_sem.model.ordinal.samplestats import ordinal_stats, pair_index
    data = pd.read_csv(Path(__file__).parent / "reference" / "HolzingerSwineford1939_ordinal.csv")
    items = [f"x{i}" for i in range(1, 7)]
    rng = np.random.default_rng(6)
    frame = data[items].assign(age=rng.normal(13, 1, len(data)).round(1), sex=rng.integers(0, 2, len(data)) * 1.0)
    cluster = np.arange(len(frame)) % 29
    weights = rng.multinomial(len(frame), np.ones(len(frame)) / len(frame)).astype(float)
    coding, (ia, ib), X = code_items(frame, items), pair_index(len(items)), frame[["age", "sex"]].to_numpy()

    def run():
        st = ordinal_stats(frame, items, ["age", "sex"], cluster=cluster)
        diag = conditional.conditional_stats(coding, X, st.correlation[ia, ib], ia, ib, weights=weights,
                                             diagonal_only=True)[4]
        return st.gamma, st.gamma_robust, diag
    whole = run()
    monkeypatch.setattr(conditional, "_CASE_PAIRS", 3 * len(ia))
    for a, b in zip(run(), whole):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-13 * np.abs(b).max())


def test_wlsmv_gamma_without_controls_sums_row_blocks(monkeypatch):
    """Without controls ψ (a column per threshold and pair) is gathered from the cells per row block: blocks
    of a few cases give Γ = N ψ'ψ and the cluster-robust Γ of all cases at once."""
    from cluster_sem.model.ordinal import acov
    from cluster_sem.model.ordinal.samplestats import ordinal_stats, pair_index, two_step
    data = pd.read_csv(Path(__file__).parent / "reference" / "HolzingerSwineford1939_ordinal.csv")
    items = [f"x{i}" for i in range(1, 10)]
    cluster = np.arange(len(data)) % 31
    st = ordinal_stats(data, items, cluster=cluster)
    ia, ib = pair_index(len(items))
    psi = acov.casewise(two_step(st.coding)[-1], st.coding.codes, st.coding.n_categories, ia, ib)
    n = len(psi)
    assert np.allclose(st.gamma, n * psi.T @ psi, rtol=1e-12, atol=1e-13 * np.abs(st.gamma).max())
    monkeypatch.setattr(acov, "_PSI_BLOCK", 5 * psi.shape[1])
    blocks = ordinal_stats(data, items, cluster=cluster)
    for a, b in ((blocks.gamma, st.gamma), (blocks.gamma_cluster, st.gamma_cluster)):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-13 * np.abs(b).max())


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


def _random_blanks(n: int, p: int, rate: float = 0.05, seed: int = 4):
    """n cases of p correlated items with ``rate`` of the answers blank at random: nearly one pattern per case."""
    from cluster_sem.model.missing import Patterns
    rng = np.random.default_rng(seed)
    x = 0.6 * rng.standard_normal((n, 1)) + 0.8 * rng.standard_normal((n, p))
    x[rng.random((n, p)) < rate] = np.nan
    return Patterns.from_array(x[~np.isnan(x).all(axis=1)])


def test_fiml_pattern_sums_hold_a_few_numbers_per_case():
    """5,000 cases, 42 items, 5 % blanks (~2,500 patterns): the pattern sums held p_k² numbers per pattern
    (~7 KB per case, 33 MB here); patterns with fewer cases than items now keep their rows."""
    from cluster_sem.model.fiml import pattern_sums
    pats = _random_blanks(5_000, 42)
    tracemalloc.start()
    try:
        sums = pattern_sums(pats)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(pats.patterns) > 2_000
    assert held < 5_000 * 42 * 8 * 4, f"{held / pats.n:.0f} bytes per case"
    assert len(sums.C) == len(pats.patterns)


def test_fiml_loglik_from_kept_rows_equals_the_stored_cross_products(monkeypatch):
    """A pattern's C_k formed from its kept rows gives the log-likelihood and gradient of the stored C_k."""
    from cluster_sem.model import fiml
    pats = _random_blanks(600, 12, rate=0.15)
    mu = np.nanmean(pats.x, axis=0)
    sigma = np.ma.cov(np.ma.masked_invalid(pats.x), rowvar=False).data
    sums = fiml.pattern_sums(pats)
    assert any(c is None for c in sums.C.stored) and any(c is not None for c in sums.C.stored)
    stored = fiml.PatternSums(sums.index, sums.n, sums.s,
                              fiml.CrossProducts(tuple(sums.C), sums.C.rows, sums.C.weights), sums.p)
    for a, b in zip(fiml.loglik(sums, mu[None], sigma[None]), fiml.loglik(stored, mu[None], sigma[None])):
        assert np.allclose(a, b, rtol=1e-12, atol=0)


def test_mlr_h1_first_order_information_is_summed_in_row_blocks():
    """The h1 meat of MLR (Σ_i s_i s_i' of the saturated scores, 945 columns at p = 42) from row blocks equals
    the one from all scores, and the block form's peak is far below the n × p² array of G_i it once held."""
    from cluster_sem.model.fiml import h1_score_blocks, h1_scores
    from cluster_sem.model.robust import first_order, first_order_blocks
    small = _random_blanks(400, 10, rate=0.1)
    mu = np.nanmean(small.x, axis=0)
    sigma = np.ma.cov(np.ma.masked_invalid(small.x), rowvar=False).data
    cluster = np.arange(small.n) % 37
    for c in (None, cluster):
        whole = first_order(h1_scores(small, mu, sigma), c)
        blocks = first_order_blocks(h1_score_blocks(small, mu, sigma), small.n, c)
        assert np.allclose(blocks, whole, rtol=1e-10, atol=1e-14)
    big = _random_blanks(20_000, 42, rate=0.01)
    mu, sigma = np.zeros(42), 0.36 + 0.64 * np.eye(42)
    peak = _peak(lambda: first_order_blocks(h1_score_blocks(big, mu, sigma), big.n))
    assert peak < 0.25 * big.n * 42 * 42 * 8, f"{peak / MiB:.0f} MiB"


# --- end to end: every command as a child process under an address-space cap --------------------------

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

GUARD_N = 25_000
GUARD_CAP = 5 << 28          # 1.25 GiB: imports and the small spec's data take ~0.3–0.6 GiB; n × n doubles 4.7 GiB
GUARD_COMMANDS = {           # name: (data variant, arguments; SPEC and DATA are replaced by the files)
    "fit": ("complete", ["fit", "SPEC", "DATA", "--bootstrap", "0"]),
    "FIML": ("blanks", ["fit", "SPEC", "DATA", "--bootstrap", "0", "--missing", "fiml"]),
    "MLR": ("complete", ["fit", "SPEC", "DATA", "--bootstrap", "0", "--estimator", "MLR"]),
    "WLSMV": ("complete", ["fit", "SPEC", "DATA", "--bootstrap", "0", "--estimator", "WLSMV"]),
    "invariance": ("complete", ["invariance", "SPEC", "DATA"]),
    "bootstrap": ("complete", ["fit", "SPEC", "DATA", "--bootstrap", "200", "--jobs", "1"]),
    "power": ("complete", ["power", "SPEC", "--n", str(GUARD_N), "--reps", "2"]),
    "pls": ("complete", ["pls", "SPEC", "DATA"]),
    "cmb": ("complete", ["cmb", "SPEC", "DATA"]),
}
SHIPPED_CAP = 3 << 30
SHIPPED_SIZES = (10_000, 20_000, 40_000, 100_000)   # `fit` of the shipped spec: growth, and 100k under the cap


def _simulate(spec: Path, n: int, out: Path) -> Path:
    from cluster_sem.simulate import simulate_to_csv
    return simulate_to_csv(spec, n, 1, out)


def _write_spec(spec: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _guard_specs(tmp: Path) -> dict[str, Path]:
    """The two-construct, four-region test spec with two controls (WLSMV's conditional.x path), the same with
    5 % of answers blank (FIML), and the shipped spec without its latent interaction (its population keeps it
    for the simulator)."""
    spec = yaml.safe_load((ROOT / "tests" / "specs" / "regions_small.yaml").read_text(encoding="utf-8"))
    spec["controls"] = ["firm_age", "log_employees"]
    spec["population"]["controls"] = {
        "firm_age": {"distribution": "uniform_int", "low": 3, "high": 40, "decimals": 0, "effects": {"TS": 0.05}},
        "log_employees": {"distribution": "normal", "mean": 4.5, "sd": 1.0, "decimals": 2, "effects": {"RQ": 0.1}}}
    out = {"complete": _write_spec(spec, tmp / "complete.yaml")}
    spec["population"]["missing_rate"] = 0.05
    out["blanks"] = _write_spec(spec, tmp / "blanks.yaml")
    shipped = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    shipped.pop("interactions")
    out["shipped"] = _write_spec(shipped, tmp / "no_interaction.yaml")
    return out


def _start(argv: list[str], cap: int, out: Path) -> tuple[subprocess.Popen, Path]:
    """``cluster-sem ARGV --out OUT --quiet`` in a child with RLIMIT_AS = cap, which writes its own peak RSS."""
    peak = out.with_name(out.name + ".peak")
    proc = subprocess.Popen([sys.executable, "-c", _CAPPED, str(cap), str(peak), *argv, "--out", str(out),
                             "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc, peak


@pytest.fixture(scope="module")
def capped_runs(tmp_path_factory):
    """Every capped child, all started at once (they are independent and mostly wait on each other's CPU);
    key → (return code, stderr tail, the child's own peak RSS in bytes).  Keys: the GUARD_COMMANDS names and
    ("shipped", n) for the shipped spec's ``fit --bootstrap 0``."""
    tmp = tmp_path_factory.mktemp("capped")
    specs = _guard_specs(tmp)
    data = {v: _simulate(specs[v], GUARD_N, tmp / f"{v}.csv") for v in ("complete", "blanks")}
    started = {}
    for name, (variant, args) in GUARD_COMMANDS.items():
        argv = [str(specs[variant]) if a == "SPEC" else str(data[variant]) if a == "DATA" else a for a in args]
        started[name] = _start(argv, GUARD_CAP, tmp / f"out_{name}")
    for n in SHIPPED_SIZES:
        csv = _simulate(specs["shipped"], n, tmp / f"shipped{n}.csv")
        started[("shipped", n)] = _start(["fit", str(specs["shipped"]), str(csv), "--bootstrap", "0"],
                                         SHIPPED_CAP, tmp / f"out_shipped{n}")
    results = {}
    for key, (proc, peak) in started.items():
        _, err = proc.communicate(timeout=600)
        results[key] = (proc.returncode, err[-2000:], int(peak.read_text()) * 1024 if peak.is_file() else 0)
    return results


@pytest.mark.parametrize("name", list(GUARD_COMMANDS))
def test_every_command_runs_on_25k_respondents_under_a_1_25_gib_cap(capped_runs, name):
    code, err, peak = capped_runs[name]
    assert code == 0, f"{name} (peak {peak / MiB:.0f} MiB): {err}"


def test_fit_of_100k_respondents_runs_under_a_3_gib_cap(capped_runs):
    code, err, _ = capped_runs[("shipped", 100_000)]
    assert code == 0, err


def test_peak_memory_grows_linearly_in_n(capped_runs):
    """Peak RSS at 20,000 and at 40,000 respondents < 2.5× that at 10,000 (measured ~170, ~185, ~235 MB:
    ~150 MB of imports and templates plus a few copies of the data; one n × n matrix at 10,000 is 0.8 GB).

    Each size runs in a fresh child that reports its own peak.  Differences of peaks are not compared: which
    stage peaks changes with n, so they jump by ±30 MB from run to run."""
    peaks = {}
    for n in (10_000, 20_000, 40_000):
        code, err, peaks[n] = capped_runs[("shipped", n)]
        assert code == 0, err
    in_mib = {n: p // MiB for n, p in peaks.items()}
    assert peaks[20_000] < 2.5 * peaks[10_000], in_mib
    assert peaks[40_000] < 2.5 * peaks[10_000], in_mib
