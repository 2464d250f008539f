"""A document as Word (python-docx, Office Open XML) that the board secretary can edit. Built on the
shipped template reports/templates/report.docx: its styles (fonts, headings, lists, tables), page
set-up, header and footer are the municipality's to change in Word; planflow adds the content, with
the template's heading styles for the document's headings, and words the running head (the
document's title) and foot (its issue and the page number) in the document's language."""

from __future__ import annotations

import io
from datetime import UTC
from functools import cache
from pathlib import Path

from docx import Document as open_template
from docx.document import Document as WordDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm
from docx.table import _Cell, _Row
from docx.text.paragraph import Paragraph as WordParagraph
from PIL import ImageFont

from .. import i18n
from ..documents.model import (
    Block,
    BulletList,
    Cell,
    Chart,
    Document,
    Paragraph,
    Section,
    Stamp,
    Table,
    Text,
)
from . import chart, fonts

TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.docx"
TINTS = {"green": "DFF0E2", "yellow": "FDF3D0", "red": "F8DCDB", "unreported": "FFFFFF"}
HEAD = "EEF2F5"
WIDTH = 16.0  # cm between the template's margins
# Word wants a language with its region (spelling, hyphenation, and LibreOffice's PDF /Lang come
# from it). English is British: the Swedish government's style for English texts.
LOCALES = {"sv": "sv-SE", "en": "en-GB"}


def locale(language: str) -> str:
    """The language as Word tags it: sv-SE for Swedish, en-GB for English."""
    return LOCALES.get(language, language)


def write(document: Document, template: Path | None = None) -> bytes:
    """The document as a .docx, on `template` (the shipped one by default)."""
    word = open_template(str(template or TEMPLATE))
    _language(word, document.language)
    _running_head_and_foot(word, document)
    for line in document.meta:
        _say(word.add_paragraph(), line, document.language)
    word.add_heading(document.heading, level=0)  # the template's Title style
    _blocks(word, document.blocks, 1, document.language)
    properties = word.core_properties
    properties.title = document.title
    properties.subject = document.subject
    properties.author = properties.last_modified_by = document.author
    properties.language = locale(document.language)
    # python-docx writes these as UTC ("…Z") and wants them without a zone
    properties.created = properties.modified = document.created.astimezone(UTC).replace(tzinfo=None)
    properties.revision = document.revision
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _language(word: WordDocument, language: str) -> None:
    """The document's language where Word and LibreOffice look for it: the styles' default run
    properties (every style inherits them) and the theme fonts' language in the settings."""
    defaults = _child(word.styles.element, "w:docDefaults", "w:rPrDefault", "w:rPr")
    _child(defaults, "w:lang").set(qn("w:val"), locale(language))
    _child(word.settings.element, "w:themeFontLang").set(qn("w:val"), locale(language))


def _child(parent: BaseOxmlElement, *path: str) -> BaseOxmlElement:
    """The element at `path` under `parent`, made where missing (a municipality's template may lack
    it). Appended: rPrDefault and lang each end their parent's sequence in the schema, and
    themeFontLang is not in a sequence Word checks the order of."""
    for tag in path:
        child = parent.find(qn(tag))
        if child is None:
            child = OxmlElement(tag)
            if tag == "w:docDefaults":
                parent.insert(0, child)  # first in w:styles
            else:
                parent.append(child)
        parent = child
    return parent


def _running_head_and_foot(word: WordDocument, document: Document) -> None:
    """The template's first header paragraph says the title; its first footer paragraph says the
    issue (or "working copy") and the page as "Sida 2 (5)", its numbers Word's own fields."""
    section = word.sections[0]
    _clear(section.header.paragraphs[0]).add_run(document.title)
    foot = _clear(section.footer.paragraphs[0])
    foot.add_run(f"{document.footer} · ")
    marker = "\x00"
    page = i18n.text(
        document.language,
        "report.page",
        {"page": f"{marker}PAGE{marker}", "pages": f"{marker}NUMPAGES{marker}"},
    )
    for index, part in enumerate(page.split(marker)):
        if index % 2:
            _field(foot, part)
        elif part:
            foot.add_run(part)


def _clear(paragraph: WordParagraph) -> WordParagraph:
    for run in paragraph._p.xpath("./w:r | ./w:fldSimple | ./w:hyperlink"):
        paragraph._p.remove(run)
    return paragraph


def _field(paragraph: WordParagraph, instruction: str) -> None:
    """A field Word fills in as it lays out the pages (PAGE, NUMPAGES), with "1" until it does."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _say(paragraph: WordParagraph, text: str, language: str) -> None:
    """`text` as runs of `paragraph`, a quoted part (the plan's Swedish) in its own language, so
    that Word checks its spelling as Swedish (documents.model.Quoted)."""
    for part in getattr(text, "parts", (text,)):
        run = paragraph.add_run(part)
        quoted = getattr(part, "language", language)
        if quoted != language:
            tag = OxmlElement("w:lang")
            tag.set(qn("w:val"), locale(quoted))
            run._r.get_or_add_rPr().append(tag)


def _blocks(word: WordDocument, blocks: tuple[Block, ...], level: int, language: str) -> None:
    """`level`: the Word heading level of a section here (Heading 1 for the document's sections)."""
    for block in blocks:
        if isinstance(block, Section):
            _say(word.add_heading("", level=level), block.heading, language)
            _blocks(word, block.blocks, level + 1, language)
        elif isinstance(block, Paragraph):
            _say(word.add_paragraph(), block.text, language)
        elif isinstance(block, BulletList):
            for item in block.items:
                _say(word.add_paragraph(style="List Bullet"), item, language)
        elif isinstance(block, Table):
            _table(word, block, language)
        elif isinstance(block, Chart):
            _chart(word, block)
        elif isinstance(block, Stamp):
            for line in block.lines:
                word.add_paragraph(line)


def _table(word: WordDocument, table: Table, language: str) -> None:
    """A grid whose header row repeats on every page; a status cell is in words, in bold, tinted.
    Its columns are as wide as their content asks (column_widths), the same in the grid as in
    every cell, and fixed, so that Word and LibreOffice lay it out alike."""
    grid = word.add_table(rows=1, cols=len(table.columns))
    grid.style = word.styles["Table Grid"]
    grid.autofit = False
    for cell, column in zip(grid.rows[0].cells, table.columns, strict=True):
        _bold(cell, column.heading, HEAD)
    _repeat_header(grid.rows[0])
    for values in table.rows:
        for cell, value in zip(grid.add_row().cells, values, strict=True):
            _cell(cell, value, language)
    if table.total:
        for cell, text in zip(grid.add_row().cells, table.total, strict=True):
            _bold(cell, text)
    widths = [Cm(w) for w in column_widths(table, WIDTH)]
    for column, width in zip(grid._tbl.tblGrid.gridCol_lst, widths, strict=True):
        column.w = width
    table_width = grid._tbl.tblPr.find(qn("w:tblW"))
    table_width.set(qn("w:type"), "dxa")
    table_width.set(qn("w:w"), str(sum(w.twips for w in widths)))
    for row in grid.rows:
        for cell, column, width in zip(row.cells, table.columns, widths, strict=True):
            cell.width = width
            if column.numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    word.add_paragraph()


# How column_widths measures: the template's body size in DejaVu Sans, wider than the template's
# Arial (and its stand-ins), so that a word measured to fit does; and a cell's left and right
# margins (Word's default 0.19 cm each).
BODY_SIZE = 10.5  # pt
CELL_MARGINS = Cm(0.38).pt


def column_widths(table: Table, width: float) -> list[float]:
    """Each column's width, summing to `width`, by the document model's one rule (Table.widths),
    measured in this writer's type: every word as if bold, so that a bold heading or status fits
    the width measured for it and no word is broken (a point spare for rounding to twips)."""
    shares = table.widths(
        line=Cm(width).pt, measure=lambda text: _measure(text, True), padding=CELL_MARGINS + 1
    )
    return [width * share for share in shares]


@cache
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    # measured at 100 units to the point: getlength rounds to whole units
    return ImageFont.truetype(str(fonts.BOLD if bold else fonts.REGULAR), int(BODY_SIZE * 100))


def _measure(text: str, bold: bool) -> float:
    """How wide `text` is set, in points."""
    return _font(bold).getlength(text) / 100


def _cell(cell: _Cell, value: Cell, language: str) -> None:
    if isinstance(value, Text):
        _say(cell.paragraphs[0], value.text, language)
        if value.aside:
            cell.paragraphs[0].add_run(f"\n{value.aside}")
    elif isinstance(value, str):
        _say(cell.paragraphs[0], value, language)
    else:
        _bold(cell, value.words, TINTS[value.key])


def _chart(word: WordDocument, figure: Chart) -> None:
    """The chart as a picture with its alternative text where Word and LibreOffice (the drawing's
    docPr) and readers of the picture itself (its cNvPr) look for it. Not as a title too: the alt
    text begins with the chart's title, and LibreOffice would say the title twice."""
    shape = word.add_picture(io.BytesIO(chart.png(figure)), width=Cm(WIDTH))
    for properties in (shape._inline.docPr, shape._inline.graphic.graphicData.pic.nvPicPr.cNvPr):
        properties.set("descr", figure.alt)


def _bold(cell: _Cell, text: str, fill: str | None = None) -> None:
    cell.text = ""
    cell.paragraphs[0].add_run(text).bold = True
    if fill:
        _shade(cell, fill)


def _shade(cell: _Cell, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _repeat_header(row: _Row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)
