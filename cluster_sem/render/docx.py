"""Word manuscript report (report.docx) from the results document alone: APA "three-line" tables (三线表).

Journals — Chinese ones included — take manuscripts as .docx with tables in the APA three-line form: a rule
above the table, one under the header row and one below the last row, no vertical lines.  This renderer
walks the same view model as the HTML and Markdown reports (``context.report_context``: every number already
formatted by ``numbers.py``, every phrase from the en/zh catalogues), so the three reports show identical
numbers; it only lays them out as Word paragraphs and tables.

* Tables: numbered captions above ("Table 1. …" / "表1 …"), notes below ("Note." / "注："); the three rules
  are set in the table XML (``w:tblBorders`` top/bottom, the header cells' bottom ``w:tcBorders``), so they
  survive Word's and LibreOffice's table styles.
* Fonts: Times New Roman for Latin text, SimSun (宋体) for East Asian text (``w:eastAsia``), set on the
  document defaults and every style used, so any run inherits them.
* User text (labels, item wording, hypotheses, file names) passes through ``plain_text.xml_safe``: a control
  character or a lone surrogate in a label would otherwise make the file unreadable.
* The path diagram is the SVG of ``diagram.py`` replayed to PNG (``diagram_png.py``).
* Deterministic bytes: the package's zip entries carry a fixed date and the core properties the run's
  timestamp, so the same results.json gives the same report.docx.
"""
from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import datetime
from typing import Sequence

from ..errors import ClusterSemError
from ..results.document import ResultsDocument
from .context import report_context
from .diagram import diagram_legend
from .kinds import document_kind
from .i18n import catalogue, translator
from .labels import check_lang
from .labels import translator as labels_translator
from .plain_text import xml_safe

LATIN_FONT = "Times New Roman"
EAST_ASIAN_FONT = "SimSun"          # 宋体
BODY_PT = {"en": 12.0, "zh": 10.5}  # zh: 五号
TABLE_PT = {"en": 10.0, "zh": 9.0}  # zh: 小五
RULE_OUTER, RULE_INNER = 12, 6      # eighths of a point: 1.5 pt top/bottom rules, 0.75 pt under the header
STAT_SYMBOLS = {"b", "p", "z", "M", "SD", "SE", "n", "r", "t", "F", "df", "χ²", "χ²(1)", "Δχ²", "Δdf"}  # italics (APA)
STYLES = ("Normal", "Title", "Heading 1", "Heading 2", "Caption")
TABLE_STYLE = "Table Text"          # paragraph style of every table cell
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
CELL_MARGIN_TWIPS = 72              # 0.05 in left and right of each cell's text (tblCellMar)
CELL_PAD_PT = 10.0                  # those two margins and a little air
EMU_PER_TWIP, EMU_PER_INCH = 635, 914400
CJK_WRAP = 16                       # width units (8 CJK characters) a wrapping Chinese column keeps at least
Cell = str | tuple[str, str]        # a table cell: its text, or (text, "b") for bold


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn
    return qn(tag)


def _element(tag: str, **attrs: str):
    from docx.oxml import OxmlElement
    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(_qn(f"w:{key}"), value)
    return el


def _set_fonts(rpr) -> None:
    """Latin and East Asian fonts on a ``w:rPr`` (theme-font attributes removed: they would win in Word)."""
    fonts = rpr.find(_qn("w:rFonts"))
    if fonts is None:
        fonts = _element("w:rFonts")
        rpr.insert(0, fonts)
    for key in list(fonts.attrib):
        if key.lower().endswith("theme"):     # asciiTheme, hAnsiTheme, eastAsiaTheme, cstheme
            del fonts.attrib[key]
    for key, name in (("ascii", LATIN_FONT), ("hAnsi", LATIN_FONT), ("cs", LATIN_FONT),
                      ("eastAsia", EAST_ASIAN_FONT)):
        fonts.set(_qn(f"w:{key}"), name)
    lang_el = rpr.find(_qn("w:lang"))
    if lang_el is None:
        lang_el = _element("w:lang")
        rpr.append(lang_el)
    lang_el.set(_qn("w:val"), "en-US")
    lang_el.set(_qn("w:eastAsia"), "zh-CN")


def require_docx() -> None:
    """Exit 2 with the fix when python-docx is missing (a dependency, but an environment may predate it);
    `fit --docx` asks before fitting, so no one waits for a fit that cannot be written."""
    try:
        import docx  # noqa: F401
    except ImportError:
        raise ClusterSemError("--docx needs the python-docx package. Fix: pip install 'python-docx>=1.1,<2'") \
            from None


def _style_document(document, lang: str) -> None:
    """Fonts and sizes on the defaults and every style used, the table-cell style, and the page."""
    _set_fonts(document.styles.element.find(_qn("w:docDefaults")).find(_qn("w:rPrDefault")).find(_qn("w:rPr")))
    _text_styles(document.styles, lang)
    _table_cell_style(document.styles, lang)
    _page(document.sections[0], lang)


def _text_styles(styles, lang: str) -> None:
    """Black upright text in the body size; bold headings (APA level 1 centred), an unruled title, and
    captions whose runs choose bold / italic themselves (APA: "Table 1." bold, its title italic)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor
    for name in STYLES:
        style = styles[name]
        _set_fonts(style.element.get_or_add_rPr())
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.size = Pt(BODY_PT[lang] + (2 if name == "Title" else 0))
        style.font.italic = False
        style.font.bold = name != "Normal" and name != "Caption"
        style.paragraph_format.space_after = Pt(6)
        if name in ("Title", "Heading 1", "Heading 2"):
            style.paragraph_format.space_before = Pt(12)
            style.paragraph_format.keep_with_next = True
        if name in ("Title", "Heading 1"):
            style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = styles["Title"].element
    for el in (title.pPr.find(_qn("w:pBdr")), title.rPr.find(_qn("w:spacing"))):
        if el is not None:   # the default template underlines the title and spaces its letters out
            el.getparent().remove(el)


def _table_cell_style(styles, lang: str) -> None:
    """The paragraph style of every cell: table size, no space around.  The paragraph mark has that size
    too, so an empty cell is no taller than the rest."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt
    cells = styles.add_style(TABLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cells.base_style = styles["Normal"]
    cells.font.size = Pt(TABLE_PT[lang])
    cells.paragraph_format.space_before = cells.paragraph_format.space_after = Pt(0)


def _page(section, lang: str) -> None:
    """Letter for English (APA, US journals), A4 for Chinese journals; 1-inch margins."""
    from docx.shared import Inches, Mm
    if lang == "zh":
        section.page_width, section.page_height = Mm(210), Mm(297)
    else:
        section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(1))


def _wide_len(text: str) -> float:
    """Display width in units of an average Latin letter: a CJK character counts 2, a capital 1.3."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.3 if ch.isupper() else 1 for ch in text)


class DocxReport:
    """One Word document being written: numbered tables and figures, paragraphs, the three-line rules."""

    def __init__(self, lang: str):
        require_docx()
        import docx
        self.lang, self.t = lang, labels_translator(lang)   # "Table", "Figure", "Note." in the language
        self.own = translator(catalogue("docx"), lang)     # the few phrases only this report says
        self.colon = "：" if lang == "zh" else ": "          # after a bold lead-in ("Data file: …")
        self.document = docx.Document()
        _style_document(self.document, lang)
        self.table_style_id = self.document.styles[TABLE_STYLE].style_id
        self.tables = 0
        self.figures = 0

    # -- text ----------------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 1) -> None:
        self.document.add_heading(xml_safe(text), level=level)

    def paragraph(self, *runs: str | tuple[str, str], style: str | None = None):
        """A paragraph of runs: plain strings, or (text, "b" / "i" / "bi") for bold / italic."""
        p = self.document.add_paragraph(style=style)
        for run in runs:
            text, fmt = (run, "") if isinstance(run, str) else run
            r = p.add_run(xml_safe(text))
            r.bold = "b" in fmt or None
            r.italic = "i" in fmt or None
        return p

    def note(self, *texts: str) -> None:
        """A table or figure note: "Note." in italics (APA; zh "注：" upright), then the sentences."""
        body = ("" if self.lang == "zh" else " ").join(x.strip() for x in texts if x and x.strip())
        if not body:
            return
        label = self.t("note")
        p = self.paragraph((label, "i" if self.lang == "en" else ""), (" " if self.lang == "en" else "") + body)
        self._small(p)

    def _small(self, p) -> None:
        from docx.shared import Pt
        for r in p.runs:
            r.font.size = Pt(TABLE_PT[self.lang])
        p.paragraph_format.space_after = Pt(10)

    def caption(self, kind: str, number: int, title: str):
        """'Table 1. Title' (en: number bold, title italic, APA) or '表1 标题' (zh, centred, bold)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        word = self.t(kind)
        if self.lang == "zh":
            p = self.paragraph((f"{word}{number} {title}", "b"), style="Caption")
            p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            p = self.paragraph((f"{word} {number}.", "b"), " ", (title, "i"), style="Caption")
        p.paragraph_format.keep_with_next = True
        return p

    # -- tables --------------------------------------------------------------------------------------
    def table(self, title: str, heads: Sequence[str], rows: Sequence[Sequence[Cell]], *, align: str = "",
              note: Sequence[str] = ()) -> None:
        """A numbered APA three-line table.  ``align``: one letter per column, l (text, may wrap) or c
        (numbers, never wrapped); columns beyond it are c, the first defaults to l.  A cell is a string or
        (string, "b") for bold.  A table too wide for a portrait page even with its text wrapped gets a
        landscape page of its own.  A table without rows (paths of a CFA-only model) is left out."""
        if not rows:
            return
        body = [[(xml_safe(c), "") if isinstance(c, str) else (xml_safe(c[0]), c[1]) for c in row] for row in rows]
        heads = [xml_safe(h) for h in heads]
        align = (align or "l").ljust(len(heads), "c")
        lows, highs = _column_widths(heads, [[text for text, _ in row] for row in body], align, TABLE_PT[self.lang])
        landscape = sum(lows) > self._text_width()
        if landscape:
            self._orientation(landscape=True)
        self.tables += 1
        self.caption("table", self.tables, title)
        table = self.document.add_table(rows=1 + len(body), cols=len(heads))
        grid = _cell_grid(table)
        for j, head in enumerate(heads):
            self._cell(grid[0][j], head, align[j], "i" if head in STAT_SYMBOLS else "")
        for cells, row in zip(grid[1:], body):
            for cell, a, (text, fmt) in zip(cells, align, row):
                self._cell(cell, text, a, fmt)
        _three_line(table, grid[0])
        _keep_together(grid)
        self._set_widths(table, grid, _fit_widths(lows, highs, self._text_width()))
        self.note(*note)
        if not any(note):
            self.document.add_paragraph()
        if landscape:
            self._orientation(landscape=False)

    def _cell(self, cell, text: str, align: str, fmt: str = "") -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        p = cell.paragraphs[0]
        p._p.style = self.table_style_id
        p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT if align == "l" else WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold = "b" in fmt or None
        run.italic = "i" in fmt or None

    def _text_width(self) -> int:
        section = self.document.sections[-1]
        return section.page_width - section.left_margin - section.right_margin

    def _set_widths(self, table, grid: list[list], widths: list[int]) -> None:
        """On the grid and on every cell: Word autofits anyway, LibreOffice keeps the grid it is given."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        for col, width in zip(table._tbl.tblGrid.findall(_qn("w:gridCol")), widths):
            col.set(_qn("w:w"), str(width // EMU_PER_TWIP))
        for cells in grid:
            for cell, width in zip(cells, widths):
                cell.width = width
        table.alignment = WD_TABLE_ALIGNMENT.CENTER if self.lang == "zh" else WD_TABLE_ALIGNMENT.LEFT

    def _orientation(self, *, landscape: bool) -> None:
        """Start a new section (on a new page) in landscape or back in portrait."""
        from docx.enum.section import WD_ORIENT, WD_SECTION
        body = self.document.element.body
        last = body[-2] if len(body) > 1 else None
        style = last.find(f"{_qn('w:pPr')}/{_qn('w:pStyle')}") if last is not None else None
        heading = last if style is not None and style.get(_qn("w:val")).startswith("Heading") else None
        section = self.document.add_section(WD_SECTION.NEW_PAGE)
        if heading is not None:     # a section heading goes to the new page with its table
            body.remove(heading)
            body.insert(len(body) - 1, heading)
        short, long = sorted((section.page_width, section.page_height))
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (long, short) if landscape else (short, long)

    # -- figures -------------------------------------------------------------------------------------
    def figure(self, title: str, png: bytes, width_in: float) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Inches
        self.figures += 1
        self.caption("figure", self.figures, title)
        page = self._text_width() / EMU_PER_INCH
        self.document.add_picture(io.BytesIO(png), width=Inches(min(width_in, page)))
        self.document.paragraphs[-1].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.document.paragraphs[-1].paragraph_format.keep_with_next = True

    def to_bytes(self, title: str, timestamp: str | None) -> bytes:
        props = self.document.core_properties
        props.title, props.author, props.last_modified_by, props.comments = xml_safe(title), "cluster-sem", "", ""
        props.revision = 1
        stamp = _timestamp(timestamp)
        props.created = props.modified = stamp
        buf = io.BytesIO()
        self.document.save(buf)
        return _fixed_zip(buf.getvalue())


def _cell_grid(table) -> list[list]:
    """The cells of a table without merged cells, row by row (python-docx's ``table.cell(i, j)`` walks the
    whole table on every call: quadratic in the size of the descriptives table)."""
    from docx.table import _Cell
    return [[_Cell(tc, table) for tc in tr.tc_lst] for tr in table._tbl.tr_lst]


def _three_line(table, header: list) -> None:
    """APA three-line rules in the table XML: top and bottom of the table, under the header row, nothing
    else (no vertical lines, no rules between body rows); the header row repeats on each page."""
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall(_qn("w:tblBorders")):
        tbl_pr.remove(old)
    borders = _element("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if side in ("top", "bottom"):
            borders.append(_element(f"w:{side}", val="single", sz=str(RULE_OUTER), space="0", color="000000"))
        else:
            borders.append(_element(f"w:{side}", val="nil"))
    # Word refuses a file whose tblPr children are out of the schema's order (python-docx wrote tblLook)
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                 "w:tblDescription", "w:tblPrChange")
    margins = _element("w:tblCellMar")
    for side in ("left", "right"):
        margins.append(_element(f"w:{side}", w=str(CELL_MARGIN_TWIPS), type="dxa"))
    tbl_pr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    tr_pr = table._tbl.tr_lst[0].get_or_add_trPr()
    tr_pr.append(_element("w:tblHeader"))
    for cell in header:
        tc_pr = cell._tc.get_or_add_tcPr()
        tc_borders = _element("w:tcBorders")
        tc_borders.append(_element("w:bottom", val="single", sz=str(RULE_INNER), space="0", color="000000"))
        tc_pr.append(tc_borders)


def _keep_together(grid: list[list]) -> None:
    """No row split across pages, and each row kept with the next, so a table that fits on a page is not
    broken (a longer one breaks between rows, its header row repeated)."""
    for i, cells in enumerate(grid):
        cells[0]._tc.getparent().get_or_add_trPr().append(_element("w:cantSplit"))
        if i < len(grid) - 1:
            for cell in cells:
                cell.paragraphs[0].paragraph_format.keep_with_next = True


def _longest_word(text: str) -> float:
    """The narrowest a text can wrap to: its longest word; Chinese breaks between any two characters, so a
    run of CJK text counts at most as 8 of them."""
    return max((min(_wide_len(w), CJK_WRAP) if any(_wide_len(ch) == 2 for ch in w) else _wide_len(w)
                for w in text.split()), default=0)


def _column_widths(heads: Sequence[str], rows: Sequence[Sequence[str]], align: str,
                   font_pt: float) -> tuple[list[int], list[int]]:
    """Each column's narrowest and preferred width (EMU): a number column (c) is never wrapped; a text
    column (l) may wrap down to its longest word; a heading may take two lines."""
    from docx.shared import Pt
    unit, pad = Pt(font_pt * 0.56), Pt(CELL_PAD_PT)
    lows, highs = [], []
    for j, head in enumerate(heads):
        cells = [row[j] for row in rows]
        full = max((_wide_len(c) for c in cells), default=0)
        low = full if align[j] == "c" else max((_longest_word(c) for c in cells), default=0)
        head_low = _longest_word(head)
        head_high = max(head_low, _wide_len(head) / 2 + 1)
        lows.append(max(3, low, head_low) * unit + pad)
        highs.append(max(3, full, head_high) * unit + pad)
    return lows, highs


def _fit_widths(lows: list[int], highs: list[int], total: int) -> list[int]:
    """Preferred widths when they fit; else the wrapping columns give way in proportion to their slack;
    else (the narrowest layout is still too wide) everything scaled down."""
    need = sum(highs) - total
    slack = sum(h - lo for h, lo in zip(highs, lows))
    if need <= 0:
        return [int(h) for h in highs]
    if slack >= need:
        return [int(h - (h - lo) * need / slack) for h, lo in zip(highs, lows)]
    return [int(lo * total / sum(lows)) for lo in lows]


def _timestamp(text: str | None) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None) if text else datetime(2000, 1, 1)
    except ValueError:
        return datetime(2000, 1, 1)


def _fixed_zip(data: bytes) -> bytes:
    """The package re-zipped with one fixed date on every entry (python-docx stamps the time of saving)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16      # rw-r--r-- when unzipped (0 would give rw-------)
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


# -- the report's sections, in the order of the HTML and Markdown reports ---------------------------------
def _header(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    w.document.add_heading(xml_safe(ctx["title"]), level=0)
    w.paragraph(f"{t('report')} · cluster-sem {ctx['version']} · n = {ctx['n_used']} · "
                f"{t('generated')}{w.colon}{ctx['timestamp']}")
    warnings = list(ctx["warnings"]) + [x for x in ctx["model_warnings"] if x not in ctx["warnings"]]
    if warnings:
        w.paragraph((f"⚠ {t('warnings')}{w.colon}", "b"), t("warnings_intro"))
        for line in warnings:
            w.paragraph(line, style="List Bullet")


def _study(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    w.heading(f"1. {t('sec_data')}")
    for key, value in ctx["data_rows"]:
        w.paragraph((f"{key}{w.colon}", "b"), value)
    if ctx["estimator_choice"]:
        w.paragraph(ctx["estimator_choice"])
    if ctx["groups"]:
        group = f" ({ctx['group_name']})" if ctx["group_name"] else ""
        w.table(t("groups") + group, [t("group"), "n", "%"],
                [[g["name"], g["n"], g["pct"]] for g in ctx["groups"]] + [[t("total"), ctx["groups_total"], "100.0"]])
    w.table(t("constructs_table"), ["ID", t("construct"), t("content")],
            [[c["id"], c["label"] + (f" ({t('second_order_one')})" if c["second_order"] else ""), c["content"]]
             for c in ctx["constructs"]], align="lll")


def _descriptives(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    w.heading(f"2. {t('sec_descriptives')}")
    heads = [t("item"), t("wording"), t("reverse"), t("mean"), t("sd"), t("skew"), t("kurt"), t("min"), t("max"),
             t("pct_missing")]
    rows = [[d["item"], d["wording"], t("reverse") if d["reverse"] else "", d["mean"], d["sd"], d["skew"],
             d["kurt"], d["min"], d["max"], d["missing"]] for d in ctx["descriptives"]]
    note = (t("reverse_note") if ctx["any_reverse"] else "") + f" n = {ctx['n_used']}."
    w.table(t("sec_descriptives"), heads, rows, align="ll", note=[note.strip()])


def _measurement(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    w.heading(f"3. {t('sec_measurement')}")
    rows = [[f"{r['construct_label']} ({r['construct']})" if r["first"] else "", r["item"], r["est"], r["se"],
             r["std"] + (" ⚑" if r["flag"] else ""), r["p"]] for r in ctx["loadings"]]
    low = ctx["low_loadings"]
    note = t("low_loading_note") + f" ({', '.join(low)})" if low else t("no_low_loading")
    w.table(t("loadings_table"), [t("construct"), t("item"), t("est"), t("se"), t("loading"), t("p")], rows,
            align="ll", note=[note, ctx["item_sources"]])
    if ctx["second_order"]:
        w.table(t("second_order"), [t("construct"), t("dimension"), t("loading"), t("p")],
                [[f"{r['label']} ({r['construct']})", f"{r['dim_label']} ({r['dimension']})",
                  r["std"] + (" ⚑" if r["flag"] else ""), r["p"]] for r in ctx["second_order"]], align="ll")
    flag = lambda value, low: value + (" ⚑" if low else "")   # noqa: E731
    w.table(t("reliability_table"), [t("construct"), t("alpha"), t("omega"), t("ave"), t("loading")],
            [[f"{r['label']} ({r['construct']})", flag(r["alpha"], r["alpha_low"]), flag(r["omega"], r["omega_low"]),
              flag(r["ave"], r["ave_low"]), r["range"]] for r in ctx["reliability"]],
            note=[f"{t('measurement_note')} ⚑ = {t('below_criterion')}."])
    if ctx.get("ordinal_reliability"):
        w.table(t("ordinal_rel_table"), [t("construct"), t("omega_cat"), t("alpha_ord"), t("alpha_raw"),
                                         t("omega_latent")],
                [[f"{r['label']} ({r['construct']})", r["omega_cat"], r["alpha_ord"], r["alpha_raw"],
                  r["omega_latent"]] for r in ctx["ordinal_reliability"]], note=[t("ordinal_rel_note")])


def _discriminant(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    w.heading(f"4. {t('sec_discriminant')}")
    if ctx["fl_rows"]:
        rows = [[r["name"]] + [(c["v"], "b") if c["kind"] == "diag" else c["v"] + (" ⚑" if c["kind"] == "bad" else "")
                               for c in r["cells"]] for r in ctx["fl_rows"]]
        bad = f" {t('fl_violations')}: {', '.join(ctx['fl_bad'])}." if ctx["fl_bad"] else ""
        w.table(t("fl_table"), [""] + list(ctx["fl_names"]), rows, note=[t("fl_note") + bad])
    if ctx["htmt_rows"]:
        flags = (f"{t('htmt_flags')}: {'; '.join(ctx['htmt_flags'])}." if ctx["htmt_flags"] else t("htmt_none"))
        w.table(t("htmt_table"), [""] + list(ctx["htmt_names"]),
                [[r["name"]] + [c["v"] for c in r["cells"]] for r in ctx["htmt_rows"]],
                note=[t("htmt_note"), flags])
    w.heading(f"5. {t('sec_cmv')}")
    if ctx["harman"]:
        w.paragraph((f"{t('harman')}{w.colon}", "b"), f"{ctx['harman']['text']} {ctx['harman']['verdict']}")


def _fit(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    w.heading(f"6. {t('sec_fit')}")
    w.table(t("sec_fit"), [t("index"), t("measurement_model"), t("verdict"), t("structural_model"), t("verdict"),
                           t("cutoff"), t("source_cit")],
            [[r["index"], r["m"], r["m_verdict"], r["s"], r["s_verdict"], r["cutoff"], r["source"]]
             for r in ctx["fit_rows"]], align="lclclll",
            note=[ctx["fit_note"], ctx["ic_note"], ctx.get("fit_scaled_note") or ""])


def _paths(w: DocxReport, ctx: dict, r: ResultsDocument) -> None:
    t = ctx["t"]
    w.heading(f"7. {t('sec_paths')}")
    from .diagram_png import diagram_png
    picture = diagram_png(r, w.lang)
    if picture:
        w.figure(t("diagram_caption"), *picture)
        w.note(t("diagram_note"), diagram_legend(r, w.lang), ctx["stars_legend"] + ".")
    elif ctx["paths"]:
        w.paragraph(w.own("no_diagram"))
    w.table(t("sec_paths"), [t("path"), t("hypothesis"), t("b"), t("se"), t("z"), t("beta"), t("p"), t("result")],
            [[p["path"], p["hyp"], p["b"], p["se"], p["z"], p["beta_unit"], p["p"] + p["stars"], p["result"]]
             for p in ctx["paths"]], align="llcccccl", note=[t("paths_note"), ctx["stars_legend"] + "."])
    if ctx["r2"]:
        r2 = ctx["r2"]
        w.table(r2["caption"], r2["heads"], [[f"{x['label']} ({x['construct']})", x["r2"], x["item_r2"]]
                                              for x in r2["rows"]], align="lcl", note=[r2["note"]])
    if ctx["hypotheses"]:
        rows = []
        for h in ctx["hypotheses"]:
            detail = "; ".join(f"{x['test']}: {'✓' if x['ok'] else '✗'}" for x in h["tests"]) \
                if len(h["tests"]) > 1 else ""
            rows.append([h["id"], h["text"], h["verdict"] + (f" ({detail})" if detail else "")])
        w.table(t("hyp_list"), [t("hypothesis"), w.own("hyp_statement"), t("result")], rows, align="lll")


def _mediation_heading(w: DocxReport, ctx: dict, heading: str, rows: list) -> bool:
    """The heading of a mediation section; False (and the sentence saying so) when the spec has none."""
    w.heading(heading)
    if not rows:
        w.paragraph(ctx["t"]("no_mediation_models"))
    return bool(rows)


def _indirect(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    if not _mediation_heading(w, ctx, f"8. {t('sec_indirect')}", ctx["indirect"]):
        return
    ci = f"{ctx['ci_level']} {t('ci')}"
    rows = [[e["path"] + (f" ({e['label']})" if e["label"] else ""), e["hyp"], e["est"], e["se"], e["ci"],
             e["std_unit"], e["p"] + e["stars"] + e["mark"], e["direct"] + e["direct_stars"], e["mediation"], e["type"]]
            for e in ctx["indirect"]]
    w.table(t("sec_indirect"), [t("effect"), t("hypothesis"), t("est"), t("se"), ci, t("std"), ctx["p_head"],
                                t("direct"), t("mediation"), t("mediation_type")], rows, align="llccccccll",
            note=[ctx["indirect_note"], ctx["claim_note"], ctx["bootstrap"], ctx["stars_legend"] + "."])
    if ctx["any_other_cis"]:
        w.table(t("other_cis"), [t("effect"), t("ci_method"), ci],
                [[e["path"] if k == 0 else "", o["method"], o["ci"]]
                 for e in ctx["indirect"] for k, o in enumerate(e["others"])], align="llc")
    if ctx["totals"]:
        w.table(t("total_effects"), [t("effect"), t("est"), t("se"), ci, t("std"), ctx["p_head"]],
                [[e["path"], e["est"], e["se"], e["ci"], e["std_unit"], e["p"] + e["stars"] + e["mark"]]
                 for e in ctx["totals"]])


def _moderation(w: DocxReport, ctx: dict, r: ResultsDocument) -> None:
    if not ctx["moderation"]:
        return
    from .diagram_png import picture
    from .moderation import simple_slopes_svg
    t, mt = ctx["t"], ctx["mt"]
    w.heading(mt["sec_moderation"])
    for m, rec in zip(ctx["moderation"], r.moderation):
        hyp = f"{m['hyp']}: {m['hyp_text']}" if m["hyp_text"] else ""
        w.table(f"{mt['interaction']} {m['name']}", [mt["product"], t("hypothesis"), t("est"), t("se"), t("std"),
                                                      t("p"), mt["method"]],
                [[m["term"], m["hyp"], m["est"], m["se"], m["std"], m["p"] + m["stars"], m["method"]]],
                align="llccccl", note=[hyp, m["verdict"], m["lrt"]])
        w.table(m["slopes_title"], [m["moderator"], mt["moderator_value"], mt["slope"], t("se"), t("ci"), t("p")],
                [[s["at"], s["value"], s["est"], s["se"], s["ci"], s["p"] + s["stars"]] for s in m["slopes"]],
                note=[m["jn"]])
        plot = picture(simple_slopes_svg(rec, r, w.lang)) if rec.plot else None
        if plot:
            w.figure(mt["plot_caption"].format(focal=m["focal"], outcome=m["to"], moderator=m["moderator"]), *plot)
            w.document.add_paragraph()
        for e in m["imm"]:
            w.table(f"{m['imm_title']}: {e['path']}", ["", t("est"), t("se"), t("ci")],
                    [[x["what"], x["est"], x["se"], x["ci"]] for x in e["rows"]], note=[e["note"]])


def _baron_kenny(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    if not _mediation_heading(w, ctx, f"9. {t('sec_bk')}", ctx["baron_kenny"]):
        return
    w.table(t("sec_bk"), [t("effect"), t("step"), t("condition"), t("est"), t("p"), t("met")],
            [[m["path"] if k == 0 else "", s["step"], s["what"], s["est"], s["p"] + s["stars"], s["met"]]
             for m in ctx["baron_kenny"] for k, s in enumerate(m["steps"])], align="lcl", note=[t("bk_note")])


def _reproducibility(w: DocxReport, ctx: dict) -> None:
    t = ctx["t"]
    w.heading(f"10. {t('sec_repro')}")
    for key, value in list(ctx["repro"]) + list(ctx["versions"]):
        w.paragraph((f"{key}{w.colon}", "b"), value)
    w.paragraph((f"{t('command')}{w.colon}", "b"), ctx["command"] or t("command_api"))
    w.paragraph(t("repro_note"))
    w.heading(t("references"))
    from docx.shared import Inches
    for ref in ctx["references"]:
        p = w.paragraph(ref)
        p.paragraph_format.left_indent = Inches(0.5)          # APA: hanging indent
        p.paragraph_format.first_line_indent = -Inches(0.5)


def render_docx(doc: dict | ResultsDocument, lang: str = "en") -> bytes:
    """The full report as a .docx file (bytes): the sections of report.html, tables in APA three-line form."""
    check_lang(lang)
    kind = document_kind(doc) if isinstance(doc, dict) else None   # a ResultsDocument is read as a fit one
    if kind == "invariance":
        return _invariance_docx(doc, lang)
    if kind is not None:     # pls, cmb: none of the fit sections the Word report is made of
        raise ClusterSemError(f"--docx: the Word report is written for fit and invariance results; this "
                              f"results.json is from `cluster-sem {kind}`. Fix: drop --docx (report.html and "
                              "report.md hold its report)")
    r = ResultsDocument.read(doc)
    ctx = report_context(r, lang)
    w = DocxReport(lang)
    _header(w, ctx)
    _study(w, ctx)
    _descriptives(w, ctx)
    _measurement(w, ctx)
    _discriminant(w, ctx)
    _fit(w, ctx)
    _paths(w, ctx, r)
    _indirect(w, ctx)
    _moderation(w, ctx, r)
    _baron_kenny(w, ctx)
    _reproducibility(w, ctx)
    return w.to_bytes(ctx["title"], r.meta.timestamp)


def _invariance_docx(doc: dict, lang: str) -> bytes:
    """The Word report of a `cluster-sem invariance` run: the tables of its HTML/Markdown report."""
    from .invariance import invariance_context
    c = invariance_context(doc, lang)
    t, w = c["t"], DocxReport(lang)
    w.document.add_heading(xml_safe(c["title"]), level=0)
    w.paragraph(f"{t('report')} · cluster-sem {c['version']} · n = {c['n_used']} · {c['timestamp']}")
    if c["warnings"]:
        w.paragraph((f"⚠ {t('warnings')}", "b"))
        for line in c["warnings"]:
            w.paragraph(line, style="List Bullet")
    w.heading(t("section"))
    w.paragraph(c["intro"])
    if c["released"]:
        w.paragraph(c["released"])
    w.table(t("groups"), [t("group"), t("n"), t("values")], [[g["name"], g["n"], g["raw"]] for g in c["groups"]],
            align="lcl")
    keys = ("level", "chi2", "df", "cfi", "tli", "rmsea", "srmr", "dchi2", "ddf", "dp", "dcfi", "drmsea", "decision")
    w.table(t("levels"), [t("level"), "χ²", "df", "CFI", "TLI", "RMSEA", "SRMR", "Δχ²", "Δdf", "p", "ΔCFI", "ΔRMSEA",
                          t("decision")], [[row[k] for k in keys] for row in c["levels"]], align="l" + "c" * 11 + "l",
            note=[c["summary"]])
    if c["scores"]:
        w.table(t("score", level=c["score_level"]), [t("constraint"), t("groups_pair"), "χ²(1)", "p"],
                [[x["constraint"], x["groups"], x["chi2"], x["p"]] for x in c["scores"]], align="ll",
                note=[c["score_note"]])
    if c["means"]:
        w.table(t("means"), [t("construct"), t("group"), t("est"), t("se"), t("p")],
                [[m["construct"], m["group"], m["est"], m["se"], m["p"]] for m in c["means"]], align="ll",
                note=[t("means_note")])
    if c["paths"]:
        w.table(t("paths"), [t("path")] + c["group_names"] + ["Δχ²", "Δdf", "p"],
                [[p["path"]] + p["est"] + [p["chi2"], p["df"], p["p"]] for p in c["paths"]], note=[t("paths_note")])
    return w.to_bytes(c["title"], c["timestamp"] or None)


__all__ = ["render_docx", "require_docx", "DocxReport"]
