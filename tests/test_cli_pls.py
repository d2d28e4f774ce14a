"""`cluster-sem pls` end to end: results.json's `pls` block, byte-identical reruns for any --jobs, the
reports (en/zh) and `report` re-rendering, the shipped example (second-order constructs, controls), mode B
/ formative constructs, and one-line exit-2 errors with nothing written."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from cluster_sem.cli import main
from cluster_sem.results.schema import document_problem as shape_problem

ROOT = Path(__file__).resolve().parents[1]
MOBI_SPEC = ROOT / "tests" / "specs" / "pls_mobi.yaml"
MOBI = ROOT / "tests" / "reference" / "pls" / "mobi.csv"
ZJ_SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
ZJ = ROOT / "data" / "zhejiang_128_synthetic.csv"
REF = json.loads((ROOT / "tests" / "reference" / "pls" / "pls_reference.json").read_text())


def _strip(text: str) -> str:
    text = re.sub(r'"timestamp": "[^"]*"', '"timestamp": ""', text)
    return re.sub(r'"command": "[^"]*"', '"command": ""', text)      # names the --out folder


def _run(out: Path, *extra: str, spec: Path = MOBI_SPEC, data: Path = MOBI) -> dict:
    assert main(["pls", str(spec), str(data), "--out", str(out), "--quiet", *extra]) == 0
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def boot_dirs(tmp_path_factory):
    base = tmp_path_factory.mktemp("pls")
    for jobs in ("1", "2"):
        _run(base / f"j{jobs}", "--bootstrap", "300", "--seed", "9", "--jobs", jobs)
    return base


def test_pls_block_carries_the_reference_estimates(boot_dirs):
    doc = json.loads((boot_dirs / "j1" / "results.json").read_text(encoding="utf-8"))
    assert shape_problem(doc) is None
    pls = doc["pls"]
    assert (pls["variant"], pls["mode"], pls["weighting"], pls["iterations"]) == ("pls", "A", "path", 6)
    for row in pls["paths"]:
        assert row["est"] == pytest.approx(REF["pls"]["paths"][f"{row['to']}~{row['from']}"], abs=1e-6)
        assert row["ci_lower"] < row["est"] < row["ci_upper"] and row["se"] > 0 and row["f2"] >= 0
    for c, v in REF["pls"]["r2"].items():
        assert pls["r2"][c] == pytest.approx(v, abs=1e-6)
        assert pls["r2_adj"][c] < pls["r2"][c]
    for h in pls["htmt"]:
        assert h["est"] == pytest.approx(REF["pls"]["htmt"][f"{h['a']}-{h['b']}"], abs=1e-6)
        assert h["ci_upper"] > h["est"] * 0.9 and h["below_090"] == (h["ci_upper"] < 0.90)
    ind = {i["name"]: i for i in pls["indirect"]}
    paths = REF["pls"]["paths"]
    assert ind["ind_Image_Loyalty"]["est"] == pytest.approx(
        paths["Satisfaction~Image"] * paths["Loyalty~Satisfaction"], abs=1e-9)
    assert pls["bootstrap"]["completed"] == 300 and pls["predict"] is None


def test_jobs_do_not_change_results(boot_dirs):
    one = _strip((boot_dirs / "j1" / "results.json").read_text(encoding="utf-8"))
    two = _strip((boot_dirs / "j2" / "results.json").read_text(encoding="utf-8"))
    assert one == two


def test_reports_and_rerender(boot_dirs):
    md = (boot_dirs / "j1" / "report.md").read_text(encoding="utf-8")
    order = [md.index(h) for h in ("Measurement model", "Discriminant validity (HTMT)", "Structural model",
                                   "Path coefficients", "Explained variance", "Prediction")]
    assert order == sorted(order)
    assert "<table>" in (boot_dirs / "j1" / "report.html").read_text(encoding="utf-8")
    assert main(["report", str(boot_dirs / "j1"), "--lang", "zh"]) == 0
    assert "结构模型" in (boot_dirs / "j1" / "report.zh.md").read_text(encoding="utf-8")


def test_plsc_block(tmp_path):
    pls = _run(tmp_path / "c", "--consistent")["pls"]
    assert pls["variant"] == "plsc"
    for row in pls["loadings"]:
        assert row["est"] == pytest.approx(REF["plsc"]["loadings"][f"{row['construct']}=~{row['item']}"], abs=1e-6)
    for c, r in pls["reliability"].items():
        assert r["rho_c"] == pytest.approx(REF["plsc"]["reliability"]["rhoC"][c], abs=1e-6)


def test_predict_block_and_report(tmp_path):
    doc = _run(tmp_path / "p", "--predict", "5", "--seed", "3")
    p = doc["pls"]["predict"]
    assert (p["folds"], p["seed"], p["technique"]) == (5, 3, "direct_antecedent")
    endogenous = {c for c in REF["pls"]["r2"]}
    assert {r["construct"] for r in p["items"]} == endogenous
    assert "Q²_predict" in (tmp_path / "p" / "report.md").read_text(encoding="utf-8")


def test_predict_refused_for_second_order(tmp_path, capsys):
    assert main(["pls", str(ZJ_SPEC), str(ZJ), "--out", str(tmp_path / "o"), "--predict", "10"]) == 2
    assert "second-order" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_shipped_example_second_order_and_controls(tmp_path):
    pls = _run(tmp_path / "z", spec=ZJ_SPEC, data=ZJ)["pls"]
    kinds = {(p["from"], p["to"]): p["kind"] for p in pls["paths"]}
    assert kinds[("RD", "RV")] == "second_order" and kinds[("firm_age", "IOL")] == "control"
    rd = next(c for c in pls["constructs"] if c["name"] == "RD")
    dims = [c for c in pls["constructs"] if c["name"] in ("RV", "RH", "RS")]
    assert rd["items"] == [i for d in dims for i in d["items"]]       # repeated indicators
    assert all(np.isfinite(p["est"]) for p in pls["paths"])


def test_formative_and_mode_b(tmp_path):
    text = MOBI_SPEC.read_text().replace("Image: {items:", "Image: {formative: true, items:")
    spec = tmp_path / "formative.yaml"
    spec.write_text(text)
    pls = _run(tmp_path / "f", spec=spec)["pls"]
    modes = {c["name"]: c["mode"] for c in pls["constructs"]}
    assert modes["Image"] == "B" and modes["Quality"] == "A"
    assert pls["reliability"]["Image"]["rho_a"] == 1.0            # seminr: rho_A of a mode-B composite is 1
    allb = _run(tmp_path / "b", "--mode", "B")["pls"]
    assert {c["mode"] for c in allb["constructs"] if len(c["items"]) > 1} == {"B"}


@pytest.mark.parametrize("args, message", [
    (["--bootstrap", "10"], "--bootstrap 10"),
    (["--predict", "1"], "--predict 1"),
    (["--ci-level", "1.5"], "--ci-level 1.5"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main(["pls", str(MOBI_SPEC), str(MOBI), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not out.exists()


def test_missing_column_and_isolated_construct_exit_2(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text(MOBI.read_text().replace("PERV2", "PERVX"))
    assert main(["pls", str(MOBI_SPEC), str(data), "--out", str(tmp_path / "o")]) == 2
    assert "PERV2" in capsys.readouterr().err
    spec = tmp_path / "iso.yaml"
    spec.write_text(MOBI_SPEC.read_text().replace("constructs:\n", "constructs:\n  Lonely: {items: [CUSL1x, CUSL2x]}\n"))
    assert main(["pls", str(spec), str(MOBI), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Lonely" in err and "no path" in err and not (tmp_path / "o").exists()


def test_plsc_refuses_a_construct_without_positive_rho_a(tmp_path, capsys):
    """Two items correlating negatively with each other but positively with the outcome: ρ_A < 0, and
    PLSc's √ρ_A correction does not exist (plain PLS still runs)."""
    import pandas as pd
    rng = np.random.default_rng(1)
    n = 300
    z = rng.multivariate_normal([0, 0], [[1, -0.4], [-0.4, 1]], n)
    y = z[:, 0] + z[:, 1] + rng.normal(0, 0.5, n)
    data = pd.DataFrame({"a1": z[:, 0] + rng.normal(0, .3, n), "a2": z[:, 1] + rng.normal(0, .3, n),
                         **{f"y{i}": y + rng.normal(0, .5, n) for i in (1, 2, 3)}})
    (data * 1.2 + 4).round().clip(1, 7).to_csv(tmp_path / "neg.csv", index=False)
    (tmp_path / "neg.yaml").write_text("spec_version: 1\nscale: {min: 1, max: 7}\nconstructs:\n"
                                       "  A: {items: [a1, a2]}\n  Y: {items: [y1, y2, y3]}\npaths:\n  - {to: Y, from: [A]}\n")
    args = ["pls", str(tmp_path / "neg.yaml"), str(tmp_path / "neg.csv"), "--quiet", "--out"]
    assert main(args + [str(tmp_path / "c"), "--consistent"]) == 2
    err = capsys.readouterr().err
    assert "constructs.A: rho_A = -" in err and not (tmp_path / "c").exists()
    assert main(args + [str(tmp_path / "p")]) == 0


def test_cs_pls_stays_the_api_function_after_the_subpackage_is_imported():
    import cluster_sem as cs
    import cluster_sem.pls.run  # noqa: F401  (binds the subpackage on the package, unless guarded)
    assert callable(cs.pls) and cs.pls.__module__ == "cluster_sem.api"


def test_report_tolerates_a_trimmed_document_and_escapes_labels(boot_dirs):
    from cluster_sem.render.report import Results
    doc = json.loads((boot_dirs / "j1" / "results.json").read_text(encoding="utf-8"))
    doc["pls"].pop("vif")
    doc["pls"]["reliability"] = {}
    doc["pls"]["htmt"][0]["est"] = doc["pls"]["htmt"][0]["ci_upper"] = None
    doc["spec"]["constructs"]["Image"]["label"] = {"en": "<script>x</script>"}
    assert shape_problem(doc) is None
    results = Results.from_document(doc)
    html = results.to_html(lang="zh")
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert "\\<script>" not in results.to_markdown() and "&lt;script" in results.to_markdown()
    assert results.summary()


def test_pls_drops_the_factor_model_identification_rules(tmp_path, capsys):
    """mobi has a one-item (Complaints) and a two-item (Value) construct: validate (CFA/SEM) refuses the
    first and warns about the second; pls accepts both silently."""
    assert main(["validate", str(MOBI_SPEC)]) == 2
    assert "Complaints" in capsys.readouterr().err
    assert main(["pls", str(MOBI_SPEC), str(MOBI), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_failed_resamples_are_dropped_and_counted(tmp_path):
    """A single item that varies in one row only: resamples without that row cannot standardise it
    (seminr drops them); they are counted, warned about, and the CIs come from the others."""
    import pandas as pd
    data = pd.read_csv(MOBI).head(40)
    data["CUSCO"] = 5
    data.loc[0, "CUSCO"] = 6
    data.to_csv(tmp_path / "rare.csv", index=False)
    doc = _run(tmp_path / "o", "--bootstrap", "200", "--seed", "2", data=tmp_path / "rare.csv")
    boot = doc["pls"]["bootstrap"]
    assert 0 < boot["failed"] < 200 and boot["completed"] + boot["failed"] == 200
    assert any("resamples failed" in w for w in doc["warnings"])
    assert all(p["se"] is not None and p["se"] > 0 for p in doc["pls"]["paths"])


def test_formative_second_order_refused(tmp_path, capsys):
    text = ZJ_SPEC.read_text(encoding="utf-8").replace("    dimensions: [RV, RH, RS]",
                                                     "    formative: true\n    dimensions: [RV, RH, RS]")
    assert text != ZJ_SPEC.read_text(encoding="utf-8")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    assert main(["pls", str(tmp_path / "s.yaml"), str(ZJ), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "constructs.RD" in err and "two-stage" in err and not (tmp_path / "o").exists()


def test_one_claim_per_effect_the_percentile_ci(boot_dirs):
    """The estimate carries no stars from the t-test p; a p that disagrees with the percentile CI is marked †
    and the note says the CI decides (the same rule as the `fit` report's indirect effects)."""
    from cluster_sem.render.report import Results
    doc = json.loads((boot_dirs / "j1" / "results.json").read_text(encoding="utf-8"))
    row = doc["pls"]["paths"][0]
    row["pvalue"], row["ci_lower"], row["ci_upper"] = 0.054, 0.003, 0.191      # p says no, the CI says yes
    md = Results.from_document(doc).to_markdown()
    assert ".054†" in md and "judged by its bootstrap percentile CI" in md
    assert "\\* p < .05" not in md and "*** p" not in md
    zh = Results.from_document(doc).to_markdown(lang="zh")
    assert ".054†" in zh and "百分位置信区间" in zh
