"""End to end: `cluster-sem fit SPEC DATA --cluster COLUMN` / `--weights COLUMN` and the spec keys
`cluster:` / `weights:` — the results.json ``design`` block, the few-clusters warning (terminal, results.json,
report in en and zh), SEs equal to the API's cluster-robust fit, and the one-line refusals."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cluster_sem.cli import main
from cluster_sem.results.design import icc1

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
DESIGN = Path(__file__).parent / "reference" / "design"


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """`fit --cluster region` on the shipped example (5 regions): the few-clusters case."""
    out = tmp_path_factory.mktemp("cluster") / "results"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--cluster", "region", "--seed", "1"]) == 0
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_design_block_follows_the_contract(clustered):
    _, doc = clustered
    d = doc["design"]
    regions = pd.read_csv(DATA)["region"].value_counts()
    assert d["cluster"] == "region" and d["weights"] is None
    assert d["n_clusters"] == 5 == len(regions)
    assert d["cluster_size"] == {"min": int(regions.min()), "median": float(regions.median()),
                                 "max": int(regions.max())}
    assert d["se"] == "robust.cluster" and d["test"] == "yuan.bentler.mplus" == doc["meta"]["test"]
    assert "se = robust.cluster" in doc["meta"]["conventions"]
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    items = [it["id"] for c in spec["constructs"].values() for it in (c.get("items") or [])]
    assert set(d["icc"]) == set(items) | {c for c, v in spec["constructs"].items() if v.get("items")}
    m = 128 / 5
    for name, icc in d["icc"].items():
        assert 0.0 <= icc < 1.0
        assert d["design_effect"][name] == pytest.approx(1 + (m - 1) * icc, rel=1e-12)
        assert d["effective_n"][name] == pytest.approx(128 / d["design_effect"][name], rel=1e-12)


def test_few_clusters_warning_in_json_terminal_and_reports(clustered, capsys, tmp_path):
    out, doc = clustered
    assert len(doc["design"]["warnings"]) == 1
    warning = doc["design"]["warnings"][0]
    assert "only 5 clusters" in warning and "20" in warning and "fixed effects" in warning \
        and "cluster bootstrap" in warning
    assert f"design: {warning}" in doc["warnings"]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Only 5 clusters" in md and "fixed effects" in md and "cluster bootstrap" in md
    assert "Only 5 clusters" in (out / "report.html").read_text(encoding="utf-8")
    zh = tmp_path / "zh"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(zh), "--cluster", "region", "--lang", "zh"]) == 0
    text = capsys.readouterr()
    assert "only 5 clusters" in text.out + text.err
    assert "仅有 5 个群" in (zh / "report.md").read_text(encoding="utf-8")
    assert "整群 bootstrap" in (zh / "report.html").read_text(encoding="utf-8")


def test_structural_ses_are_the_apis_cluster_robust_ones(clustered):
    """The paths in results.json carry the casewise fitter's cluster-robust SEs (not the naive ones)."""
    from cluster_sem.data import prepare_data
    from cluster_sem.model.fitted import fit_model
    from cluster_sem.model.fitted_casewise import fit_model_casewise
    from cluster_sem.spec import load_spec
    from cluster_sem.spec.syntax import structural_syntax
    _, doc = clustered
    spec = load_spec(SPEC).model_copy(update={"cluster": "region"})
    frame = prepare_data(spec, DATA, by_group=False).frame
    fit = fit_model_casewise(structural_syntax(spec, with_defined=True), frame, missing="listwise",
                             cluster="region")
    P = fit.parameters[fit.parameters.op == "~"].set_index(["lhs", "rhs"])
    rows = [r for r in doc["structural_model"]["parameters"] if r["op"] == "~"]
    assert rows
    for r in rows:     # 1e-8: the pipeline runs with one BLAS thread, this test with the default
        assert r["se"] == pytest.approx(P.loc[(r["lhs"], r["rhs"]), "se"], rel=1e-8)
    naive = fit_model(structural_syntax(spec, with_defined=True), frame).parameters.set_index(["lhs", "op", "rhs"])
    ratio = [r["se"] / naive.loc[(r["lhs"], "~", r["rhs"]), "se"] for r in rows]
    assert max(abs(np.log(ratio))) > 0.05      # with 5 regions some SEs move by more than 5 %


def test_spec_key_gives_the_same_block_and_the_option_wins(tmp_path, clustered):
    _, doc = clustered
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["cluster"] = "region"
    keyed = tmp_path / "keyed.yaml"
    keyed.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "keyed"
    assert main(["fit", str(keyed), str(DATA), "--out", str(out), "--seed", "1", "--quiet"]) == 0
    keyed_doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert keyed_doc["design"] == doc["design"]
    # the same document apart from meta (command line, spec hash, timestamp): the key and the option are one
    assert {k: v for k, v in keyed_doc.items() if k != "meta"} == {k: v for k, v in doc.items() if k != "meta"}
    spec["cluster"] = "no_such_column"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out2 = tmp_path / "wins"
    assert main(["fit", str(wrong), str(DATA), "--out", str(out2), "--cluster", "region", "--quiet"]) == 0
    assert json.loads((out2 / "results.json").read_text(encoding="utf-8"))["design"]["cluster"] == "region"


def test_weights_option_gives_a_weighted_robust_fit(tmp_path):
    data = pd.read_csv(DATA)
    data["w"] = np.where(data["region"] == data["region"].iloc[0], 2.0, 1.0)
    path = tmp_path / "weighted.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["fit", str(SPEC), str(path), "--out", str(out), "--weights", "w", "--quiet"]) == 0
    d = json.loads((out / "results.json").read_text(encoding="utf-8"))["design"]
    assert d["weights"] == "w" and d["cluster"] is None and d["n_clusters"] is None
    assert d["se"] == "robust.huber.white" and d["warnings"] == []


def _with_column(tmp_path: Path, name: str, values) -> Path:
    data = pd.read_csv(DATA)
    data[name] = values
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("extra, column, values, fragment", [
    (["--cluster", "regoin"], None, None, "'regoin'"),
    (["--cluster", "site"], "site", [None] + ["a", "b"] * 63 + ["a"], "column 'site': no cluster in row 2"),
    (["--weights", "w"], "w", [0.0] + [1.0] * 127, "column 'w': weights must be positive"),
    (["--weights", "w"], "w", ["x"] + [1.0] * 127, "column 'w': text where a number is expected"),
    (["--weights", "w", "--estimator", "WLSMV"], "w", [1.0] * 128, "--weights with --estimator WLSMV"),
    (["--cluster", "region", "--bootstrap", "200"], None, None, "--cluster with --bootstrap"),
    (["--cluster", ""], None, None, "--cluster"),
])
def test_bad_design_input_exits_2_with_one_line(tmp_path, capsys, extra, column, values, fragment):
    data = DATA if column is None else _with_column(tmp_path, column, values)
    out = tmp_path / "out"
    assert main(["fit", str(SPEC), str(data), "--out", str(out)] + extra) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_spec_key_naming_an_item_is_a_spec_error(tmp_path, capsys):
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["cluster"] = "TS1"
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert main(["fit", str(path), str(DATA), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "cluster" in err and "'TS1' is also an item" in err


def test_icc1_is_the_one_way_anova_estimator():
    """ICC(1) by hand on an unbalanced toy (3 clusters of 2, 3, 4): MSB, MSW and n₀ as Shrout & Fleiss."""
    y = np.array([1.0, 2.0, 4.0, 5.0, 6.0, 2.0, 3.0, 3.0, 4.0])
    c = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    means = np.array([1.5, 5.0, 3.0])
    sizes = np.array([2, 3, 4])
    grand = y.mean()
    msb = (sizes * (means - grand) ** 2).sum() / 2
    msw = (((y - means[c]) ** 2).sum()) / (9 - 3)
    n0 = (9 - (sizes ** 2).sum() / 9) / 2
    s2b = (msb - msw) / n0
    assert icc1(y, c) == pytest.approx(s2b / (s2b + msw), rel=1e-12)
    assert icc1(np.array([1.0, 2.0, 1.0, 2.0]), np.array([0, 0, 1, 1])) == 0.0   # negative estimate → 0


def test_icc1_is_close_to_lavaans_two_level_icc():
    """lavaan's ``lavInspect(fit, "icc")`` (design_reference.json ``twolevel``) is an EM estimate of the
    saturated two-level model (stopped at tol 1e-4, with x1–x3 within-only and w1–w2 between-only); the
    ANOVA ICC(1) of the same items agrees to .004 (measured .0001, .0006, .0030), not exactly."""
    demo = pd.read_csv(DESIGN / "demo_twolevel.csv")
    lavaan = json.loads((DESIGN / "design_reference.json").read_text())["twolevel"]["icc"]
    codes = demo["cluster"].to_numpy()
    for item in ("y1", "y2", "y3"):
        assert icc1(demo[item].to_numpy(dtype=float), codes) == pytest.approx(lavaan[item], abs=0.004)


def test_invariance_uses_the_spec_cluster(tmp_path):
    """`invariance` on a spec with `cluster:` fits every level cluster-robust (clusters nested in groups,
    counted per group) and no longer warns that it ignores the clusters."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["cluster"] = "site"
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    data = _with_column(tmp_path, "site", np.arange(128) % 16)
    out = tmp_path / "inv"
    assert main(["invariance", str(path), str(data), "--out", str(out), "--quiet"]) == 0
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert not any("not used by invariance" in w for w in doc["warnings"])
    block = doc["invariance"]
    assert block["cluster"]["column"] == "site"
    assert block["cluster"]["clusters"] == {"north": 16, "south": 15}   # a site in both groups counts in each
    assert 'cluster = "site"' in doc["meta"]["conventions"]
    assert "cluster-robust (firms clustered by 'site' within each group; clusters per group: north 16, south 15)" \
        in (out / "report.md").read_text(encoding="utf-8")
    configural = block["levels"][0]["fit"]
    assert configural["chi2_scaled"] == pytest.approx(configural["chi2"] / configural["chi2_scaling_factor"])


def test_invariance_cluster_option_refusals(tmp_path, capsys):
    """--cluster with --missing fiml across groups is refused in one line before any fit; an item as the
    cluster column is refused as for `fit`."""
    data = _with_column(tmp_path, "site", np.arange(128) % 16)
    out = tmp_path / "inv"
    assert main(["invariance", str(SPEC), str(data), "--out", str(out), "--cluster", "site",
                 "--missing", "fiml", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--cluster with --missing fiml across groups is not implemented" in err and len(err.splitlines()) == 1
    assert main(["invariance", str(SPEC), str(data), "--out", str(out), "--cluster", "NC1", "--quiet"]) == 2
    assert "--cluster NC1: 'NC1' is an item of the model" in capsys.readouterr().err
    assert not out.exists()
