"""Features in combination through the CLI (blanks, controls, clusters, weights, ordinal items, bootstrap,
--compare, --modindices, --docx, --lang zh, --engine semopy): every run keeps the outside contract
(docs/contract.md) — exit 0 with strict-JSON results.json and both reports, or exit 2 with one "Fix:" line
and no output directory."""
from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_sem.cli import main

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "tests" / "reference" / "design"
HS_SEM = ROOT / "tests" / "specs" / "hs_sem.yaml"
HS_CONTROLS = ROOT / "tests" / "specs" / "hs_controls.yaml"
ZJ = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"


def _blank(frame: pd.DataFrame, columns: list[str], rate: float, seed: int) -> pd.DataFrame:
    """Blank a share of the cells of ``columns`` (answers left empty), reproducibly."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for c in columns:
        out[c] = out[c].astype("Float64")
        out.loc[rng.random(len(out)) < rate, c] = pd.NA
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """HS with controls, weights, 20 pseudo-clusters and 4 % blanks; the shipped example with 0.4 % blanks."""
    d = tmp_path_factory.mktemp("combos")
    hs = pd.read_csv(DESIGN / "hs_weights.csv")
    hs["cl"] = (hs["id"] % 20).astype(str)
    hs = _blank(hs, [f"x{i}" for i in range(1, 10)], 0.04, 1)
    zj = pd.read_csv(ROOT / "data" / "zhejiang_128_synthetic.csv")
    zj = _blank(zj, [c for c in zj.columns if c[:2].isupper() and c[-1].isdigit()], 0.004, 2)
    zj["w"] = np.round(np.random.default_rng(2).uniform(0.5, 2.0, len(zj)), 2)
    paths = {"hs": d / "hs_blank.csv", "zj": d / "zj_blank.csv"}
    hs.to_csv(paths["hs"], index=False)
    zj.to_csv(paths["zj"], index=False)
    return paths


def _run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def _strict(token: str):
    raise ValueError(f"results.json holds {token}, which is not JSON")


def _check_ok(out: Path, err: str) -> dict:
    assert "Traceback" not in err
    results = json.loads((out / "results.json").read_text(), parse_constant=_strict)
    assert any(out.glob("report*.html")) and any(out.glob("report*.md"))
    for eff in results["indirect_effects"]:
        if eff["est"] is not None:
            assert eff["se"] is not None and math.isfinite(eff["se"]), eff
    return results


COMBOS = [  # (spec, data key, options, expected meta.estimator, expected design.se)
    (HS_CONTROLS, "hs", ["--estimator", "MLR", "--missing", "fiml", "--cluster", "cl",
                         "--compare", "speed~textual = speed~visual", "--docx"], "MLR", "robust.cluster"),
    (HS_CONTROLS, "hs", ["--weights", "w", "--lang", "zh"], "ML", "robust.huber.white"),
    (HS_SEM, "hs", ["--bootstrap", "200", "--modindices", "--engine", "semopy"], "ML", None),
    (HS_CONTROLS, "hs", ["--estimator", "MLR", "--cluster", "cl", "--weights", "w", "--bootstrap", "200",
                         "--cluster-bootstrap"], "MLR", "robust.cluster"),
    (ZJ, "zj", ["--cluster", "cluster", "--compare", "CE~NC = CE~TS"], "ML", "robust.cluster"),
]


@pytest.mark.parametrize("spec,key,options,estimator,se", COMBOS)
def test_combination_keeps_contract(tmp_path, data, spec, key, options, estimator, se):
    out = tmp_path / "out"
    code, err = _run(["fit", str(spec), str(data[key]), "--out", str(out), "--quiet", *options])
    assert code == 0, err
    results = _check_ok(out, err)
    assert results["meta"]["estimator"] == estimator
    assert results["meta"]["engine"] == ("semopy" if "semopy" in options else "cluster-sem")
    assert (results.get("design") or {}).get("se") == se
    if "--docx" in options:
        assert (out / "report.docx").exists()


def test_wlsmv_bootstrap_without_usable_resamples_is_refused(tmp_path, data):
    """Continuous scores under WLSMV lose a category in every resample: all 200 refits fail. This used to exit 0
    with se null and a BC interval of [est, est] for the indirect effect."""
    out = tmp_path / "out"
    code, err = _run(["fit", str(HS_SEM), str(data["hs"]), "--out", str(out), "--quiet",
                      "--estimator", "WLSMV", "--bootstrap", "200"])
    lines = [line for line in err.splitlines() if not line.startswith("warning:")]
    assert code == 2, err
    assert len(lines) == 1 and "Fix:" in lines[0] and "--bootstrap 200" in lines[0]
    assert not out.exists()


def test_compare_lrt_with_negative_scaled_difference_is_null(tmp_path, data):
    """With sampling weights the Satorra-Bentler (2001) scaling factor of the difference can be negative
    (here -0.39): lavaan warns and reports NA. This used to write an LRT chi2 of -29.4 with p = 1."""
    spec = tmp_path / "zj_noint.yaml"
    text = ZJ.read_text(encoding="utf-8")
    start, end = text.index("# ch.4: dispersion force weakens"), text.index("hypotheses:")
    spec.write_text(text[:start] + text[end:], encoding="utf-8")   # the shipped model without its interaction
    out = tmp_path / "out"
    code, err = _run(["fit", str(spec), str(data["zj"]), "--out", str(out), "--quiet", "--weights", "w",
                      "--compare", "CE~IOL = CI~IOL"])
    assert code == 0, err
    (record,) = _check_ok(out, err)["comparisons"]
    assert record["lrt"] is None and "negative" in record["lrt_note"]
    assert record["wald"]["chi2"] > 0


def test_recorded_command_reruns_the_same_model(tmp_path, data):
    """meta.command rebuilt from the parsed options (python -m, main([...])) used to drop --estimator,
    --missing and --compare: rerunning it fitted another model."""
    out = tmp_path / "out"
    code, err = _run(["fit", str(HS_CONTROLS), str(data["hs"]), "--out", str(out), "--quiet", "--estimator", "MLR",
                      "--missing", "fiml", "--compare", "speed~textual = speed~visual"])
    assert code == 0, err
    command = _check_ok(out, err)["meta"]["command"]
    assert command.endswith("--estimator MLR --missing fiml --compare 'speed~textual = speed~visual'"), command


def test_a_negative_satorra_bentler_scaling_factor_gives_no_test():
    """lavTestLRT's Satorra–Bentler (2001) difference: cd ≤ 0 is lavaan's NA, for invariance Δ-tests too,
    not a negative χ² with p = 1."""
    import math
    from cluster_sem.model.robust import satorra_bentler_2001
    out = satorra_bentler_2001(120.0, 30, 0.9, 100.0, 24, 1.4)        # cd = (27 − 33.6)/6 < 0
    assert out["scaling_factor"] < 0 and math.isnan(out["chi2"]) and math.isnan(out["pvalue"])
    ok = satorra_bentler_2001(120.0, 30, 1.2, 100.0, 24, 1.1)
    assert ok["chi2"] > 0 and 0 < ok["pvalue"] < 1
