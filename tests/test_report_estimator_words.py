"""Every estimator's reports name its own test statistic and fit indices and give one piece of estimator advice
(issue #26): terminal, Markdown and HTML, English and Chinese, for ML, MLR, FIML and WLSMV fits of the shipped
example.  A WLSMV run once printed "Yuan–Bentler scaled χ²(753) … robust CFI = —", said ML was fine and MLR was
recommended, and advised a rerun with --estimator ML on the same page."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_sem.render.html import render_html
from cluster_sem.render.markdown import render_markdown

HERE = Path(__file__).parent
SPEC = HERE.parent / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = HERE.parent / "data" / "zhejiang_128_synthetic.csv"
RUNS = {"ML": [], "MLR": ["--estimator", "MLR"], "FIML": ["--missing", "fiml"],
        "FIML_MLR": ["--missing", "fiml", "--estimator", "MLR"], "WLSMV": ["--estimator", "WLSMV"]}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Per run: the terminal summary, and the Markdown and HTML reports in en and zh."""
    out: dict[str, dict[str, str]] = {}
    for name, options in RUNS.items():
        target = tmp_path_factory.mktemp(name.lower())
        proc = subprocess.run([sys.executable, "-m", "cluster_sem.cli", "fit", str(SPEC), str(DATA), "--out",
                               str(target), "--bootstrap", "0", *options], capture_output=True, text=True,
                              cwd=HERE.parent)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads((target / "results.json").read_text(encoding="utf-8"))
        out[name] = {"terminal": proc.stdout, "doc": doc,
                     **{f"{kind}_{lang}": render(doc, lang) for lang in ("en", "zh")
                        for kind, render in (("md", render_markdown), ("html", render_html))}}
    return out


def _texts(run: dict[str, str], lang: str) -> list[str]:
    return [run[f"md_{lang}"], run[f"html_{lang}"]] + ([run["terminal"]] if lang == "en" else [])


# what the terminal summary (English) prints of the fit: statistic and index names
TERMINAL = {"ML": ["χ²(753) = ", "CFI = 0.908"], "MLR": ["Yuan–Bentler scaled χ²(753) = ", "robust CFI = 0.903"],
            "FIML": ["χ²(753) = ", "CFI = "], "FIML_MLR": ["Yuan–Bentler scaled χ²(753) = ", "robust CFI = "],
            "WLSMV": ["scaled-shifted χ²(753) = ", "scaled CFI = 0.988", "scaled RMSEA = "]}


# (present, absent) phrases per run, English and Chinese; df 753 is the measurement model's
WORDS = {
    "ML": {"en": (["χ²(753) = ", "expected-information SEs", "rerun with --estimator MLR"],
                  ["scaled χ²(753)", "robust CFI", "scaled CFI", "scaled-shifted", "is fine"]),
           "zh": (["χ²(753) = ", "期望信息矩阵标准误", "--estimator MLR"], ["校正 χ²(753)", "稳健 CFI", "校正 CFI"])},
    "MLR": {"en": (["Yuan–Bentler scaled χ²(753) = ", "robust CFI = 0.903", "robust CFI", "Yuan–Bentler scaled χ²/df",
                    "MLR (robust maximum likelihood", "(MLR) was used, as recommended"],
                   ["scaled-shifted", "scaled CFI", "WLSMV: χ²", "To follow the recommendation", "expected-information",
                    "is fine"]),
            "zh": (["Yuan–Bentler 校正 χ²(753) = ", "稳健 CFI", "已按建议使用稳健极大似然估计（MLR）"],
                   ["均值与方差校正 χ²", "校正 CFI", "如需按建议估计"])},
    "FIML": {"en": (["χ²(753) = ", "full-information maximum likelihood", "observed-information SEs",
                     "rerun with --estimator MLR --missing fiml"],
                    ["expected-information", "expected information", "robust CFI", "scaled χ²(753)", "is fine"]),
             "zh": (["全信息极大似然", "--estimator MLR --missing fiml"], ["稳健 CFI", "期望信息矩阵"])},
    "FIML_MLR": {"en": (["Yuan–Bentler scaled χ²(753) = ", "robust CFI", "MLR with full-information",
                         "corrected for missing data"],
                        ["scaled-shifted", "To follow the recommendation", "expected-information"]),
                 "zh": (["Yuan–Bentler 校正 χ²(753) = ", "稳健 CFI", "稳健全信息极大似然"], ["如需按建议估计"])},
    "WLSMV": {"en": (["scaled-shifted χ²(753) = ", "scaled CFI = 0.988", "scaled RMSEA", "scaled-shifted χ²/df",
                      "WLSMV, used here,", "rerun with --estimator MLR"],
                     ["Yuan–Bentler", "robust CFI", "CFI = —", "is fine", "rerun with --estimator ML.",
                      "Robust maximum likelihood (MLR: Huber–White standard errors, Yuan–Bentler scaled χ²) is"]),
              "zh": (["均值与方差校正 χ²(753) = ", "校正 CFI"], ["Yuan–Bentler", "稳健 CFI", "CFI = —"])},
}


@pytest.mark.parametrize("run", list(RUNS))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_estimator_names_its_statistic_and_indices(reports, run, lang):
    present, absent = WORDS[run][lang]
    for text in _texts(reports[run], lang):
        for phrase in present if text is not reports[run]["terminal"] else TERMINAL[run]:
            assert phrase in text, (run, lang, phrase)
        for phrase in absent:
            assert phrase not in text, (run, lang, phrase)


@pytest.mark.parametrize("run", list(RUNS))
def test_one_estimator_advice_per_report(reports, run):
    """Every rerun suggestion on a page names the same options, and no page calls two estimators the
    recommended one."""
    for text in _texts(reports[run], "en"):
        reruns = set(re.findall(r"rerun with (--estimator \w+(?: --missing \w+)?)", text))
        assert len(reruns) <= 1, (run, reruns)
        assert len(set(re.findall(r"\b(ML|MLR|WLSMV)\b[^.]{0,40}\bis recommended", text))) <= 1, run


def test_fit_table_rows_are_named_for_the_reported_indices(reports):
    """The fit table's row names say robust (MLR) or scaled (WLSMV), in both languages."""
    for run, en, zh in (("MLR", "robust TLI", "稳健 TLI"), ("WLSMV", "scaled TLI", "校正 TLI"), ("ML", "TLI", "TLI")):
        assert f"<tr><td>{en}</td>" in reports[run]["html_en"]
        assert f"| {zh} |" in reports[run]["md_zh"]


@pytest.mark.parametrize("estimator, missing, recommended, kurtosis_p, used_phrase, rerun", [
    ("ML", "listwise", "ML", 0.40, "ML, as recommended", None),
    ("MLR", "listwise", "ML", 0.40, "MLR, which is also valid", None),
    ("ML", "listwise", "ML", 0.001, "To follow the recommendation", "--estimator MLR"),
    ("ML", "ml", "ML", 0.001, "To follow the recommendation", "--estimator MLR --missing fiml"),
    ("MLR", "ml", "ML", 0.001, "MLR (FIML), as recommended", None),
    ("ML", "listwise", "WLSMV", 0.40, "To follow the recommendation", "--estimator WLSMV"),
    ("MLR", "ml", "WLSMV", 0.40, "To follow the recommendation", "--estimator WLSMV --missing listwise"),
    ("WLSMV", "listwise", "WLSMV", 0.001, "WLSMV, as recommended", None),
    ("WLSMV", "listwise", "ML", 0.001, "remains valid for these items", "--estimator MLR"),
])
def test_estimator_advice_for_every_combination(estimator, missing, recommended, kurtosis_p, used_phrase, rerun):
    """The choice note's verdict on the estimator used and the one rerun it suggests, from the stored choice,
    Mardia's kurtosis and the run's estimator and missing-data method (no fit needed)."""
    from cluster_sem.render.estimator_text import Advice, choice_note, kurtosis_sentence
    from cluster_sem.results.document import ResultsDocument
    doc = ResultsDocument.of({
        "meta": {"estimator": estimator, "missing": missing},
        "estimator_choice": {"recommended": recommended, "used": "ML", "asymmetric": [],
                             "few_categories": ["x1"] * (recommended == "WLSMV")},
        "normality": {"mardia_skewness": {"b1d": 1.0, "chi2": 9.0, "df": 4.0, "pvalue": 0.5},
                      "mardia_kurtosis": {"b2d": 30.0, "z": 3.1, "pvalue": kurtosis_p}, "n": 100, "p": 3}})
    advice = Advice.of(doc.meta, doc.estimator_choice, doc.normality)
    assert advice.rerun == rerun
    note = choice_note(doc.estimator_choice, advice, doc.normality, "en")
    assert used_phrase in note
    kurtosis = kurtosis_sentence(advice, kurtosis_p < 0.05, "en")
    reruns = set(re.findall(r"rerun with (--estimator \w+(?: --missing \w+)?)", note + " " + kurtosis))
    assert reruns <= ({rerun} if rerun else set()), (note, kurtosis)
