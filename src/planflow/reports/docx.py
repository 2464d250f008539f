"""A document as Word (python-docx) that the board secretary can edit. Built on the shipped template
reports/templates/annual_report.docx: its styles (fonts, headings, lists, tables), page set-up,
header and footer are the municipality's to change in Word; planflow only adds the content, with
the template's heading styles for the document's headings."""

from __future__ import annotations

import io
from datetime import UTC
from pathlib import Path

from docx import Document as open_template
from docx.document import Document as WordDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.table import _Cell, _Row
from docx.text.paragraph import Paragraph as WordParagraph

from ..documents.model import Block, BulletList, Cell, Chart, Document, Paragraph, Section, Stamp, Table, Text
from . import chart

TEMPLATE = Path(__file__).resolve().parent / "templates" / "annual_report.docx"
TINTS = {"green": "DFF0E2", "yellow": "FDF3D0", "red": "F8DCDB", "unreported": "FFFFFF"}
HEAD = "EEF2F5"
WIDTH = 16.0  # cm between the template's margins


def write(document: Document, template: Path | None = None) -> bytes:
    """The document as a .docx, on `template` (the shipped one by default)."""
    word = open_template(str(template or TEMPLATE))
    for line in document.meta:
        _say(word.add_paragraph(), line, document.language)
    word.add_heading(document.heading, level=0)  # the template's Title style
    _blocks(word, document.blocks, 1, document.language)
    properties = word.core_properties
    properties.title = document.title
    properties.subject = document.subject
    properties.author = properties.last_modified_by = document.author
    properties.language = document.language
    # python-docx writes these as UTC ("…Z") and wants them without a zone
    properties.created = properties.modified = document.created.astimezone(UTC).replace(tzinfo=None)
    properties.revision = document.revision
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _say(paragraph: WordParagraph, text: str, language: str) -> None:
    """`text` as runs of `paragraph`, a quoted part (the plan's Swedish) in its own language, so
    that Word checks its spelling as Swedish (documents.model.Quoted)."""
    for part in getattr(text, "parts", (text,)):
        run = paragraph.add_run(part)
        quoted = getattr(part, "language", language)
        if quoted != language:
            tag = OxmlElement("w:lang")
            tag.set(qn("w:val"), quoted)
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
    """A grid whose header row repeats on every page; a status cell is in words, in bold, tinted."""
    grid = word.add_table(rows=1, cols=len(table.columns))
    grid.style = word.styles["Table Grid"]
    for cell, column in zip(grid.rows[0].cells, table.columns, strict=True):
        _bold(cell, column.heading, HEAD)
    _repeat_header(grid.rows[0])
    for values in table.rows:
        for cell, value in zip(grid.add_row().cells, values, strict=True):
            _cell(cell, value, language)
    if table.total:
        for cell, text in zip(grid.add_row().cells, table.total, strict=True):
            _bold(cell, text)
    widths = table.widths()
    for row in grid.rows:
        for cell, column, share in zip(row.cells, table.columns, widths, strict=True):
            cell.width = Cm(share * WIDTH)
            if column.numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    word.add_paragraph()


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
    shape = word.add_picture(io.BytesIO(chart.png(figure)), width=Cm(WIDTH))
    shape._inline.docPr.set("descr", figure.alt)  # the picture's alternative text


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
