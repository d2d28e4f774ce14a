"""Shared fixtures: the shipped Zhejiang example is fitted once per test run, not once per module.

``example_doc`` is the results document of ``cs.fit(SPEC, DATA, seed=1, timestamp=STAMP)``; modules that
change it take a deep copy (``example_doc_copy``), so one module cannot leak edits into another.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
EXAMPLE_DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
EXAMPLE_STAMP = "2026-01-02T03:04:05+00:00"


@pytest.fixture(scope="session")
def example_results():
    """The shipped example through the real pipeline (seed 1, fixed timestamp), once per session."""
    import cluster_sem as cs
    return cs.fit(EXAMPLE_SPEC, EXAMPLE_DATA, seed=1, timestamp=EXAMPLE_STAMP)


@pytest.fixture(scope="session")
def example_doc(example_results) -> dict:
    return example_results.to_dict()


@pytest.fixture
def example_doc_copy(example_doc) -> dict:
    return copy.deepcopy(example_doc)
