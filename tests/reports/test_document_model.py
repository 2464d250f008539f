"""One document model feeds the three writers: for each kind of report, the composed document's
headings (with their levels), tables, charts and statuses are found in the PDF (read with pypdf),
the Word file (python-docx: the template's Title and Heading styles) and the HTML (lxml: h1–h3),
each read back with its own reader. The composers word everything in the reader's language."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import docx as python_docx
import lxml.html
import pytest
from pypdf import PdfReader

from planflow import clock
from planflow.documents.compose import compose
from planflow.documents.content import (
    ActivityLine,
    AnnualReportContent,
    AreaLines,
    CompletedActivity,
    Content,
    DeviationLine,
    Dialogue,
    Feedback,
    Issue,
    NewActivity,
    PeriodCounts,
    PlanHeading,
    ProposalLine,
    SteeringReport,
    YearActivity,
    YearArea,
)
from planflow.documents.model import (
    Block,
    BulletList,
    Chart,
    Document,
    Paragraph,
    Section,
    Stamp,
    Status,
    Table,
    Text,
)
from planflow.reports import docx, html, pdf

from .conftest import pdf_text

PLAN = PlanHeading("sodertalje-2016", "Handlingsplan för näringslivet", "Södertälje kommun")
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
ISSUE = Issue(3, datetime(2026, 12, 2, 14, 5, tzinfo=UTC), "Per Processledare", 41, "ab" * 32, AT, "key-1")
COUNTS = {"green": 1, "yellow": 1, "red": 1, "unreported": 0}


def _deviations() -> list[DeviationLine]:
    decided = DeviationLine(
        "1.1.2", "Företagsbesök", 1, "2026-Q4", "red", "Ingen budget.", "Ny tidplan.", "decided", True,
        "approve", "Förstärk.", date(2026, 12, 1), "Ordförande",
    )  # fmt: skip
    waiting = DeviationLine(
        "1.1.3", "Lokalguide", 1, None, "yellow", "Försenad.", None, "open", False, None, None, None, None
    )
    return [decided, waiting]


def steering_content() -> SteeringReport:
    lines = [
        ActivityLine("1.1.1", "Näringslivsråd", "Anna", None, "green", "yellow", "better", "Bra.", False),
        ActivityLine("1.1.2", "Företagsbesök", None, None, "red", "red", "unchanged", None, False),
        ActivityLine("1.1.3", "Lokalguide", "Bo", None, "yellow", None, "new", None, True),
    ]
    return SteeringReport(
        plan=PLAN,
        period="2026-Q4",
        first_day=date(2026, 10, 1),
        last_day=date(2026, 12, 31),
        previous_period="2026-Q3",
        generated_at=AT,
        areas=[
            AreaLines(1, "Ett bra företagsklimat", "Enligt plan.", lines, COUNTS),
            AreaLines(2, "Kompetens", None, [], dict.fromkeys(COUNTS, 0)),
        ],
        totals=COUNTS,
        deviations=_deviations(),
        dialogue=Dialogue(
            ["Näringslivsrådet"],
            date(2026, 12, 10),
            "Lokaler saknas.",
            "En portal.",
            [Feedback("Rådet", "Fler lokaler.", date(2026, 12, 3))],
        ),  # fmt: skip
        proposals=[
            ProposalLine(
                "Lokalportal", 3, "3.4", "approved", "Lead Tre", "Efterfrågad.", "approve", "Ja.", "3.4.4"
            )
        ],
        meeting_notes="Styrgruppen noterar Q4.",
        priorities="Fokusområde 3 först.",
    )


def annual_content() -> AnnualReportContent:
    activities = [
        YearActivity("1.1.1", "Näringslivsråd", "Anna", "green", False),
        YearActivity("1.1.2", "Företagsbesök", None, "red", True),
        YearActivity("1.1.3", "Lokalguide", "Bo", None, False),
    ]
    return AnnualReportContent(
        plan=PLAN,
        year=2026,
        generated_at=AT,
        summary="Planen följs i stort.",
        state="approved",
        areas=[YearArea(1, "Ett bra företagsklimat", activities, {**COUNTS, "yellow": 0, "unreported": 1})],
        totals={**COUNTS, "yellow": 0, "unreported": 1},
        periods=[PeriodCounts("2026-Q3", COUNTS), PeriodCounts("2026-Q4", COUNTS)],
        deviations=_deviations(),
        completed=[CompletedActivity("1.1.2", "Företagsbesök", "closed", date(2026, 12, 1), "red")],
        new_activities=[NewActivity("3.4.4", "Lokalportal", 3, "Bo", date(2026, 11, 20), "Efterfrågad.")],
        decisions=2,
    )


def _walk(blocks: tuple[Block, ...]) -> Iterator[Block]:
    for block in blocks:
        yield block
        if isinstance(block, Section):
            yield from _walk(block.blocks)


def _statuses(document: Document) -> list[str]:
    return [
        cell.words
        for table in _walk(document.blocks)
        if isinstance(table, Table)
        for row in table.rows
        for cell in row
        if isinstance(cell, Status)
    ]


def _words(document: Document) -> Iterator[str]:
    """Every string the document says."""
    yield from (document.title, document.heading, document.footer, *document.meta)
    for block in _walk(document.blocks):
        if isinstance(block, Section):
            yield block.heading
        elif isinstance(block, Paragraph):
            yield block.text
        elif isinstance(block, BulletList | Stamp):
            yield from block.items if isinstance(block, BulletList) else block.lines
        elif isinstance(block, Chart):
            yield from (
                block.title,
                block.alt,
                *(s.label for s in block.series),
                *(g.label for g in block.groups),
            )
        elif isinstance(block, Table):
            yield from (c.heading for c in block.columns)
            for cell in (c for row in block.rows for c in row):
                yield cell if isinstance(cell, str) else cell.words if isinstance(cell, Status) else cell.text


def _word_headings(data: bytes) -> list[tuple[int, str]]:
    """Headings by the template's styles: Title is the document's heading, Heading n a level below."""
    found = []
    for paragraph in python_docx.Document(io.BytesIO(data)).paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Title":
            found.append((1, paragraph.text))
        elif style.startswith("Heading "):
            found.append((int(style.removeprefix("Heading ")) + 1, paragraph.text))
    return found


def _html_headings(data: bytes) -> list[tuple[int, str]]:
    tree = lxml.html.fromstring(data)
    return [(int(h.tag[1]), h.text_content()) for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]


@pytest.mark.parametrize(
    ("content", "sections"),
    [
        (steering_content(), 5),  # status, deviations, dialogue, proposals, meeting
        (annual_content(), 7),  # summary, overview, periods, deviations, completed, new, activities
    ],
    ids=["steering", "annual"],
)
def test_one_document_feeds_the_three_writers(content: Content, sections: int) -> None:
    document = compose(content, "sv", ISSUE)
    headings = document.headings()
    assert sum(1 for level, _ in headings if level == 2) == sections
    assert any(level == 3 for level, _ in headings)  # focus areas (and the dialogue's parts)

    written_pdf, written_docx, written_html = pdf.write(document), docx.write(document), html.write(document)

    text = pdf_text(written_pdf)
    for _, heading in headings:
        assert " ".join(heading.split()) in text
    assert _word_headings(written_docx) == headings
    assert _html_headings(written_html) == headings

    # statuses in words everywhere (the colour is only a help), tables and charts alike
    word = python_docx.Document(io.BytesIO(written_docx))
    word_cells = [cell.text for t in word.tables for row in t.rows for cell in row.cells]
    page = lxml.html.fromstring(written_html)
    status_cells = [td.text_content() for td in page.iter("td") if "status" in (td.get("class") or "")]
    assert _statuses(document) == status_cells and set(_statuses(document)) <= set(word_cells)
    assert all(words in text for words in _statuses(document))
    tables = [b for b in _walk(document.blocks) if isinstance(b, Table)]
    assert len(word.tables) == len(tables) == len(list(page.iter("table")))
    charts = [b for b in _walk(document.blocks) if isinstance(b, Chart)]
    assert [img.get("alt") for img in page.iter("img")] == [c.alt for c in charts]
    assert [shape._inline.docPr.get("descr") for shape in word.inline_shapes] == [c.alt for c in charts]
    assert len(charts) == (2 if content.kind == "annual" else 0)

    # the issue stamp is in every one, and the PDF's metadata is the document's
    assert f"händelse 41, SHA-256 {'ab' * 32}" in text
    stamp = document.blocks[1]
    assert isinstance(stamp, Stamp) and stamp.issued
    assert set(stamp.lines) <= {p.text for p in word.paragraphs}
    assert [p.text_content() for p in page.find_class("issue")[0].iter("p")] == list(stamp.lines)
    metadata = PdfReader(io.BytesIO(written_pdf)).metadata
    assert metadata is not None and metadata.title == document.title and metadata.author == PLAN.organisation


@pytest.mark.parametrize("content", [steering_content(), annual_content()], ids=["steering", "annual"])
def test_the_composer_words_every_line_in_the_readers_language(content: Content) -> None:
    swedish, english = compose(content, "sv"), compose(content, "en")
    key = re.compile(r"[a-z_]+(\.[a-z0-9_]+)+")
    for document in (swedish, english):
        assert [w for w in _words(document) if key.fullmatch(w)] == []  # no catalog key left unworded
    assert swedish.headings() != english.headings()
    assert [level for level, _ in swedish.headings()] == [level for level, _ in english.headings()]
    assert english.blocks[1] == Stamp(("Working copy compiled 2026-12-01 10:00 – not issued",), issued=False)


def test_times_in_a_document_are_the_installations() -> None:
    before = clock.zone().key
    try:
        clock.set_zone("America/New_York")
        stamp = compose(annual_content(), "sv", ISSUE).blocks[1]
        assert isinstance(stamp, Stamp) and stamp.lines[0].startswith("Utfärdad 2026-12-02 09:05 ")
    finally:
        clock.set_zone(before)
    stamp = compose(annual_content(), "sv", ISSUE).blocks[1]
    assert isinstance(stamp, Stamp) and stamp.lines[0].startswith("Utfärdad 2026-12-02 15:05 ")


def test_a_cell_with_an_aside_keeps_both_lines_in_every_writer() -> None:
    document = compose(steering_content(), "sv")
    table = next(
        b for b in _walk(document.blocks) if isinstance(b, Table) and b.columns[0].heading == "Aktivitet"
    )
    decided = table.rows[0][4]
    assert isinstance(decided, Text) and decided.aside == "Motivering: Förstärk."  # apart from the decision
    word = python_docx.Document(io.BytesIO(docx.write(document)))
    assert any(
        cell.text == f"{decided.text}\nMotivering: Förstärk."
        for t in word.tables
        for row in t.rows
        for cell in row.cells
    )
    page = lxml.html.fromstring(html.write(document))
    assert any(
        span.text_content() == "Motivering: Förstärk."
        for span in page.iter("span")
        if span.get("class") == "meta"
    )
