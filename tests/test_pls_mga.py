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
    assert "Multigroup analysis" in (out / "report.md").read_text(encoding="utf-8")


def test_mga_refusals(grouped, capsys, tmp_path):
    assert main(["pls", str(grouped / "spec.yaml"), str(grouped / "mobi_grp.csv"), "--out", str(tmp_path / "a"),
                 "--mga"]) == 2
    assert "--bootstrap" in capsys.readouterr().err
    assert main(["pls", str(MOBI_SPEC), str(MOBI), "--out", str(tmp_path / "b"), "--mga", "--bootstrap", "100"]) == 2
    assert "group" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
