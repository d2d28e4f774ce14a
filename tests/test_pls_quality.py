"""f² (model re-estimated without each path), inner VIF (construct-score correlations), item VIF and
adjusted R² of `cluster-sem pls` against the seminr 0.2.1 port (Python port of seminr 2.3),
tests/reference/pls/pls_quality_reference.json (make_reference_pls_quality.py), PLS and PLSc, to 1e-9."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cluster_sem.pls.run import PlsOptions, run_pls

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference/pls/pls_quality_reference.json").read_text())


@pytest.fixture(scope="module", params=["pls", "plsc"])
def block(request):
    doc = run_pls(HERE / "specs/pls_mobi.yaml", HERE / "reference/pls/mobi.csv",
                  PlsOptions(consistent=request.param == "plsc"), timestamp="T").to_dict()
    return request.param, doc["pls"]


def test_f_squared(block):
    variant, pls = block
    for row in pls["paths"]:
        assert row["f2"] == pytest.approx(REF[variant]["f2"][f"{row['to']}~{row['from']}"], abs=1e-9), row


def test_inner_and_item_vif(block):
    variant, pls = block
    for target, vifs in REF[variant]["inner_vif"].items():
        for source, want in vifs.items():
            assert pls["vif"]["inner"][target][source] == pytest.approx(want, abs=1e-9)
            row = next(r for r in pls["paths"] if (r["from"], r["to"]) == (source, target))
            assert row["vif"] == pytest.approx(want, abs=1e-9)
    for construct, vifs in REF[variant]["item_vif"].items():
        for item, want in vifs.items():
            assert pls["vif"]["outer"][construct][item] == pytest.approx(want, abs=1e-9)


def test_adjusted_r2(block):
    variant, pls = block
    for construct, want in REF[variant]["r2_adj"].items():
        assert pls["r2_adj"][construct] == pytest.approx(want, abs=1e-9)
