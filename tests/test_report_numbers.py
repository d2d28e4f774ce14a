"""Report content that used to be silently wrong (issue #26, part 2): missing-data diagnostics after deletion,
R², one CI story per mediation claim, Johnson–Neyman bounds outside the data, optimiser internals in notes,
and the path diagram (interaction, residual covariances, R², negative zero)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
HS_SPEC = ROOT / "tests" / "specs" / "hs_cfa.yaml"
STAMP = "2026-01-02T03:04:05+00:00"


def hs_blanked(tmp_path: Path, share: float = 0.03, seed: int = 26) -> tuple[Path, pd.DataFrame]:
    """HolzingerSwineford1939 with ~``share`` of the x1–x9 cells blanked at random (the file as written)."""
    d = pd.read_csv(REF / "HolzingerSwineford1939.csv")
    items = [f"x{i}" for i in range(1, 10)]
    rng = np.random.default_rng(seed)
    d[items] = d[items].mask(rng.random((len(d), len(items))) < share)
    path = tmp_path / "hs_blanks.csv"
    d.to_csv(path, index=False)
    return path, d[items]


# -- 1. missing-data diagnostics describe the data as read ------------------------------------------------

@pytest.fixture(scope="module")
def listwise_blanks(tmp_path_factory):
    import cluster_sem as cs
    path, items = hs_blanked(tmp_path_factory.mktemp("blanks"))
    return cs.fit(HS_SPEC, path, seed=1, timestamp=STAMP).to_dict(), items


def test_missing_diagnostics_are_computed_before_listwise_deletion(listwise_blanks):
    doc, items = listwise_blanks
    assert doc["data"]["n_dropped"] > 40                       # listwise deletion really removed rows
    md = doc["missing_data"]
    expected = (items.isna().mean() * 100).to_dict()
    assert md["percent_missing"] == pytest.approx(expected, abs=1e-12)
    assert md["n_patterns"] > 1 and md["patterns"][0]["missing"] == []
    assert sum(p["n"] for p in md["patterns"]) <= len(items)
    assert md["patterns"][0]["n"] == doc["data"]["n_used"]      # complete rows = the rows analysed
    assert md["little_mcar"] is not None and md["little_mcar"]["df"] > 0
    assert doc["normality"]["n"] == doc["data"]["n_used"]       # Mardia: the rows analysed


def test_missing_report_says_blanks_exist_and_hints_fiml(listwise_blanks):
    from cluster_sem.render.markdown import render_markdown
    doc, _ = listwise_blanks
    for lang, absent, hint in (("en", "No item has missing values", "--missing fiml"),
                               ("zh", "所有题项均无缺失值", "--missing fiml")):
        text = render_markdown(doc, lang)
        assert absent not in text
        assert hint in text
    text = render_markdown(doc, "en")
    assert "Little's (1988) MCAR test" in text
    assert "before" in text    # the pattern percentages say which rows they count
