"""Word report (report.docx): read back with python-docx — numbered captions, APA three-line rules, fonts,
the numbers of results.json as the other reports format them, Chinese text, user text that would corrupt
the XML, the CLI's --docx and its atomic output."""
from __future__ import annotations

import copy
import io
import json
import re
import zipfile

import pytest

docx = pytest.importorskip("docx")
from docx.oxml.ns import qn  # noqa: E402

from cluster_sem.cli import main  # noqa: E402
from cluster_sem.render.docx import render_docx  # noqa: E402
from cluster_sem.render.i18n import catalogue  # noqa: E402
from cluster_sem.render.labels import LABELS  # noqa: E402
from cluster_sem.render.numbers import fmt, fmt_ci, fmt_p, fmt_unit  # noqa: E402

EN_TITLES = ["Respondents per group (region)", "Constructs", "Item descriptives",
             "Standardized loadings (measurement model)", "Second-order constructs",
             "Reliability and convergent validity", "Fornell–Larcker criterion", "Heterotrait–monotrait ratio (HTMT)",
             "Model fit", "Structural paths and hypotheses", "Hypotheses", "Indirect effects and mediation",
             "Total effects"]


@pytest.fixture(scope="module")
def doc(example_doc) -> dict:
    return copy.deepcopy(example_doc)


@pytest.fixture(scope="module")
def en_bytes(doc) -> bytes:
    return render_docx(doc, "en")


@pytest.fixture(scope="module")
def en(en_bytes):
    return docx.Document(io.BytesIO(en_bytes))


@pytest.fixture(scope="module")
def zh(doc):
    return docx.Document(io.BytesIO(render_docx(doc, "zh")))


def captioned_tables(document) -> list[tuple[str, list[list[str]]]]:
    """(caption text, rows of cell texts) of every table, the caption being the paragraph right above it."""
    out, previous = [], None
    by_element = {t._tbl: t for t in document.tables}
    for el in document.element.body.iterchildren():
        if el.tag == qn("w:p"):
            previous = "".join(t.text or "" for t in el.iter(qn("w:t")))
        elif el.tag == qn("w:tbl"):
            table = by_element[el]
            out.append((previous, [[c.text for c in row.cells] for row in table.rows]))
    return out


def table_by_title(document, title: str) -> list[list[str]]:
    matches = [rows for caption, rows in captioned_tables(document) if caption.split(". ", 1)[-1] == title]
    assert len(matches) == 1, (title, [c for c, _ in captioned_tables(document)])
    return matches[0]


def all_text(document) -> str:
    return "\n".join(t.text or "" for t in document.element.body.iter(qn("w:t")))


def unflag(cell: str) -> str:
    return cell.replace(" ⚑", "")


# -- structure ------------------------------------------------------------------------------------------
def test_every_table_has_a_numbered_caption_above_it(en, doc):
    tables = captioned_tables(en)
    captions = [c for c, _ in tables]
    assert [int(re.match(r"Table (\d+)\. ", c).group(1)) for c in captions] == list(range(1, len(tables) + 1))
    titles = [c.split(". ", 1)[1] for c in captions]
    for title in EN_TITLES:
        assert title in titles
    assert ("Explained variance (R²)" in titles) == bool(doc.get("r_squared"))
    assert any(t.startswith("Interaction ") for t in titles) == bool(doc.get("moderation"))
    assert len(en.tables) == len(tables)


def test_tables_are_three_line(en):
    schema_order = ["tblStyle", "tblW", "jc", "tblBorders", "tblLayout", "tblCellMar", "tblLook"]
    for table in en.tables:
        children = [el.tag.split("}")[1] for el in table._tbl.tblPr]
        assert children == [c for c in schema_order if c in children]      # else Word calls the file corrupt
        borders = table._tbl.tblPr.find(qn("w:tblBorders"))
        kinds = {side: borders.find(qn(f"w:{side}")).get(qn("w:val"))
                 for side in ("top", "bottom", "left", "right", "insideH", "insideV")}
        assert kinds == {"top": "single", "bottom": "single", "left": "nil", "right": "nil", "insideH": "nil",
                         "insideV": "nil"}
        for i, row in enumerate(table.rows):
            for cell in row.cells:
                tc_borders = cell._tc.tcPr.find(qn("w:tcBorders"))
                if i == 0:     # the rule under the header, nothing else
                    assert [b.tag for b in tc_borders] == [qn("w:bottom")]
                    assert tc_borders[0].get(qn("w:val")) == "single"
                else:
                    assert tc_borders is None


def test_fonts_latin_and_east_asian(en, zh):
    for document in (en, zh):
        defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        for rpr in [defaults] + [document.styles[s].element.rPr for s in ("Normal", "Title", "Heading 1", "Caption")]:
            fonts = rpr.find(qn("w:rFonts"))
            assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:hAnsi")) == "Times New Roman"
            assert fonts.get(qn("w:eastAsia")) == "SimSun"
            assert not [k for k in fonts.attrib if k.lower().endswith("theme")]   # a theme font would win


def test_path_diagram_and_slope_plots_are_embedded_pngs(en_bytes, en, doc):
    plots = [m for m in doc.get("moderation", []) if m.get("plot")]
    assert len(en.inline_shapes) == 1 + len(plots)
    with zipfile.ZipFile(io.BytesIO(en_bytes)) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert len(media) == 1 + len(plots)
        assert all(z.read(m)[:8] == b"\x89PNG\r\n\x1a\n" for m in media)
    captions = [p.text for p in en.paragraphs if p.text.startswith("Figure ")]
    assert captions[0] == "Figure 1. Structural model"
    assert [c.split(". ", 1)[1].startswith("Simple slopes of ") for c in captions[1:]] == [True] * len(plots)


def test_no_cjk_font_means_no_picture_and_a_pointer_to_the_html(doc, monkeypatch):
    """Chinese labels without a CJK font would be empty boxes: the figure is left out and the text says
    where it is."""
    import cluster_sem.render.diagram_png as png
    real = png._installed
    monkeypatch.setattr(png, "_installed", lambda names: [] if names == png.CJK_FONTS else real(names))
    document = docx.Document(io.BytesIO(render_docx(doc, "zh")))
    assert len(document.inline_shapes) == 0
    assert catalogue("docx")["no_diagram"]["zh"] in [p.text for p in document.paragraphs]
    assert len(docx.Document(io.BytesIO(render_docx(doc, "en"))).inline_shapes) >= 1   # Latin labels: drawn


def test_same_document_same_bytes(doc, en_bytes):
    assert render_docx(copy.deepcopy(doc), "en") == en_bytes


# -- numbers ---------------------------------------------------------------------------------------------
def test_reliability_numbers_are_results_json_formatted(en, doc):
    rows = table_by_title(en, "Reliability and convergent validity")
    assert rows[0][1:4] == ["α", "ω", "AVE"]
    by_construct = {re.search(r"\((\w+)\)$", r[0]).group(1): r for r in rows[1:]}
    assert set(by_construct) == set(doc["reliability"])
    for name, rel in doc["reliability"].items():
        cells = [unflag(c) for c in by_construct[name][1:4]]
        assert cells == [fmt_unit(rel["alpha"]), fmt_unit(rel["omega"]), fmt_unit(rel["ave"])]
        assert all(not c.startswith("0.") for c in cells)           # APA: no leading zero


def test_path_numbers_are_results_json_formatted(en, doc):
    rows = table_by_title(en, "Structural paths and hypotheses")
    shown = {r[0]: r for r in rows[1:]}
    regressions = [p for p in doc["structural_model"]["parameters"] if p["op"] == "~"]
    assert len(shown) == len(regressions)
    for p in regressions:
        row = shown[f"{p['rhs']} → {p['lhs']}"]
        assert row[2:6] == [fmt(p["est"]), fmt(p["se"]), fmt(p["z"], 2), fmt_unit(p["std_all"])]
        assert row[6].rstrip("*") == fmt_p(p["pvalue"])


def test_indirect_effects_with_their_intervals(en, doc):
    rows = table_by_title(en, "Indirect effects and mediation")
    assert rows[0][4] == "95% CI"
    assert len(rows) - 1 == len(doc["indirect_effects"])
    for row, e in zip(rows[1:], doc["indirect_effects"]):
        assert row[0].startswith(" → ".join(e["path"]))
        assert row[2] == fmt(e["est"]) and row[3] == fmt(e["se"])
        assert row[4] == fmt_ci(e["ci_lower"], e["ci_upper"])
        assert row[5] == fmt_unit(e["std_all"])


def test_fit_descriptives_and_discriminant_numbers(en, doc):
    fit = {r[0]: r for r in table_by_title(en, "Model fit")[1:]}
    for key, name in (("cfi", "CFI"), ("tli", "TLI"), ("rmsea", "RMSEA"), ("srmr", "SRMR")):
        assert fit[name][1] == fmt_unit(doc["measurement_model"]["fit"][key])
        assert fit[name][3] == fmt_unit(doc["structural_model"]["fit"][key])
    desc = {r[0]: r for r in table_by_title(en, "Item descriptives")[1:]}
    for d in doc["descriptives"]:
        assert desc[d["item"]][3:5] == [fmt(d["mean"], 2), fmt(d["sd"], 2)]
    fl = table_by_title(en, "Fornell–Larcker criterion")
    names = fl[0][1:]
    for i, row in enumerate(fl[1:]):
        a = row[0]
        assert row[1 + i] == fmt_unit(doc["fornell_larcker"][a][a])               # √AVE on the diagonal
        assert [unflag(c) for c in row[1:1 + i]] == [fmt_unit(doc["fornell_larcker"][a][b]) for b in names[:i]]
    htmt = table_by_title(en, "Heterotrait–monotrait ratio (HTMT)")
    for row in htmt[1:]:
        for b, cell in zip(htmt[0][1:], row[1:]):
            if cell:
                assert cell.rstrip("†‡") == fmt(doc["htmt"][row[0]][b])


# -- Chinese ---------------------------------------------------------------------------------------------
def _english_phrases() -> set[str]:
    """Every sentence-like English phrase of the report catalogues that has a different Chinese text."""
    pairs = [(LABELS["en"][k], LABELS["zh"].get(k)) for k in LABELS["en"]]
    for section in ("structural", "moderation", "docx"):
        pairs += [(e["en"], e["zh"]) for e in catalogue(section).values() if isinstance(e["en"], str)]
    return {en.split("{")[0].strip() for en, zh in pairs
            if en != zh and len(en.split("{")[0].split()) >= 3}


def test_chinese_report_has_chinese_captions_and_no_english_prose(zh, doc):
    tables = captioned_tables(zh)
    assert [int(re.match(r"表(\d+) ", c).group(1)) for c, _ in tables] == list(range(1, len(tables) + 1))
    assert not any(c.startswith("Table") for c, _ in tables)
    text = all_text(zh)
    assert "图1 结构模型" in text and "注：" in text
    leaked = sorted(p for p in _english_phrases() if p in text)
    assert leaked == []
    # no English sentence anywhere but in what results.json itself holds in English (warnings, the data
    # log, file names, the command) and the reference list
    stored = set(doc["warnings"]) | set(doc["data"].get("log", []))
    stored |= {w for m in ("measurement_model", "structural_model") for w in doc[m].get("warnings", [])}
    from cluster_sem.render.labels import REFERENCES
    english = re.compile(r"\b[A-Za-z]{2,}(?: [a-z]{2,}){3,}")
    prose = [p.text for p in zh.paragraphs if english.search(p.text)
             and not any(s in p.text for s in stored) and p.text not in REFERENCES
             and not p.text.startswith(("命令", "cluster-sem"))]
    assert prose == []


# -- user text -------------------------------------------------------------------------------------------
def test_control_characters_in_user_text_still_give_a_valid_file(doc):
    d = copy.deepcopy(doc)
    d["spec"]["constructs"]["TS"]["label"]["en"] = "Tie\x1b[2J\x1b]0;pwned\x07 strength\x00\x0b\ud800\ufffe"
    item = d["spec"]["constructs"]["NC"]["items"][0]
    item["text"]["en"] = "We cooperate\x08\x0c with\u202e others"
    d["spec"]["hypotheses"]["H1a"]["text"]["en"] = "H1a text\x1f end"
    data = render_docx(d, "en")
    document = docx.Document(io.BytesIO(data))
    text = all_text(document)
    assert "Tie strength (TS)" in text and "We cooperate with others" in text and "H1a text end" in text
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x1b\ud800\ufffe\u202e]", text)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        import xml.dom.minidom
        xml.dom.minidom.parseString(z.read("word/document.xml"))      # well-formed XML


# -- command line ----------------------------------------------------------------------------------------
def test_report_writes_docx_only_when_asked(tmp_path, doc, capsys):
    out = tmp_path / "res"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["report", str(out)]) == 0
    assert not list(out.glob("*.docx"))
    assert main(["report", str(out), "--docx"]) == 0
    assert main(["report", str(out), "--lang", "zh", "--docx"]) == 0
    assert sorted(p.name for p in out.glob("*.docx")) == ["report.docx", "report.zh.docx"]
    assert f"wrote {out / 'report.zh.docx'}" in capsys.readouterr().out
    assert docx.Document(str(out / "report.zh.docx")).tables
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".res.")]   # no temp dir left behind


def test_report_refusal_leaves_the_folder_untouched(tmp_path, doc, capsys, monkeypatch):
    out = tmp_path / "res"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    import cluster_sem.render.docx as module

    def broken(*args, **kwargs):
        raise ValueError("boom")
    monkeypatch.setattr(module, "render_docx", broken)
    assert main(["report", str(out), "--docx"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]


def test_fit_docx_written_with_the_other_outputs(tmp_path):
    from conftest import EXAMPLE_DATA, EXAMPLE_SPEC
    out = tmp_path / "fit"
    assert main(["fit", str(EXAMPLE_SPEC), str(EXAMPLE_DATA), "--out", str(out), "--quiet", "--docx",
                 "--lang", "zh"]) == 0
    # one naming rule for a run's reports: `fit --lang zh` writes them all in Chinese under their plain names
    assert sorted(p.name for p in out.iterdir()) == ["report.docx", "report.html", "report.md", "results.json"]
    document = docx.Document(str(out / "report.docx"))
    assert captioned_tables(document)[0][0].startswith("表1 ")


def test_invariance_results_get_their_own_word_tables(tmp_path):
    from pathlib import Path

    from cluster_sem.invariance import run_invariance
    from cluster_sem.simulate import simulate
    spec = Path(__file__).parent / "specs" / "regions_small.yaml"
    data = tmp_path / "regions.csv"
    simulate(spec, 400, 7).to_csv(data, index=False)
    d = run_invariance(spec, data, timestamp="T").to_dict()
    document = docx.Document(io.BytesIO(render_docx(d, "en")))
    titles = [c.split(". ", 1)[1] for c, _ in captioned_tables(document)]
    assert titles[:2] == ["Groups", "Invariance levels"]
    levels = table_by_title(document, "Invariance levels")
    assert [r[1] for r in levels[1:]] == [fmt(lv["fit"]["chi2"], 2) for lv in d["invariance"]["levels"]]


def test_docx_without_python_docx_is_one_line_before_any_work(tmp_path, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_docx(name, *args, **kwargs):
        if name == "docx" or name.startswith("docx."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_docx)
    out = tmp_path / "fit"
    assert main(["fit", "no-such-spec.yaml", "no-such-data.csv", "--out", str(out), "--docx"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'python-docx" in err and not out.exists()


def test_a_model_without_paths_has_no_empty_paths_table(doc):
    d = copy.deepcopy(doc)
    d["structural_model"]["parameters"] = [p for p in d["structural_model"]["parameters"] if p["op"] != "~"]
    document = docx.Document(io.BytesIO(render_docx(d, "en")))
    titles = [c.split(". ", 1)[1] for c, _ in captioned_tables(document)]
    assert "Structural paths and hypotheses" not in titles and "Model fit" in titles
    assert all(len(rows) > 1 for _, rows in captioned_tables(document))
