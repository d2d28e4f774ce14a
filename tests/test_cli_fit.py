"""End to end: the README's main command on the shipped Zhejiang example, the contract's results.json,
byte-identical reruns, one-line errors with exit code 2 and no half-written output."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_sem.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
FIT_KEYS = {"chi2", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci90", "srmr", "aic", "bic", "n"}
PARAM_KEYS = {"lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "std_all"}


@pytest.fixture(scope="module")
def fitted_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "results"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--seed", "1", "--quiet"]) == 0
    return out


def test_results_json_follows_the_contract(fitted_dir):
    doc = json.loads((fitted_dir / "results.json").read_text(encoding="utf-8"))
    for model in ("measurement_model", "structural_model"):
        assert FIT_KEYS <= set(doc[model]["fit"])
        assert len(doc[model]["fit"]["rmsea_ci90"]) == 2
        for row in doc[model]["parameters"]:
            assert PARAM_KEYS <= set(row)
            assert row["op"] in {"=~", "~", "~~", ":="}
    ops = {r["op"] for r in doc["structural_model"]["parameters"]}
    assert {"=~", "~", "~~", ":="} <= ops
    names = [e["name"] for e in doc["indirect_effects"]]
    assert names == ["ind_NC_CE", "ind_TS_CE", "ind_RD_CE", "ind_NC_CI", "ind_TS_CI", "ind_RD_CI"]
    for e in doc["indirect_effects"]:
        assert {"name", "path", "est", "se", "ci_lower", "ci_upper", "ci_method", "level"} <= set(e)
        assert e["ci_lower"] < e["est"] < e["ci_upper"]
    first_order = ["NC", "TS", "RV", "RH", "RS", "KA", "KS", "KC", "CE", "CI", "AF", "DF"]  # AF/DF: ch.4 module
    assert list(doc["reliability"]) == first_order
    for r in doc["reliability"].values():
        assert set(r) >= {"alpha", "omega", "ave"}
        assert 0 < r["alpha"] < 1 and 0 < r["omega"] < 1 and 0 < r["ave"] < 1
    assert set(doc["htmt"]) == set(first_order)
    meta = doc["meta"]
    assert {"version", "seed", "data_sha256", "spec_sha256", "n_used", "n_dropped"} <= set(meta)
    assert meta["n_used"] == 128 and meta["n_dropped"] == 0 and meta["seed"] == 1
    assert doc["data"]["groups"] == {"Hangzhou": 30, "Ningbo": 28, "Shaoxing": 22, "Taizhou": 22, "Wenzhou": 26}


def test_reverse_keyed_items_load_positively(fitted_dir):
    doc = json.loads((fitted_dir / "results.json").read_text(encoding="utf-8"))
    loadings = {(r["lhs"], r["rhs"]): r["std_all"] for r in doc["measurement_model"]["parameters"] if r["op"] == "=~"}
    for item in ("NC4", "TS4", "KA4", "KS4", "CE4", "CI4"):
        construct = item[:2]
        assert loadings[(construct, item)] > 0.3, item


def test_same_inputs_give_byte_identical_results_apart_from_timestamp(fitted_dir):
    out = fitted_dir  # the module's first run of exactly this command
    args = ["fit", str(SPEC), str(DATA), "--out", str(out), "--seed", "1", "--quiet"]
    first = (out / "results.json").read_text()
    assert main(args) == 0  # the same command again, into the same directory
    strip = lambda t: re.sub(r'"timestamp": "[^"]*"', '"timestamp": ""', t)  # noqa: E731
    assert strip(first) == strip((out / "results.json").read_text())


def test_summary_reads_like_a_methods_table(fitted_dir, capsys):
    from cluster_sem.api import load_results
    text = load_results(fitted_dir).summary()
    assert "Hu & Bentler 1999" in text
    assert "CFI =" in text and "RMSEA =" in text and "SRMR =" in text
    assert "IOL <- TS" in text and "H1b" in text
    assert "ind_TS_CE" in text


@pytest.mark.parametrize("args, fragment", [
    (["fit", "nope.yaml", str(DATA), "--out", "{out}"], "nope.yaml"),
    (["fit", str(SPEC), "missing.csv", "--out", "{out}"], "missing.csv"),
    (["fit", str(SPEC), str(DATA), "--out", "{out}", "--bootstrap", "-5"], "--bootstrap"),
    (["fit", str(SPEC), str(DATA), "--out", "{out}", "--ci-level", "95"], "--ci-level"),
    (["fit", str(SPEC), str(DATA), "--out", "{out}", "--bogus"], "--bogus"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, fragment):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) if "--bogus" in args else _nothing():
        code = main([a.replace("{out}", str(out)) for a in args])
        assert code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_data_value_exits_2_naming_the_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    lines = DATA.read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("TS2")
    row = lines[5].split(",")
    row[col] = "8"
    lines[5] = ",".join(row)
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["fit", str(SPEC), str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "TS2" in err and "bad.csv" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_installed_entry_point_runs_validate():
    proc = subprocess.run([sys.executable, "-m", "cluster_sem.cli", "validate", str(SPEC), str(DATA)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "valid spec" in proc.stdout


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_bootstrap_results_do_not_depend_on_jobs():
    import cluster_sem as cs
    kw = dict(bootstrap=200, seed=5, timestamp="T", command="")
    one = cs.fit(SPEC, DATA, jobs=1, **kw).to_json()
    two = cs.fit(SPEC, DATA, jobs=2, **kw).to_json()
    assert one == two  # no run time or worker count leaks into results.json
    doc = json.loads(one)
    assert doc["bootstrap"]["B"] == 200
    assert all(e["ci_method"] == "percentile" for e in doc["indirect_effects"])
    rows = doc["structural_model"]["parameters"]
    assert all("se_boot" in r for r in rows) and any(r["se_boot"] > 0 for r in rows if r["op"] == "~")


def test_moderation_block_follows_the_contract(fitted_dir):
    """Contract §4: ``moderation`` records, the interaction model's FIT with loglik/npar, H5 in hypotheses."""
    doc = json.loads((fitted_dir / "results.json").read_text(encoding="utf-8"))
    (rec,) = doc["moderation"]
    assert {"name", "between", "to", "method", "est", "se", "pvalue", "std", "simple_slopes", "johnson_neyman",
            "lrt", "index_of_moderated_mediation"} <= set(rec)
    assert rec["method"] == "lms" and rec["between"] == ["IOL", "DF"] and rec["to"] == "CE"
    assert [s["at"] for s in rec["simple_slopes"]] == [-1, 0, 1]
    for s in rec["simple_slopes"]:
        assert {"at", "moderator_value", "est", "se", "ci_lower", "ci_upper"} <= set(s)
        assert s["ci_lower"] < s["est"] < s["ci_upper"]
    assert set(rec["lrt"]) >= {"chi2", "df", "pvalue"} and rec["lrt"]["df"] == 1
    assert rec["johnson_neyman"] is None or len(rec["johnson_neyman"]) == 2
    assert [e["indirect"] for e in rec["index_of_moderated_mediation"]] == ["ind_NC_CE", "ind_TS_CE", "ind_RD_CE"]
    fit = doc["interaction_model"]["fit"]
    assert {"loglik", "npar", "aic", "bic", "n"} <= set(fit)
    assert fit["aic"] == pytest.approx(-2 * fit["loglik"] + 2 * fit["npar"])
    assert {"loglik", "npar"} <= set(doc["structural_model"]["fit"])
    rows = [r for r in doc["interaction_model"]["parameters"] if r["op"] == "~" and r["rhs"] == "IOL:DF"]
    assert len(rows) == 1 and rows[0]["lhs"] == "CE" and rows[0]["est"] == rec["est"]
    h5 = [h for h in doc["hypotheses"] if h["id"] == "H5"]
    assert h5 and h5[0]["supported"] == (rec["pvalue"] < 0.05 and rec["est"] < 0)


def test_qml_fit_reports_h5_close_to_lms(tmp_path, fitted_dir):
    """--interaction-method qml runs end to end (second-order IOL, controls) and agrees with LMS on H5."""
    out = tmp_path / "qml"
    assert main(["fit", str(SPEC), str(DATA), "--out", str(out), "--interaction-method", "qml", "--quiet"]) == 0
    (qml,) = json.loads((out / "results.json").read_text(encoding="utf-8"))["moderation"]
    (lms,) = json.loads((fitted_dir / "results.json").read_text(encoding="utf-8"))["moderation"]
    assert qml["method"] == "qml" and lms["method"] == "lms"
    assert abs(qml["est"] - lms["est"]) < 0.1 * lms["se"] and qml["se"] == pytest.approx(lms["se"], rel=0.05)
    # without the product both likelihoods are the linear model's: the same H0 log-likelihood
    assert qml["lrt"]["loglik_h0"] == pytest.approx(lms["lrt"]["loglik_h0"], abs=1e-3)
