"""Categorised Likert data: reproducible bytes, valid values, exact groups, thresholds honoured."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cluster_sem.data import prepare_data
from cluster_sem.errors import ClusterSemError
from cluster_sem.simulate import group_sizes, simulate, simulate_to_csv, write_csv
from cluster_sem.simulate.specfile import load_spec_file

ROOT = Path(__file__).resolve().parents[1]
ZHEJIANG = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
SHIPPED = ROOT / "data" / "zhejiang_128_synthetic.csv"
SPEC = load_spec_file(ZHEJIANG)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = simulate_to_csv(ZHEJIANG, 128, 1, tmp_path / "a.csv").read_bytes()
    b = simulate_to_csv(ZHEJIANG, 128, 1, tmp_path / "b.csv").read_bytes()
    c = simulate_to_csv(ZHEJIANG, 128, 2, tmp_path / "c.csv").read_bytes()
    assert a == b
    assert a != c
    assert b"\r" not in a


def test_shipped_synthetic_csv_is_what_the_simulator_writes(tmp_path):
    """Every column but the last is the simulator's output, byte for byte; `cluster` is appended to each line
    by data/assign_clusters.py (a pure function of those columns and its seed)."""
    import importlib.util
    fresh = write_csv(simulate(SPEC, 128, 1), tmp_path / "fresh.csv")
    spec = importlib.util.spec_from_file_location("assign_clusters", ROOT / "data" / "assign_clusters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = SHIPPED.read_text(encoding="utf-8")
    assert [line.rsplit(",", 1)[0] for line in shipped.splitlines()] == fresh.read_text().splitlines()
    assert shipped == module.with_cluster_column(fresh.read_text()), (
        "data/zhejiang_128_synthetic.csv is stale: regenerate with 'cluster-sem simulate "
        "questionnaires/zhejiang_cluster_growth.yaml --n 128 --seed 1 --out data/zhejiang_128_synthetic.csv' "
        "then 'python data/assign_clusters.py'")


def test_values_columns_and_groups():
    df = simulate(SPEC, 128, 1)
    items = list(SPEC.items)
    assert list(df.columns) == ["firm_id", "region", "firm_age", "log_employees"] + items
    assert df["firm_id"].tolist() == list(range(1, 129))
    for item in items:
        assert df[item].dtype.kind == "i"
        assert df[item].between(1, 5).all()
    assert df["region"].value_counts().to_dict() == dict(SPEC.population.groups)
    assert df["region"].tolist() != sorted(df["region"].tolist())         # seeded random order
    assert df["firm_age"].dtype.kind == "i" and df["firm_age"].between(3, 40).all()
    assert np.allclose(df["log_employees"], df["log_employees"].round(2))


def test_group_sizes_largest_remainder():
    groups = dict(SPEC.population.groups)
    assert group_sizes(groups, 128) == groups
    sizes = group_sizes(groups, 10)
    assert sum(sizes.values()) == 10
    assert sizes == {"Hangzhou": 2, "Ningbo": 2, "Wenzhou": 2, "Shaoxing": 2, "Taizhou": 2}
    assert sum(group_sizes(groups, 1000).values()) == 1000
    assert simulate(SPEC, 37, 3)["region"].value_counts().sum() == 37


def test_simulated_data_passes_the_data_checks():
    data = prepare_data(SPEC, simulate(SPEC, 128, 1), source="sim")
    assert data.n_used == 128 and data.n_dropped == 0
    assert sum("reverse-keyed" in line for line in data.log) == sum(it.reverse for it in SPEC.items.values())


def test_category_proportions_follow_thresholds():
    """P(category <= k) = Phi(tau_k); reverse-keyed items are stored reversed, so their *recoded* values
    follow the thresholds.  Tolerance: 5 binomial standard errors."""
    n = 60_000
    df = simulate(SPEC, n, 11)
    tau = np.array(SPEC.population.thresholds)
    expected = stats.norm.cdf(tau)
    se = np.sqrt(expected * (1 - expected) / n)
    for item, meta in SPEC.items.items():
        v = df[item].to_numpy()
        if meta.reverse:
            assert (v == 5).mean() == pytest.approx(expected[0], abs=5 * se[0])   # stored reversed
            v = 6 - v
        observed = np.array([(v <= k).mean() for k in (1, 2, 3, 4)])
        assert np.all(np.abs(observed - expected) < 5 * se), item
    assert df["NC1"].mean() == pytest.approx(sum(k * p for k, p in zip(range(1, 6), np.diff(
        np.concatenate([[0], expected, [1]])))), abs=0.02)


def test_reverse_keyed_item_correlates_negatively_when_stored():
    df = simulate(SPEC, 5_000, 5)
    assert np.corrcoef(df["NC1"], df["NC4"])[0, 1] < -0.2
    assert np.corrcoef(df["NC1"], df["NC2"])[0, 1] > 0.3


def test_missing_rate_uses_first_missing_code():
    pop = SPEC.population.model_copy(update={"missing_rate": 0.1})
    spec = SPEC.model_copy(update={"population": pop})
    df = simulate(spec, 2_000, 4)
    items = list(spec.items)
    share = (df[items] == 99).to_numpy().mean()
    assert share == pytest.approx(0.1, abs=0.01)
    assert df[items].dtypes.map(lambda d: d.kind == "i").all()
    data = prepare_data(spec, df, missing="fiml")
    assert data.n_used == 2_000
    assert data.frame[items].isna().to_numpy().mean() == pytest.approx(share)
    with pytest.warns(Warning, match="rows dropped"):
        listwise = prepare_data(spec, df)
    assert listwise.n_used == int((df[items] != 99).all(axis=1).sum())


def test_bad_arguments(tmp_path):
    with pytest.raises(ClusterSemError, match="positive"):
        simulate(SPEC, 0, 1)
    with pytest.raises(ClusterSemError, match=r"\.csv"):
        simulate_to_csv(ZHEJIANG, 10, 1, tmp_path / "out.xlsx")
    with pytest.raises(ClusterSemError, match=r"^mini_spec\.yaml: key 'population': missing"):
        simulate_to_csv(ROOT / "tests" / "data_fixtures" / "mini_spec.yaml", 10, 1, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_log_employees_effect_survives_transformation():
    df = simulate(SPEC, 40_000, 9)
    # log_employees -> CE (.10 standardized): correlation with a CE item ~ .10 * .79 (after categorisation a bit less)
    r = np.corrcoef(df["log_employees"], df["CE1"])[0, 1]
    assert 0.04 < r < 0.12
    assert math.isclose(df["log_employees"].mean(), 4.5, abs_tol=0.03)
