"""PLS-MGA (--mga): Henseler's p as seminr's estimate_pls_mga computes it (expand.grid of the two groups'
bootstrap paths), the block from the CLI, and the refusals (no group column, no bootstrap)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.cli import main
from cluster_sem.pls.mga import henseler_p

ROOT = Path(__file__).resolve().parents[1]
MOBI_SPEC = ROOT / "tests" / "specs" / "pls_mobi.yaml"
MOBI = ROOT / "tests" / "reference" / "pls" / "mobi.csv"


def _seminr_p(b1: np.ndarray, b2: np.ndarray) -> float:
    """seminr: J = min rows; 1 − Σ Θ(2·mean(b1) − b1ᵢ − 2·mean(b2) + b2ⱼ) / J² over expand.grid(b1, b2)."""
    J = min(len(b1), len(b2))
    b1, b2 = b1[:J], b2[:J]
    grid1, grid2 = np.meshgrid(b1, b2, indexing="ij")
    return 1 - np.sum((2 * b1.mean() - grid1 - 2 * b2.mean() + grid2) > 0) / J ** 2


@pytest.mark.parametrize("seed", range(5))
def test_henseler_p_equals_the_grid_formula(seed):
    rng = np.random.default_rng(seed)
    b1 = rng.normal(0.3, 0.1, 300)
    b2 = rng.normal(0.25, 0.12, 280)
    if seed == 4:                                  # ties between the two sets
        b1, b2 = np.round(b1, 2), np.round(b2, 2)
    assert henseler_p(b1, b2) == pytest.approx(_seminr_p(b1, b2), abs=1e-15)


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    base = tmp_path_factory.mktemp("mga")
    data = pd.read_csv(MOBI)
    data["grp"] = np.where(np.arange(len(data)) % 2 == 0, "even", "odd")
    data.to_csv(base / "mobi_grp.csv", index=False)
    (base / "spec.yaml").write_text(MOBI_SPEC.read_text().replace("scale:", "group: grp\nscale:", 1))
    return base


def test_mga_block(grouped):
    out = grouped / "out"
    assert main(["pls", str(grouped / "spec.yaml"), str(grouped / "mobi_grp.csv"), "--out", str(out), "--mga",
                 "--bootstrap", "200", "--seed", "4", "--quiet"]) == 0
    mga = json.loads((out / "results.json").read_text(encoding="utf-8"))["pls"]["mga"]
    assert [(g["name"], g["n"]) for g in mga["groups"]] == [("even", 125), ("odd", 125)]
    (pair,) = mga["comparisons"]
    assert (pair["a"], pair["b"]) == ("even", "odd") and len(pair["paths"]) == 12
    for row in pair["paths"]:
        assert 0 <= row["p_henseler"] <= 1 and row["p_two_sided"] == pytest.approx(
            2 * min(row["p_henseler"], 1 - row["p_henseler"]))
        assert row["diff"] == pytest.approx(row["est_a"] - row["est_b"])
        assert 0 < row["p_permutation"] <= 1
    assert pair["permutations"] == 200 and pair["permutations_completed"] == 200
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Multigroup analysis" in md and "p (permutation)" in md
    again = grouped / "again"
    assert main(["pls", str(grouped / "spec.yaml"), str(grouped / "mobi_grp.csv"), "--out", str(again), "--mga",
                 "--bootstrap", "200", "--seed", "4", "--quiet", "--jobs", "2"]) == 0
    assert json.loads((again / "results.json").read_text(encoding="utf-8"))["pls"]["mga"] == mga


def test_mga_refusals(grouped, capsys, tmp_path):
    assert main(["pls", str(grouped / "spec.yaml"), str(grouped / "mobi_grp.csv"), "--out", str(tmp_path / "a"),
                 "--mga"]) == 2
    assert "--bootstrap" in capsys.readouterr().err
    assert main(["pls", str(MOBI_SPEC), str(MOBI), "--out", str(tmp_path / "b"), "--mga", "--bootstrap", "100"]) == 2
    assert "group" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- permutation test (Chin & Dibbern 2010) ----------------------------------------------------------------

def _two_group_data(beta_b: float, n: int = 120, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """X → Y with three items each; the path is 0.6 in group a and ``beta_b`` in group b."""
    rng = np.random.default_rng(seed)

    def group(beta: float) -> np.ndarray:
        x = rng.normal(size=n)
        y = beta * x + np.sqrt(1 - beta ** 2) * rng.normal(size=n)
        items = [f + 0.6 * rng.normal(size=n) for f in (x, x, x, y, y, y)]
        return np.column_stack(items)

    return group(0.6), group(beta_b)


def _xy_layout():
    from cluster_sem.pls.model import from_spec
    from cluster_sem.pls.statistics import Layout
    from cluster_sem.spec import Spec
    spec = Spec.model_validate({"spec_version": 1, "scale": {"min": -100, "max": 100},
                                "constructs": {"X": {"items": ["x1", "x2", "x3"]}, "Y": {"items": ["y1", "y2", "y3"]}},
                                "paths": [{"to": "Y", "from": ["X"]}]})
    model = from_spec(spec, mode="A", consistent=False)
    return Layout.of(model, consistent=False, scheme="path", htmt_constructs=("X", "Y"), indirect=(), total=())


def test_permutation_p_is_large_for_identical_groups_and_small_for_a_real_difference():
    from cluster_sem.pls.algorithm import correlations
    from cluster_sem.pls.mga import permutation_diffs, permutation_p
    layout = _xy_layout()
    Xa, Xb = _two_group_data(0.0)
    observed = layout.estimate(correlations(Xa)[None])[1][0, :1] - layout.estimate(correlations(Xb)[None])[1][0, :1]
    assert observed[0] > 0.3
    diffs = permutation_diffs(Xa, Xb, layout, B=300, seed=5)
    assert diffs.shape == (300, 1)
    assert permutation_p(observed, diffs)[0] < 0.01
    same = permutation_diffs(Xa, Xa.copy(), layout, B=300, seed=5)
    assert permutation_p(np.zeros(1), same)[0] == 1.0      # identical groups: every |d*| ≥ 0
    Xa2, Xb2 = _two_group_data(0.6, seed=12)                # same population: no evidence of a difference
    obs2 = layout.estimate(correlations(Xa2)[None])[1][0, :1] - layout.estimate(correlations(Xb2)[None])[1][0, :1]
    assert permutation_p(obs2, permutation_diffs(Xa2, Xb2, layout, B=300, seed=5))[0] > 0.05


def test_permutations_depend_on_the_seed_only():
    from cluster_sem.pls.mga import permutation_diffs
    layout = _xy_layout()
    Xa, Xb = _two_group_data(0.2)
    one = permutation_diffs(Xa, Xb, layout, B=600, seed=3, jobs=1)
    assert np.array_equal(one, permutation_diffs(Xa, Xb, layout, B=600, seed=3, jobs=2))
    assert not np.array_equal(one, permutation_diffs(Xa, Xb, layout, B=600, seed=4))
    assert np.array_equal(one[:250], permutation_diffs(Xa, Xb, layout, B=250, seed=3))   # blocks are prefixes


def test_permutation_block_equals_single_fits():
    """A batched block's difference = est_a − est_b of the permuted groups fitted one at a time."""
    from cluster_sem.pls.algorithm import correlations
    from cluster_sem.pls.mga import PermutationCore, permutation_block
    from cluster_sem.rng import generator
    layout = _xy_layout()
    Xa, Xb = _two_group_data(0.3)
    pooled = np.concatenate([Xa, Xb])
    start, diffs = permutation_block(PermutationCore(pooled, len(Xa), layout), 260, 9, (0, 1), 1)
    assert start == 250 and diffs.shape == (10, 1)
    rng = generator(9, 7, 0, 1, 1)
    for r in range(10):
        order = rng.permutation(len(pooled))
        a, b = pooled[order[:len(Xa)]], pooled[order[len(Xa):]]
        single = layout.estimate(correlations(a)[None])[1][0, 0] - layout.estimate(correlations(b)[None])[1][0, 0]
        assert diffs[r, 0] == pytest.approx(single, abs=1e-12)
