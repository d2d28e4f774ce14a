"""Chinese reports say everything in Chinese (issue #26): `report DIR --lang zh` writes report.zh.html/.md beside
the English reports instead of replacing them, and no Chinese report (fit with warnings, a data-preparation
log and a bootstrap; FIML/MLR; WLSMV; invariance; power) keeps an English sentence — warnings, the cleaning
log, the estimation note and the models' warnings once stayed English (detector: tests/english_prose.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cluster_sem.api import simulate
from cluster_sem.cli import main
from cluster_sem.render.html import render_html
from cluster_sem.render.markdown import render_markdown
from cluster_sem.render.power import render_power_html, render_power_markdown

from english_prose import english_in_report, english_runs, html_text

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
REGIONS = ROOT / "tests" / "specs" / "regions_small.yaml"
POWER_SPEC = ROOT / "tests" / "specs" / "mm2002_cfa.yaml"


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory) -> Path:
    """The example data with "no answer" codes, blanks and a -99 in a control: a cleaning log, dropped rows
    and their reasons, a sentinel warning."""
    frame = pd.read_csv(DATA)
    frame.loc[[3, 10], "NC1"] = 99
    frame.loc[[5], "TS2"] = None
    frame.loc[[7, 20], "KA1"] = None
    frame.loc[[30], "firm_age"] = -99
    path = tmp_path_factory.mktemp("data") / "dirty.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fit_dir(tmp_path_factory, dirty_csv) -> Path:
    out = tmp_path_factory.mktemp("fit") / "results"
    assert main(["fit", str(SPEC), str(dirty_csv), "--out", str(out), "--bootstrap", "200", "--quiet"]) == 0
    return out


def _fit(tmp_path_factory, data: Path, *options: str) -> dict:
    out = tmp_path_factory.mktemp("fit") / "results"
    assert main(["fit", str(SPEC), str(data), "--out", str(out), "--bootstrap", "0", "--quiet", *options]) == 0
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def _assert_chinese(doc: dict, html: str, md: str) -> None:
    leaks = english_in_report(html, doc, html=True) + english_in_report(md, doc, html=False)
    assert not leaks, sorted(set(leaks))


def test_report_lang_zh_writes_beside_the_english_reports(fit_dir, tmp_path):
    english = {name: (fit_dir / name).read_text(encoding="utf-8") for name in ("report.html", "report.md")}
    assert main(["report", str(fit_dir), "--lang", "zh"]) == 0
    for name, text in english.items():
        assert (fit_dir / name).read_text(encoding="utf-8") == text      # the English report is kept
    assert "结构方程模型报告" in (fit_dir / "report.zh.html").read_text(encoding="utf-8")
    assert "## 1. 研究与数据" in (fit_dir / "report.zh.md").read_text(encoding="utf-8")
    other = tmp_path / "elsewhere"
    assert main(["report", str(fit_dir), "--lang", "zh", "--out", str(other)]) == 0
    assert sorted(p.name for p in other.iterdir()) == ["report.zh.html", "report.zh.md"]
    assert main(["report", str(fit_dir), "--out", str(other)]) == 0
    assert (other / "report.html").read_text(encoding="utf-8") == english["report.html"]


def test_fit_report_with_warnings_log_and_bootstrap_is_chinese(fit_dir):
    doc = json.loads((fit_dir / "results.json").read_text(encoding="utf-8"))
    assert doc["warnings"] and doc["data"]["log"] and doc["data"]["dropped"] and doc["bootstrap"]
    html, md = render_html(doc, "zh"), render_markdown(doc, "zh")
    _assert_chinese(doc, html, md)
    assert "测量模型：样本量（n = 123）少于自由参数个数（150）" in md
    assert "因 NC1 (2), KA1 (2), TS2 (1) 存在缺失值，删除 5 行（列删除）" in md
    assert "| 5 | 缺失 NC1 |" in md


@pytest.mark.parametrize("options", [("--missing", "fiml", "--estimator", "MLR"), ("--estimator", "WLSMV")],
                         ids=["fiml-mlr", "wlsmv"])
def test_fit_reports_of_other_estimators_are_chinese(tmp_path_factory, dirty_csv, options):
    doc = _fit(tmp_path_factory, dirty_csv if "fiml" in options else DATA, *options)
    _assert_chinese(doc, render_html(doc, "zh"), render_markdown(doc, "zh"))


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_invariance_report_is_chinese(tmp_path_factory, estimator):
    data = tmp_path_factory.mktemp("data") / "regions.csv"
    simulate(REGIONS, 120, 7).to_csv(data, index=False)      # small groups: a warning per group
    out = tmp_path_factory.mktemp("inv") / "results"
    assert main(["invariance", str(REGIONS), str(data), "--out", str(out), "--quiet", "--estimator", estimator]) == 0
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["invariance"]["warnings"]
    _assert_chinese(doc, render_html(doc, "zh"), render_markdown(doc, "zh"))


def test_power_report_is_chinese(tmp_path):
    out = tmp_path / "power"
    assert main(["power", str(POWER_SPEC), "--n", "60,90", "--reps", "20", "--seed", "3", "--out", str(out),
                 "--quiet"]) == 0
    doc = json.loads((out / "power.json").read_text(encoding="utf-8"))
    _assert_chinese(doc, render_power_html(doc, "zh"), render_power_markdown(doc, "zh"))


def test_every_message_template_translates_to_its_own_chinese():
    """Each catalogued message, filled with placeholder values, comes back as its own Chinese text (no entry
    is shadowed by an earlier, looser one), and both sides use the same fields."""
    import re

    from cluster_sem.render.i18n import catalogue
    from cluster_sem.render.messages import translate
    field = re.compile(r"\{(\w+)\}")
    for key, entry in catalogue("messages").items():
        names = field.findall(entry["en"])
        assert sorted(names) == sorted(field.findall(entry["zh"])), key
        values = {name: f"V{i}" for i, name in enumerate(names)}
        assert translate(entry["en"].format(**values), "zh") == entry["zh"].format(**values), key
        assert translate(entry["en"].format(**values), "en") == entry["en"].format(**values)


def test_the_detector_finds_english_sentences_and_passes_terms():
    """A detector that finds nothing proves nothing: it flags an English clause inside Chinese text and in a
    table cell, and passes ids, formulae, options, lavaan terms, citations and user labels."""
    assert english_runs("测量模型：fewer cases (n = 128) than free parameters (150)") == ["than free parameters"]
    assert english_runs("Bootstrap：a resample counts as converged when") == ["resample counts as converged when"]
    assert english_runs("关系强度\nrows have no group; kept") == ["rows have no group; kept"]
    terms = ("Yuan–Bentler 校正 χ²(753) = 947.12，p < .001；稳健 CFI = .903（Hu & Bentler, 1999；Podsakoff et al. "
             "2003）。lavaan group.equal，lavTestLRT，--missing listwise --estimator ML，Fisher 得分法，NC1, KA1, TS2")
    assert english_runs(terms) == []
    assert english_runs("关系强度 Tie strength and more", allowed=["Tie strength and more"]) == []
    assert "fewer cases than free" in html_text("<ul><li>fewer cases than free</li></ul><pre>a b c d</pre>")
    assert "a b c d" not in html_text("<pre>a b c d</pre>")


# --- the newer reports: pls, cmb, a complex-sample fit, a spec written by `new` (with `source:` citations) ---

def _zh_reports(out: Path) -> tuple[dict, str, str]:
    """results.json and the Chinese HTML/Markdown of ``out`` (report.zh.* from `report --lang zh`, or the
    report.* of a command run with --lang zh)."""
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    read = (lambda name: (out / name).read_text(encoding="utf-8") if (out / name).exists()
            else (out / name.replace(".zh", "")).read_text(encoding="utf-8"))
    return doc, read("report.zh.html"), read("report.zh.md")


def test_pls_report_with_warnings_is_chinese(tmp_path):
    """The PLS document's own warnings (interactions not estimated, covariances ignored) stayed English."""
    out = tmp_path / "pls"
    assert main(["pls", str(SPEC), str(DATA), "--out", str(out), "--quiet"]) == 0
    assert main(["report", str(out), "--lang", "zh"]) == 0
    doc, html, md = _zh_reports(out)
    assert len(doc["warnings"]) == 2
    _assert_chinese(doc, html, md)
    assert "设定中的残差协方差在 PLS 路径模型中没有对应项，已忽略" in md
    direct = tmp_path / "pls-zh"
    assert main(["pls", str(SPEC), str(DATA), "--out", str(direct), "--quiet", "--lang", "zh"]) == 0
    doc, html, md = _zh_reports(direct)
    _assert_chinese(doc, html, md)
    assert "设定中的残差协方差在 PLS 路径模型中没有对应项，已忽略" in md


def test_cmb_report_with_improper_models_is_chinese(tmp_path):
    """The battery's improper-solution alerts quoted the fitter's English problems ("negative variance for
    TS4 (...): Heywood case"), and the model comparisons read "Method-C vs Method-R"."""
    from test_hardening_groups import SPEC as REGIONAL
    spec = tmp_path / "spec.yaml"
    spec.write_text(REGIONAL + "method_marker: [AF1, AF2, AF3]\n", encoding="utf-8")
    out = tmp_path / "cmb"
    assert main(["cmb", str(spec), str(DATA), "--out", str(out), "--lang", "zh", "--quiet"]) == 0
    doc, html, md = _zh_reports(out)
    assert any(w.startswith("ulmc: ") for w in doc["warnings"])
    _assert_chinese(doc, html, md)
    assert "Heywood 个案" in md and "Method-C 对比 Method-R" in md


def test_complex_sample_report_is_chinese(tmp_path):
    """The few-clusters warning ("design: only 12 clusters: ...") stayed English in the warnings list."""
    frame = pd.read_csv(DATA)
    frame["plant"] = [i % 12 for i in range(len(frame))]
    frame.to_csv(tmp_path / "data.csv", index=False)
    out = tmp_path / "fit"
    assert main(["fit", str(SPEC), str(tmp_path / "data.csv"), "--out", str(out), "--cluster", "plant", "--quiet"]) == 0
    assert main(["report", str(out), "--lang", "zh"]) == 0
    doc, html, md = _zh_reports(out)
    assert any(w.startswith("design: only 12 clusters") for w in doc["warnings"])
    _assert_chinese(doc, html, md)
    assert "抽样设计：仅有 12 个群" in md


def test_report_of_a_spec_written_by_new_is_chinese(tmp_path):
    spec, data, out = tmp_path / "study.yaml", tmp_path / "study.csv", tmp_path / "fit"
    assert main(["new", str(spec), "--from", "TS,RQ,OL,CG", "--paths", "TS,RQ -> OL -> CG"]) == 0
    assert main(["simulate", str(spec), "--n", "250", "--seed", "1", "--out", str(data)]) == 0
    assert main(["fit", str(spec), str(data), "--out", str(out), "--lang", "zh", "--quiet"]) == 0
    doc, html, md = _zh_reports(out)
    _assert_chinese(doc, html, md)
    assert "题项来源" in md and "Granovetter (1973)" in md
