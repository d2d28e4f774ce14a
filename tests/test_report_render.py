"""HTML / Markdown reports rendered from the results document alone: structure, numbers, escaping,
self-containment, determinism, languages, path diagram."""
from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

import cluster_sem as cs
from cluster_sem.render.context import build_context
from cluster_sem.render.diagram import path_diagram_svg, structure
from cluster_sem.render.html import SECTIONS, render_html, render_html_fragment
from cluster_sem.render.labels import LABELS, phrase
from cluster_sem.render.markdown import md_escape, render_markdown
from cluster_sem.render.numbers import fmt, fmt_ci, fmt_p, fmt_unit, stars

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "questionnaires" / "zhejiang_cluster_growth.yaml"
DATA = ROOT / "data" / "zhejiang_128_synthetic.csv"
STAMP = "2026-01-02T03:04:05+00:00"
EVIL = "<script>alert(1)</script> & co | *x*"


@pytest.fixture(scope="module")
def doc(example_doc) -> dict:
    """The shipped example through the real pipeline (the session's shared fit, conftest.py; a copy)."""
    return copy.deepcopy(example_doc)


@pytest.fixture(scope="module")
def html_en(doc) -> str:
    return render_html(doc, lang="en")


@pytest.fixture(scope="module")
def html_zh(doc) -> str:
    return render_html(doc, lang="zh")


@pytest.fixture(scope="module")
def evil_doc(doc) -> dict:
    d = copy.deepcopy(doc)
    item = d["spec"]["constructs"]["NC"]["items"][0]
    item["text"]["en"] = EVIL
    item["text"]["zh"] = EVIL
    d["spec"]["constructs"]["TS"]["label"]["en"] = "<b>Tie</b> strength"
    d["spec"]["hypotheses"]["H1a"]["text"]["en"] = "H1a <img src=x onerror=alert(2)>"
    d["warnings"] = ["structural model: <i>Heywood</i> case: negative variance of CE"]
    return d


class Tables(HTMLParser):
    """table id → list of rows → list of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._id = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._id = a["id"]
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._id = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._id].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(self._cell.split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def tables(html: str) -> dict[str, list[list[str]]]:
    p = Tables()
    p.feed(html)
    return p.tables


def row(table: list[list[str]], first: str) -> list[str]:
    return next(r for r in table if r and r[0].startswith(first))


# ------------------------------------------------------------------------------------------------ structure
def test_every_section_heading_present(html_en, doc):
    for sid, key in SECTIONS:
        assert f'<section id="{sid}">' in html_en
        assert f"{escape(phrase(key, 'en'))}</h2>" in html_en
    assert html_en.startswith("<!DOCTYPE html>")
    assert "Zhejiang industrial cluster growth survey" in html_en
    for key in ("loadings_table", "reliability_table", "fl_table", "htmt_table", "harman"):
        assert escape(phrase(key, "en")) in html_en
    assert 'class="path-diagram"' in html_en


def test_fit_table_numbers_and_verdicts(html_en, doc):
    fit = tables(html_en)["tbl-fit"]
    cfi = row(fit, "CFI")
    assert cfi[1] == fmt_unit(doc["measurement_model"]["fit"]["cfi"]) == ".908"  # 42 items since the AF/DF module
    assert cfi[3] == fmt_unit(doc["structural_model"]["fit"]["cfi"])
    assert cfi[2] == doc["fit_verdicts"]["measurement"]["cfi"]["verdict"]
    assert cfi[5] == "≥ .95 / ≥ .90"
    assert "Hu & Bentler (1999)" in cfi[6]
    rmsea = row(fit, "RMSEA")
    assert rmsea[1] == fmt_unit(doc["measurement_model"]["fit"]["rmsea"])
    assert "Browne & Cudeck (1993)" in rmsea[6]
    chi = row(fit, "χ²/df")
    assert chi[1] == fmt(doc["fit_verdicts"]["measurement"]["chi2_df"]["value"], 2)
    f = doc["structural_model"]["fit"]
    assert f"χ²({f['df']}) = {fmt(f['chi2'], 2)}" in html_en


def test_measurement_tables(html_en, doc):
    t = tables(html_en)
    rel = t["tbl-reliability"]
    for c, r in doc["reliability"].items():
        cells = next(x for x in rel if f"({c})" in x[0])
        assert cells[1:4] == [fmt_unit(r["alpha"]), fmt_unit(r["omega"]), fmt_unit(r["ave"])]
    loads = t["tbl-loadings"]
    std = {p["rhs"]: p["std_all"] for p in doc["measurement_model"]["parameters"] if p["op"] == "=~"}
    ts2 = next(x for x in loads if x[1] == "TS2")
    assert ts2[4] == fmt_unit(std["TS2"])
    # Fornell–Larcker diagonal is √AVE as stored; HTMT lower triangle
    fl = t["tbl-fl"]
    assert row(fl, "KS")[7] == fmt_unit(doc["fornell_larcker"]["KS"]["KS"])
    assert row(t["tbl-htmt"], "KS")[6] == fmt(doc["htmt"]["KS"]["KA"])


def test_low_loadings_flagged(doc):
    d = copy.deepcopy(doc)
    p = next(p for p in d["measurement_model"]["parameters"] if p["op"] == "=~" and p["rhs"] == "NC3")
    p["std_all"] = 0.42
    html = render_html(d)
    nc3 = next(x for x in tables(html)["tbl-loadings"] if x[1] == "NC3")
    assert nc3[4] == ".420" and "below .50" in nc3[6]
    assert "(NC3)" in html


def test_paths_hypotheses_and_stars(html_en, doc):
    paths = tables(html_en)["tbl-paths"]
    for h in doc["hypotheses"]:
        if h["kind"] != "path" or not h["id"]:  # AF/DF → CE are controls of H5, not hypotheses themselves
            continue
        cells = row(paths, f"{h['from']} → {h['to']}")
        assert cells[1] == h["id"]
        assert cells[5] == fmt(h["std_all"])
        assert cells[6] == fmt_p(h["pvalue"]) + stars(h["pvalue"])
        assert cells[7] == ("supported" if h["supported"] else "not supported")
    assert row(paths, "TS → IOL")[6] == ".030*"  # data regenerated with the AF/DF module
    assert row(paths, "firm_age → IOL")[7] == "control"
    assert "* p &lt; .05, ** p &lt; .01, *** p &lt; .001" in html_en


def test_indirect_effects_ci_method_level_and_mediation(html_en, doc):
    ind = tables(html_en)["tbl-indirect"]
    med = {m["name"]: m for m in doc["mediation"]}
    for e in doc["indirect_effects"]:
        cells = row(ind, " → ".join(e["path"]))
        assert cells[4] == fmt_ci(e["ci_lower"], e["ci_upper"])
        assert cells[8] == med[e["name"]]["mediation"]
        assert cells[9] == med[e["name"]]["type"]
    assert row(ind, "TS → IOL → CE")[4] == "[0.005, 0.273]"  # data regenerated with the AF/DF module
    assert "95% confidence intervals, delta method" in html_en
    assert "Zhao, Lynch &amp; Chen (2010)" in html_en
    bk = tables(html_en)["tbl-bk"]
    assert any("X → M (a) is significant" in r for r in map(" ".join, bk))


def test_bootstrap_cis_and_warnings_shown(doc):
    d = copy.deepcopy(doc)
    d["indirect_effects"][1]["cis"]["percentile"] = [0.08, 0.53]
    d["bootstrap"] = {"B": 200, "seed": 1, "level": 0.95, "n_converged": 200, "n_nonconverged": 0,
                      "n_inadmissible": 26, "n_fallback": 0, "rule": "inadmissible kept", "seconds": 1.0}
    d["warnings"] = ["bootstrap: 26 of 200 resamples had inadmissible solutions (kept, as lavaan does)"]
    html = render_html(d)
    assert "percentile bootstrap" in html and "[0.080, 0.530]" in html
    assert "B = 200 resamples, seed 1" in html
    alert = html.index('role="alert"')
    assert alert < html.index('<section id="data">')
    assert "26 of 200 resamples" in html[alert:html.index("</section>", alert)]
    md = render_markdown(d)
    assert md.index("Warnings") < md.index("## 1.")


def test_no_warning_block_without_warnings(doc):
    # the example itself now warns (42 items: 150 CFA parameters > 128 cases), so clear the warnings
    clean = copy.deepcopy(doc)
    clean["warnings"] = []
    for model in ("measurement_model", "structural_model"):
        clean[model]["warnings"] = []
    assert 'role="alert"' not in render_html(clean, lang="en")


def test_data_section(doc):
    d = copy.deepcopy(doc)
    d["data"].update(n_raw=131, n_dropped=3, dropped=[[4, "missing NC1"], [17, "missing TS2, KA1"], [99, "x"]],
                     missing_by_item={**d["data"]["missing_by_item"], "NC1": 1 / 131})
    html = render_html(d)
    assert "missing TS2, KA1" in html
    assert ">Hangzhou</td><td class=\"num\">30</td>" in html
    assert "NC1</td><td class=\"num\">1</td><td class=\"num\">0.8</td>" in html


# --------------------------------------------------------------------------------------- escaping, self-contained
def test_user_text_is_escaped(evil_doc):
    html = render_html(evil_doc)
    assert "<script>" not in html and "alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "&lt;b&gt;Tie&lt;/b&gt; strength" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;i&gt;Heywood&lt;/i&gt;" in html
    frag = render_html_fragment(evil_doc)
    assert "<i>Heywood" not in frag
    md = render_markdown(evil_doc)
    assert "<script" not in md and "<img" not in md
    row_md = next(line for line in md.splitlines() if line.startswith("| NC1 |"))
    assert "\\| \\*x\\*" in row_md and row_md.count(" | ") == 9   # the pipe does not add a column


def test_no_external_urls(html_en, html_zh):
    for html in (html_en, html_zh):
        assert not re.search(r"https?://", html)
        assert not re.search(r"""(src|href)\s*=\s*["']?//""", html)
        assert "url(" not in html.replace("url(#", "")
        assert "<link" not in html and "<script" not in html and "@import" not in html
        assert "<style>" in html and "@media print" in html and "max-width: 700px" in html


def test_markdown_has_no_urls(doc):
    assert not re.search(r"https?://", render_markdown(doc))


# ------------------------------------------------------------------------------------------- determinism
def test_deterministic(doc, html_en):
    assert render_html(doc) == html_en
    assert render_markdown(doc) == render_markdown(doc)
    assert path_diagram_svg(doc) == path_diagram_svg(doc)
    later = copy.deepcopy(doc)
    later["meta"]["timestamp"] = "2027-12-31T23:59:59+00:00"
    assert render_html(later).replace("2027-12-31T23:59:59+00:00", STAMP) == html_en
    assert render_markdown(later).replace("2027-12-31T23:59:59+00:00", STAMP) == render_markdown(doc)


def test_reports_from_json_round_trip(doc, html_en, tmp_path):
    """results.json alone is enough: the reloaded document renders the same report."""
    (tmp_path / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = cs.load_results(tmp_path)
    assert res.to_html() == html_en
    assert res.to_markdown(lang="zh") == render_markdown(doc, lang="zh")
    assert res._repr_html_().startswith('<div class="csem-fragment">')


# ---------------------------------------------------------------------------------------------- languages
def test_zh_headings_and_labels(html_zh, doc):
    assert '<html lang="zh-CN">' in html_zh
    for sid, key in SECTIONS:
        assert f"{escape(LABELS['zh'][key])}</h2>" in html_zh
    assert "浙江省产业集群成长调查" in html_zh
    assert "网络联结方式" in html_zh                       # construct label
    assert "我们通过正式合同或协议与集群内其他企业开展合作。" in html_zh   # item wording
    assert "关系强度对组织间学习有正向影响。" in html_zh             # hypothesis text
    assert "仅间接效应（完全）中介" in html_zh and "完全中介" in html_zh  # data regenerated with AF/DF
    assert "Connection mode" not in html_zh
    fit = tables(html_zh)["tbl-fit"]
    assert row(fit, "CFI")[2] == "可接受"  # CFI .908 since the AF/DF module
    md = render_markdown(doc, lang="zh")
    assert "## 1. 研究与数据" in md and "网络联结方式" in md


def test_zh_falls_back_to_english(doc):
    d = copy.deepcopy(doc)
    del d["spec"]["constructs"]["NC"]["label"]["zh"]
    del d["spec"]["constructs"]["TS"]["items"][0]["text"]["zh"]
    html = render_html(d, lang="zh")
    assert 'Connection mode <span class="code muted">(NC)</span>' in html
    assert '网络联结方式 <span class="code muted">(NC)</span>' not in html
    assert "We interact with our main partner firms frequently." in html
    assert "研究与数据" in html


def test_unknown_language_rejected(doc):
    with pytest.raises(ValueError, match="unknown report language"):
        render_html(doc, lang="fr")


def test_context_matches_between_formats(doc):
    md = render_markdown(doc)
    ctx = build_context(doc)
    for r in ctx["fit_rows"]:
        assert f"| {md_escape(r['index'])} | {r['m']} |" in md
    ts = next(e for e in ctx["indirect"] if e["path"] == "TS → IOL → CE")
    assert ts["ci"] in md


# ------------------------------------------------------------------------------------------------ diagram
def test_diagram_layers_and_style(doc):
    st = structure(doc)
    assert st["layer"] == {"NC": 0, "TS": 0, "RD": 0, "AF": 0, "DF": 0, "IOL": 1, "CE": 2, "CI": 2}
    assert "firm_age" not in st["nodes"]                       # controls are not drawn
    svg = path_diagram_svg(doc)
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg and "<!--" not in svg
    assert "<text" in svg and "Tie strength" in svg              # text kept as text (svg.fonttype none)
    assert "0.74***" in svg and "0.34*" in svg                   # β with stars on the arrows (AF/DF data)
    n_ns = sum(1 for e in st["edges"] if not (e["pvalue"] < 0.05))
    assert n_ns == 7
    dashed = re.findall(r'<g id="patch_\d+">\s*<path[^>]*?stroke-dasharray', svg)
    assert len(dashed) == n_ns                                     # non-significant paths dashed
    assert "dc:date" not in svg.lower()
    zh = path_diagram_svg(doc, "zh")
    assert "组织间学习" in zh


def test_diagram_empty_without_paths(doc):
    d = copy.deepcopy(doc)
    d["spec"]["paths"] = []
    d["structural_model"]["parameters"] = [p for p in d["structural_model"]["parameters"] if p["op"] != "~"]
    assert path_diagram_svg(d) == ""
    assert 'class="path-diagram"' not in render_html(d)


def test_sparse_document_still_renders(doc):
    """A model without indirect effects, groups, hypotheses or quality checks renders in both formats."""
    d = copy.deepcopy(doc)
    for key in ("indirect_effects", "total_effects", "mediation", "htmt_flags"):
        d[key] = []
    for key in ("htmt", "fornell_larcker", "common_method"):
        d[key] = {}
    d["data"]["groups"] = {}
    d["spec"]["hypotheses"] = {}
    d["spec"].pop("indirect", None)
    d["hypotheses"] = []
    for lang in ("en", "zh"):
        html = render_html(d, lang=lang)
        md = render_markdown(d, lang=lang)
        assert phrase("no_mediation_models", lang) in md
        assert escape(phrase("sec_repro", lang)) in html
    assert 'id="tbl-indirect"' not in render_html(d)


def test_moderation_section_with_simple_slopes_plot(doc, html_en, html_zh):
    """H5 (IOL × DF → CE): table, simple slopes, JN, LRT and the SVG plot (text as text) in both languages."""
    rec = doc["moderation"][0]
    assert rec["name"] == "IOLxDF" and rec["between"] == ["IOL", "DF"] and rec["to"] == "CE"
    for html, words in ((html_en, ("Moderation (latent interaction)", "Johnson–Neyman", "Dispersion force")),
                        (html_zh, ("调节效应（潜变量交互）", "Johnson–Neyman", "分散力"))):
        section = html.split('<section id="moderation">', 1)[1].split("</section>", 1)[0]
        assert 'class="slopes-plot"' in section and "<text" in section  # SVG keeps text as text
        for w in words:
            assert w in section
        assert fmt(rec["est"]) in section
        assert fmt(rec["simple_slopes"][0]["est"]) in section
    md = render_markdown(doc, lang="zh")
    assert "## 9. 调节效应（潜变量交互）" in md and "简单斜率图见 report.html" in md
    h5 = [h for h in doc["hypotheses"] if h["id"] == "H5"]
    assert len(h5) == 1 and h5[0]["kind"] == "interaction" and h5[0]["from"] == "IOL:DF"
