"""A document as PDF with fpdf2, which installs from PyPI alone; the font is the DejaVu Sans shipped in
planflow/reports/fonts (Swedish letters, typographic dashes). A4, the organisation and the title
at the head of every page, page numbers as "Sida 2 (5)", the issue (or "working copy") at the
foot; charts carry their alternative text."""

from __future__ import annotations

import io

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode
from fpdf.table import Row

from .. import i18n
from ..documents.model import Block, BulletList, Cell, Chart, Document, Paragraph, Section, Stamp, Table, Text
from . import chart, fonts

FONT = "DejaVu"
BLUE = (0, 59, 92)
GREY = (85, 85, 85)
TINTS = {
    "green": (223, 240, 226),
    "yellow": (253, 243, 208),
    "red": (248, 220, 219),
    "unreported": (255, 255, 255),
}
HEAD = FontFace(emphasis="BOLD", fill_color=(238, 242, 245))
BOLD = FontFace(emphasis="BOLD")
WIDTH = 170  # mm between the margins
SIZES = {"body": 10.0, "lead": 11.0, "muted": 9.0}


class _Pages(FPDF):
    """A4 pages with the document's running head and foot."""

    def __init__(self, document: Document) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        self.add_font(FONT, "", str(fonts.REGULAR))
        self.add_font(FONT, "B", str(fonts.BOLD))
        self.set_margins(20, 22, 20)
        self.set_auto_page_break(True, margin=20)
        self.set_font(FONT, size=10)

    def header(self) -> None:
        self.set_font(FONT, size=8)
        self.set_text_color(*GREY)
        self.set_xy(20, 10)
        self.cell(85, 5, self.document.author)
        self.cell(0, 5, self.document.title, align="R")
        self.set_draw_color(*BLUE)
        self.set_line_width(0.4)
        self.line(20, 16, 190, 16)
        self.set_text_color(0, 0, 0)
        self.set_y(22)
        self.set_font(FONT, size=10)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, size=7.5)
        self.set_text_color(*GREY)
        self.cell(140, 5, self.document.footer)
        page = i18n.text(self.document.language, "report.page", {"page": self.page_no(), "pages": "{nb}"})
        self.cell(0, 5, page, align="R")
        self.set_text_color(0, 0, 0)


def write(document: Document) -> bytes:
    """The document as PDF bytes."""
    pdf = _Pages(document)
    pdf.set_creation_date(document.created)
    pdf.set_title(document.title)
    pdf.set_author(document.author)
    pdf.set_subject(document.subject)
    pdf.set_creator("planflow")
    pdf.set_lang(document.language)
    pdf.add_page()
    writer = _Writer(pdf)
    for line in document.meta:
        writer.paragraph(Paragraph(line, "muted"))
    writer.title(document.heading)
    writer.blocks(document.blocks, 2)
    return bytes(pdf.output())


class _Writer:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def blocks(self, blocks: tuple[Block, ...], level: int) -> None:
        for block in blocks:
            if isinstance(block, Section):
                self.section(block, level)
            elif isinstance(block, Paragraph):
                self.paragraph(block)
            elif isinstance(block, BulletList):
                for item in block.items:
                    self.paragraph(Paragraph(f"• {item}"))
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Chart):
                self.chart(block)
            elif isinstance(block, Stamp):
                self.stamp(block)

    def title(self, text: str) -> None:
        self.pdf.set_font(FONT, "B", 18)
        self.pdf.set_text_color(*BLUE)
        self.pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(FONT, size=10)

    def section(self, section: Section, level: int) -> None:
        """A heading kept with what follows it (a chart needs more room than text), then the section."""
        pdf = self.pdf
        if level <= 2:
            leads_to_chart = any(isinstance(b, Chart) for b in section.blocks[:2])
            if pdf.will_page_break(100 if leads_to_chart else 30):
                pdf.add_page()
            pdf.ln(4)
            pdf.set_font(FONT, "B", 13)
            pdf.set_text_color(*BLUE)
            pdf.multi_cell(0, 7, section.heading, new_x="LMARGIN", new_y="NEXT")
            pdf.line(20, pdf.get_y(), 190, pdf.get_y())
            pdf.ln(2)
            pdf.set_text_color(0, 0, 0)
        else:
            if pdf.will_page_break(22):
                pdf.add_page()
            pdf.ln(2)
            pdf.set_font(FONT, "B", 10.5)
            pdf.multi_cell(0, 6, section.heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=10)
        self.blocks(section.blocks, level + 1)

    def paragraph(self, paragraph: Paragraph) -> None:
        size = SIZES[paragraph.tone]
        self.pdf.set_font(FONT, size=size)
        if paragraph.tone == "muted":
            self.pdf.set_text_color(*GREY)
        self.pdf.multi_cell(0, size * 0.5, paragraph.text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(1.5)

    def stamp(self, stamp: Stamp) -> None:
        self.pdf.set_draw_color(*BLUE)
        self.pdf.set_line_width(0.3)
        self.pdf.set_font(FONT, size=8.5)
        text = "\n".join(stamp.lines)
        self.pdf.multi_cell(0, 4.5, text, border=1, padding=2, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(3)

    def table(self, table: Table) -> None:
        """A table with its header row repeated on every page; a status cell is tinted, in bold, in words."""
        scale = WIDTH / sum(c.width for c in table.columns)
        self.pdf.set_font(FONT, size=8.5)
        with self.pdf.table(
            col_widths=[c.width * scale for c in table.columns],
            headings_style=HEAD,
            line_height=4.4,
            text_align="LEFT",
            padding=1.2,
            cell_fill_mode=TableCellFillMode.NONE,
            repeat_headings=1,
        ) as grid:
            aligns = ["RIGHT" if c.numeric else "LEFT" for c in table.columns]
            heading = grid.row()
            for column, align in zip(table.columns, aligns, strict=True):
                heading.cell(column.heading, align=align)
            for values in table.rows:
                row = grid.row()
                for value, align in zip(values, aligns, strict=True):
                    _cell(row, value, align)
            if table.total:
                row = grid.row()
                for text, align in zip(table.total, aligns, strict=True):
                    row.cell(text, align=align, style=BOLD)
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(2)

    def chart(self, figure: Chart) -> None:
        if self.pdf.will_page_break(80):
            self.pdf.add_page()
        self.pdf.image(io.BytesIO(chart.png(figure)), w=WIDTH, alt_text=figure.alt)
        self.pdf.ln(2)


def _cell(row: Row, value: Cell, align: str) -> None:
    if isinstance(value, Text):
        row.cell(value.text + (f"\n{value.aside}" if value.aside else ""), align=align)
    elif isinstance(value, str):
        row.cell(value, align=align)
    else:  # a status: in words, in bold, tinted
        row.cell(value.words, align=align, style=FontFace(emphasis="BOLD", fill_color=TINTS[value.key]))
