"""A document as PDF/A-2a with fpdf2, which installs from PyPI alone; the font is the DejaVu Sans
shipped in planflow/reports/fonts (Swedish letters, typographic dashes), embedded. A4, the
organisation and the title at the head of every page, page numbers as "Sida 2 (5)", the issue
(or "working copy") at the foot.

For the archive (PDF/A-2, ISO 19005-2): PDF 1.7, XMP metadata that says part 2, conformance A,
the title, author and language, and agrees with the document information; an sRGB output intent
with its ICC profile (the ICC's sRGB2014, shipped with fpdf2 under the ICC's free licence); every
font embedded; no encryption, no JavaScript. For a screen reader (PDF/UA-1 in spirit): tagged
throughout (planflow.reports.structure), the language set, the title shown in the window, a
bookmark per heading. Words in table cells break only where the hyphenation dictionary
(pyphen's Swedish or English) allows, with a hyphen, and columns are as wide as their content
asks (Table.widths, the same rule the Word writer uses)."""

from __future__ import annotations

import io
import re
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

import pyphen
from fpdf import FPDF, FPDF_VERSION
from fpdf.enums import MethodReturnValue, OutputIntentSubType
from fpdf.output import PDFICCProfile
from fpdf.prefs import ViewerPreferences
from fpdf.util import builtin_srgb2014_bytes

from .. import i18n
from ..documents.model import (
    Block,
    BulletList,
    Cell,
    Chart,
    Document,
    Paragraph,
    Phrase,
    Quoted,
    Section,
    Stamp,
    Status,
    Table,
    Text,
)
from . import chart, fonts
from .structure import Element, Structure

FONT = "DejaVu"
BLUE = (0, 59, 92)
GREY = (85, 85, 85)
TINTS = {
    "green": (223, 240, 226),
    "yellow": (253, 243, 208),
    "red": (248, 220, 219),
    "unreported": (255, 255, 255),
}
HEAD_FILL = (238, 242, 245)
LEFT, WIDTH = 20, 170  # mm: the left margin, and the width between the margins
SIZES = {"body": 10.0, "lead": 11.0, "muted": 9.0}
CELL = 8.5  # pt: a table's type, and its line height in mm
CELL_LINE = 4.4
ASIDE = 7.5  # pt: an aside's type, its line height and the gap above it in mm
ASIDE_LINE = 3.6
ASIDE_GAP = 0.8
PADDING = 1.2  # mm inside a table cell
CONFORMANCE = ("2", "A")  # PDF/A part and conformance level, as the XMP says them


class _Pages(FPDF):
    """A4 pages with the document's running head and foot, both artifacts."""

    def __init__(self, document: Document) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        self.structure = Structure(self)
        self.add_font(FONT, "", str(fonts.REGULAR))
        self.add_font(FONT, "B", str(fonts.BOLD))
        self.set_margins(LEFT, 22, LEFT)
        self.set_auto_page_break(True, margin=20)
        self.set_font(FONT, size=10)

    def header(self) -> None:
        with self.structure.artifact():
            self.set_font(FONT, size=8)
            self.set_text_color(*GREY)
            self.set_xy(LEFT, 10)
            self.cell(85, 5, self.document.author)
            self.cell(0, 5, self.document.title, align="R")
            self.set_draw_color(*BLUE)
            self.set_line_width(0.4)
            self.line(LEFT, 16, LEFT + WIDTH, 16)
            self.set_text_color(0, 0, 0)
        self.set_y(22)
        self.set_font(FONT, size=10)
        self.structure.resume()

    def footer(self) -> None:
        self.structure.pause()
        with self.structure.artifact():
            self.set_y(-14)
            self.set_font(FONT, size=7.5)
            self.set_text_color(*GREY)
            self.cell(140, 5, self.document.footer)
            page = i18n.text(self.document.language, "report.page", {"page": self.page_no(), "pages": "{nb}"})
            self.cell(0, 5, page, align="R")
            self.set_text_color(0, 0, 0)


def write(document: Document) -> bytes:
    """The document as PDF/A-2a bytes."""
    pdf = _Pages(document)
    _archival(pdf, document)
    pdf.add_page()
    writer = _Writer(pdf, document.language)
    for line in document.meta:
        writer.paragraph(Paragraph(line, "muted"))
    writer.heading(document.heading, 1)
    writer.blocks(document.blocks, 2)
    return bytes(pdf.output())


def _archival(pdf: FPDF, document: Document) -> None:
    """What PDF/A-2 asks of the file as a whole, and what a reader shows of it."""
    pdf.pdf_version = "1.7"
    pdf.set_creation_date(document.created)
    pdf.set_title(document.title)
    pdf.set_author(document.author)
    pdf.set_subject(document.subject)
    pdf.set_creator("planflow")
    pdf.set_producer(f"fpdf2 {FPDF_VERSION}")
    pdf.set_lang(document.language)
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.page_mode = "USE_OUTLINES"
    pdf.add_output_intent(
        OutputIntentSubType.PDFA,
        output_condition_identifier="sRGB",
        output_condition="IEC 61966-2-1:1999",
        registry_name="http://www.color.org",
        dest_output_profile=PDFICCProfile(contents=builtin_srgb2014_bytes(), n=3, alternate="DeviceRGB"),
        info="sRGB2014 (v2)",
    )
    pdf.set_xmp_metadata(_xmp(document, f"fpdf2 {FPDF_VERSION}"))


def _xmp(document: Document, producer: str) -> str:
    """The XMP packet's body: PDF/A identification, and the document information said again."""
    at = document.created.isoformat(timespec="seconds")
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>{CONFORMANCE[0]}</pdfaid:part>
   <pdfaid:conformance>{CONFORMANCE[1]}</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(document.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{escape(document.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(document.subject)}</rdf:li></rdf:Alt>
   </dc:description>
   <dc:language><rdf:Bag><rdf:li>{escape(document.language)}</rdf:li></rdf:Bag></dc:language>
   <xmp:CreatorTool>planflow</xmp:CreatorTool>
   <xmp:CreateDate>{at}</xmp:CreateDate>
   <xmp:ModifyDate>{at}</xmp:ModifyDate>
   <xmp:MetadataDate>{at}</xmp:MetadataDate>
   <pdf:Producer>{escape(producer)}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>"""


class _Writer:
    def __init__(self, pdf: _Pages, language: str) -> None:
        self.pdf = pdf
        self.tags = pdf.structure
        self.language = language

    def blocks(self, blocks: tuple[Block, ...], level: int) -> None:
        for block in blocks:
            if isinstance(block, Section):
                self.section(block, level)
            elif isinstance(block, Paragraph):
                self.paragraph(block)
            elif isinstance(block, BulletList):
                self.bullets(block)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Chart):
                self.chart(block)
            elif isinstance(block, Stamp):
                self.stamp(block)

    def heading(self, text: str, level: int) -> None:
        """A heading, tagged H1–H6 by its level and bookmarked at the same depth."""
        pdf = self.pdf
        size, line, colour = {1: (18, 9, BLUE), 2: (13, 7, BLUE)}.get(level, (10.5, 6, (0, 0, 0)))
        pdf.start_section(text, level - 1)
        pdf.set_font(FONT, "B", size)
        pdf.set_text_color(*colour)
        with self.tags.element(f"H{level}"), self.tags.content():
            pdf.multi_cell(0, line, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, size=10)

    def section(self, section: Section, level: int) -> None:
        """A heading kept with what follows it (a chart needs more room than text), then the section."""
        pdf = self.pdf
        if level <= 2:
            if pdf.will_page_break(15 + _lead(section.blocks)):
                pdf.add_page()
            pdf.ln(4)
            self.heading(section.heading, level)
            with self.tags.artifact():
                pdf.set_draw_color(*BLUE)
                pdf.set_line_width(0.4)
                pdf.line(LEFT, pdf.get_y(), LEFT + WIDTH, pdf.get_y())
            pdf.ln(2)
        else:
            if pdf.will_page_break(8 + _lead(section.blocks)):
                pdf.add_page()
            pdf.ln(2)
            self.heading(section.heading, level)
        self.blocks(section.blocks, level + 1)

    def paragraph(self, paragraph: Paragraph) -> None:
        size = SIZES[paragraph.tone]
        self.pdf.set_font(FONT, size=size)
        if paragraph.tone == "muted":
            self.pdf.set_text_color(*GREY)
        with self.tags.element("P"), self.tags.content():
            self.pdf.multi_cell(0, size * 0.5, paragraph.text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(1.5)

    def bullets(self, bullets: BulletList) -> None:
        """A list: each item a label (the bullet) and a body, as a screen reader announces lists."""
        pdf = self.pdf
        pdf.set_font(FONT, size=10)
        with self.tags.element("L"):
            for item in bullets.items:
                with self.tags.element("LI"):
                    with self.tags.element("Lbl"), self.tags.content():
                        pdf.cell(5, 5, "•")
                    with self.tags.element("LBody"), self.tags.content():
                        pdf.multi_cell(WIDTH - 5, 5, item, align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1.5)

    def stamp(self, stamp: Stamp) -> None:
        """The issue in a frame, kept on one page."""
        pdf = self.pdf
        pdf.set_font(FONT, size=8.5)
        text = "\n".join(stamp.lines)
        height = self.tall(WIDTH - 4, 4.5, text) + 4
        if pdf.will_page_break(height):
            pdf.add_page()
        top = pdf.get_y()
        with self.tags.artifact():
            pdf.set_draw_color(*BLUE)
            pdf.set_line_width(0.3)
            pdf.rect(LEFT, top, WIDTH, height)
        pdf.set_xy(LEFT + 2, top + 2)
        with self.tags.element("P"), self.tags.content():
            pdf.multi_cell(WIDTH - 4, 4.5, text, align="L")
        pdf.set_xy(LEFT, top + height)
        pdf.set_font(FONT, size=10)
        pdf.ln(3)

    def table(self, table: Table) -> None:
        _TableWriter(self, table).write()
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(2)

    def hyphenated(self, text: str) -> str:
        """The text with soft hyphens where its words may break: quoted words by their language."""
        parts = text.parts if isinstance(text, Phrase | Quoted) else (text,)
        return "".join(
            _soft_hyphens(part, part.language if isinstance(part, Quoted) else self.language)
            for part in parts
        )

    def tall(self, width: float, line: float, text: str) -> float:
        """How tall the text sets in the current font, `width` wide."""
        height = self.pdf.multi_cell(width, line, text, dry_run=True, output=MethodReturnValue.HEIGHT)
        assert isinstance(height, float | int)
        return float(height)

    def chart(self, figure: Chart) -> None:
        """The chart as a figure with its alternative text, and its place on the page."""
        pdf = self.pdf
        image = chart.png(figure)
        height = WIDTH * 360 / 800  # the chart's aspect (planflow.reports.chart)
        if pdf.will_page_break(height + 2):
            pdf.add_page()
        top = pdf.get_y()
        k = pdf.k
        bottom = pdf.h - top - height  # PDF's y runs up from the foot of the page, in points
        box = f"[{LEFT * k:.2f} {bottom * k:.2f} {(LEFT + WIDTH) * k:.2f} {(bottom + height) * k:.2f}]"
        with self.tags.element("Figure", alt=figure.alt, attributes=f"<</O /Layout /BBox {box}>>"):
            with self.tags.content():
                pdf.image(io.BytesIO(image), x=LEFT, y=top, w=WIDTH, h=height)
        pdf.set_y(top + height)
        pdf.ln(2)


def _lead(blocks: tuple[Block, ...]) -> float:
    """The room (mm) the start of a section's blocks needs for its heading to be kept with it: a
    chart's height, a subsection's heading and its own start, or a few lines."""
    if any(isinstance(b, Chart) for b in blocks[:2]):
        return 85
    if blocks and isinstance(blocks[0], Section):
        return 8 + _lead(blocks[0].blocks)
    return 15


@dataclass(frozen=True)
class _Cell:
    """A table cell as laid out: its text (soft-hyphenated), its role (TH with a scope, or TD),
    its weight and tint, and an aside set beneath it."""

    text: str
    role: str
    scope: str | None = None
    bold: bool = False
    fill: tuple[int, int, int] | None = None
    aside: str = ""


@dataclass(frozen=True)
class _Lines:
    """A cell's text and aside broken into lines, or the part of them that goes on one page."""

    cell: _Cell
    text: tuple[str, ...]
    aside: tuple[str, ...]

    @property
    def height(self) -> float:
        gap = ASIDE_GAP if self.text and self.aside else 0
        return len(self.text) * CELL_LINE + gap + len(self.aside) * ASIDE_LINE

    @property
    def empty(self) -> bool:
        return not self.text and not self.aside

    def split(self, room: float) -> tuple[_Lines, _Lines]:
        """The lines that fit in `room`, and the rest."""
        n = min(len(self.text), int(room / CELL_LINE + 1e-6))
        left = room - n * CELL_LINE - (ASIDE_GAP if n else 0)
        m = min(len(self.aside), int(left / ASIDE_LINE + 1e-6)) if n == len(self.text) else 0
        return (
            _Lines(self.cell, self.text[:n], self.aside[:m]),
            _Lines(self.cell, self.text[n:], self.aside[m:]),
        )


class _TableWriter:
    """A table: columns as wide as Table.widths says, measured in this type; every row as tall as
    its tallest cell, and a row taller than the room left goes on the next page, or, taller than
    a page, is continued there; the header row is repeated on every page (the repeats are
    artifacts). A status cell is tinted, in bold, in words; an aside is set apart, smaller, grey."""

    def __init__(self, writer: _Writer, table: Table) -> None:
        self.writer, self.pdf, self.tags = writer, writer.pdf, writer.tags
        self.table = table
        self.pdf.set_font(FONT, "B", CELL)  # measured in bold, the wider: no word is cut short
        shares = table.widths(WIDTH, self.pdf.get_string_width, 2 * PADDING + 0.5)
        self.widths = [share * WIDTH for share in shares]
        self.aligns = ["R" if c.numeric else "L" for c in table.columns]

    def write(self) -> None:
        pdf, table, hyphenated = self.pdf, self.table, self.writer.hyphenated
        pdf.c_margin, margin = PADDING, pdf.c_margin  # a cell's text stands off its sides
        header = [
            _Cell(hyphenated(c.heading), "TH", "Column", bold=True, fill=HEAD_FILL) for c in table.columns
        ]
        rows = [[self._cell(value) for value in values] for values in table.rows]
        if table.total:
            first, *rest = table.total
            rows.append([_Cell(first, "TH", "Row", bold=True), *(_Cell(t, "TD", bold=True) for t in rest)])
        self.header = self._lines(header)
        with self.tags.element("Table"):
            self._row(self.header, first=True)
            for cells in rows:
                self._row(self._lines(cells))
        pdf.c_margin = margin

    def _cell(self, value: Cell) -> _Cell:
        if isinstance(value, Status):
            return _Cell(value.words, "TD", bold=True, fill=TINTS[value.key])
        if isinstance(value, Text):
            return _Cell(
                self.writer.hyphenated(value.text), "TD", aside=self.writer.hyphenated(value.aside or "")
            )
        return _Cell(self.writer.hyphenated(value), "TD")

    def _lines(self, cells: list[_Cell]) -> list[_Lines]:
        laid = []
        for cell, width in zip(cells, self.widths, strict=True):
            self.pdf.set_font(FONT, "B" if cell.bold else "", CELL)
            text = self._break(width, cell.text)
            self.pdf.set_font(FONT, size=ASIDE)
            laid.append(_Lines(cell, text, self._break(width, cell.aside) if cell.aside else ()))
        return laid

    def _break(self, width: float, text: str) -> tuple[str, ...]:
        lines = self.pdf.multi_cell(width, CELL_LINE, text, dry_run=True, output=MethodReturnValue.LINES)
        assert isinstance(lines, list)
        return tuple(lines)

    def _row(self, cells: list[_Lines], first: bool = False) -> None:
        """One row, tagged TR with a TH or TD per cell, on as many pages as it takes."""
        pdf = self.pdf
        with self.tags.element("TR"):
            owners = [
                self.tags.add(
                    c.cell.role, attributes=f"<</O /Table /Scope /{c.cell.scope}>>" if c.cell.scope else None
                )
                for c in cells
            ]
            room_on_a_page = pdf.page_break_trigger - pdf.t_margin - self._height(self.header)
            while True:
                height, room = self._height(cells), pdf.page_break_trigger - pdf.get_y()
                if first:  # the header row with at least a line of the first row
                    height += CELL_LINE + 2 * PADDING
                if height > room and (height <= room_on_a_page or room < 3 * CELL_LINE + 2 * PADDING):
                    self._next_page(repeat=not first)
                    room = pdf.page_break_trigger - pdf.get_y()
                now, rest = zip(*(c.split(room - 2 * PADDING) for c in cells), strict=True)
                self._draw(list(now), owners)
                if all(r.empty for r in rest):
                    return
                cells = list(rest)
                self._next_page(repeat=True)

    def _next_page(self, repeat: bool) -> None:
        self.pdf.add_page()
        if repeat:
            with self.tags.artifact():
                self._draw(self.header, None)

    def _height(self, cells: list[_Lines]) -> float:
        return max(c.height for c in cells) + 2 * PADDING

    def _draw(self, cells: list[_Lines], owners: list[Element] | None) -> None:
        """Cells side by side, as tall as the tallest: a cell's frame is an artifact, its text the
        content of its TH or TD; without `owners` (a repeated header) all is drawn as it comes."""
        pdf = self.pdf
        height, top, x = self._height(cells), pdf.get_y(), float(LEFT)
        for index, (lines, width, align) in enumerate(zip(cells, self.widths, self.aligns, strict=True)):
            cell = lines.cell
            with self.tags.artifact() if owners else nullcontext():
                pdf.set_draw_color(160, 160, 160)
                pdf.set_line_width(0.2)
                if cell.fill:
                    pdf.set_fill_color(*cell.fill)
                pdf.rect(x, top, width, height, style="DF" if cell.fill else "D")
            pdf.set_xy(x, top + PADDING)
            if not lines.empty:
                with self.tags.content(owners[index]) if owners else nullcontext():
                    self._text(lines, width, align)
            x += width
        pdf.set_xy(LEFT, top + height)

    def _text(self, lines: _Lines, width: float, align: str) -> None:
        pdf, x = self.pdf, self.pdf.get_x()
        if lines.text:
            pdf.set_font(FONT, "B" if lines.cell.bold else "", CELL)
            pdf.multi_cell(width, CELL_LINE, "\n".join(lines.text), align=align, new_x="LEFT", new_y="NEXT")
        if lines.aside:
            pdf.set_xy(x, pdf.get_y() + (ASIDE_GAP if lines.text else 0))
            pdf.set_font(FONT, size=ASIDE)
            pdf.set_text_color(*GREY)
            pdf.multi_cell(width, ASIDE_LINE, "\n".join(lines.aside), align=align)
            pdf.set_text_color(0, 0, 0)


WORD = re.compile(r"\w{6,}")


@lru_cache(maxsize=4)
def _dictionary(language: str) -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="sv" if language == "sv" else "en_GB", left=3, right=3)


def _soft_hyphens(text: str, language: str) -> str:
    """Soft hyphens where the language's hyphenation dictionary breaks each longer word: fpdf2
    breaks a line at one only when it must, and then prints a hyphen there."""
    dictionary = _dictionary(language)
    return WORD.sub(lambda word: dictionary.inserted(word.group(), hyphen="\u00ad"), text)
