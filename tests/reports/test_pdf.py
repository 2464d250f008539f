"""The PDFs as an archivist and a screen reader take them: PDF/A-2 requirement by requirement, a
structure tree that tags every heading, paragraph, list, table (with its header cells) and
figure (with its alternative text) of the document, bookmarks, and words that break only with a
hyphen. Read back with pikepdf, pypdf and LittleCMS (tests/reports/pdfa.py)."""

from __future__ import annotations

import io
from collections import Counter

import pikepdf
import pytest
from pypdf import PdfReader

from planflow import reports
from planflow.documents.compose import compose
from planflow.documents.files import FORMATS
from planflow.documents.model import BulletList, Chart, Column, Document, Paragraph, Stamp, Table, Text
from planflow.reports import pdf

from .pdfa import (
    broken_words,
    pdf_a_problems,
    read,
    read_structure,
    tagged_texts,
    unread_words,
    walk,
)
from .test_document_model import ISSUE, annual_content, steering_content

CONTENTS = {"steering": steering_content(), "annual": annual_content()}
PDF_KINDS = [kind for kind, formats in FORMATS.items() if "pdf" in formats]


def test_every_kind_of_report_that_comes_as_pdf_is_checked() -> None:
    assert sorted(PDF_KINDS) == sorted(CONTENTS)


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("issued", [True, False], ids=["issued", "working-copy"])
@pytest.mark.parametrize("kind", PDF_KINDS)
def test_every_pdf_planflow_writes_is_pdf_a_2(kind: str, issued: bool, language: str) -> None:
    data = reports.render(CONTENTS[kind], "pdf", language, ISSUE if issued else None)
    assert pdf_a_problems(data) == []
    with pikepdf.open(io.BytesIO(data)) as written, written.open_metadata(set_pikepdf_as_editor=False) as xmp:
        assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("2", "A")
        assert str(written.Root.Lang) == language and xmp["dc:language"] == {language}


def _expected(document: Document) -> Counter[str]:
    """The structure elements the document's blocks make, by role."""
    blocks = list(walk(document.blocks))
    tables = [b for b in blocks if isinstance(b, Table)]
    items = sum(len(b.items) for b in blocks if isinstance(b, BulletList))
    expected = Counter(f"H{level}" for level, _ in document.headings())
    expected.update(
        Document=1,
        P=len(document.meta) + sum(isinstance(b, Paragraph | Stamp) for b in blocks),
        L=sum(isinstance(b, BulletList) for b in blocks),
        LI=items,
        Lbl=items,
        LBody=items,
        Table=len(tables),
        TR=sum(1 + len(t.rows) + bool(t.total) for t in tables),
        TH=sum(len(t.columns) + bool(t.total) for t in tables),
        TD=sum(len(t.columns) * len(t.rows) + (len(t.columns) - 1) * bool(t.total) for t in tables),
        Figure=sum(isinstance(b, Chart) for b in blocks),
    )
    return +expected


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_the_structure_tree_tags_everything_the_document_holds(kind: str) -> None:
    document = compose(CONTENTS[kind], "sv", ISSUE)
    data = pdf.write(document)
    tree, bookmarks = read_structure(data)

    assert tree.count() == _expected(document)
    assert [int(role[1]) for role in tree.roles if role[0] == "H"] == [
        level for level, _ in document.headings()
    ]
    assert bookmarks == [heading for _, heading in document.headings()]
    charts = [b for b in walk(document.blocks) if isinstance(b, Chart)]
    assert [alt for role, alt in zip(tree.roles, tree.alts, strict=True) if role == "Figure"] == [
        c.alt for c in charts
    ]
    assert len(charts) == (2 if kind == "annual" else 0)
    # a header row's cells head their columns, a total row's first cell its row
    scopes = Counter(scope for role, scope in zip(tree.roles, tree.scopes, strict=True) if role == "TH")
    tables = [b for b in walk(document.blocks) if isinstance(b, Table)]
    assert scopes == +Counter(
        Column=sum(len(t.columns) for t in tables), Row=sum(bool(t.total) for t in tables)
    )

    # and what a screen reader reads out of them: the headings' words, the header cells' words
    read_out = [(role, read(text)) for role, text in tagged_texts(data)]
    headings = [(int(role[1]), text) for role, text in read_out if role[0] == "H"]
    assert headings == [(level, " ".join(heading.split())) for level, heading in document.headings()]
    header_cells = [c.heading for t in tables for c in t.columns] + [t.total[0] for t in tables if t.total]
    assert sorted(text for role, text in read_out if role == "TH") == sorted(header_cells)


@pytest.mark.parametrize("kind", PDF_KINDS)
def test_no_word_breaks_without_a_hyphen(kind: str) -> None:
    document = compose(CONTENTS[kind], "sv", ISSUE)
    data = pdf.write(document)
    assert broken_words(data, document) == [] and unread_words(data, document) == set()


NARROW = Table(
    (Column("Aktivitet"), Column("Ansvarig"), Column("Förändring"), Column("Kommentar")),
    tuple(
        (
            Text("1.1.1 Näringslivsråd", "Fokusområde 1"),
            "Stadsbyggnadskontoret",
            "Förbättrad",
            "Kommentar skriven under perioden oktober–november av samordnaren för Fokusområde 1.",
        )
        for _ in range(3)
    ),
)


def test_a_long_word_in_a_narrow_column_breaks_with_a_hyphen_or_not_at_all() -> None:
    document = compose(steering_content(), "sv", ISSUE)
    document = Document(**{**document.__dict__, "blocks": (NARROW,) * 2})
    data = pdf.write(document)
    assert broken_words(data, document) == []
    assert pdf_a_problems(data) == []


def test_column_widths_follow_what_the_columns_hold() -> None:
    shares = dict(zip(("activity", "owner", "change", "comment"), NARROW.widths(), strict=True))
    assert abs(sum(shares.values()) - 1) < 1e-9
    # one word stays as wide as that word; the sentences take the room that is left
    assert shares["comment"] > shares["activity"] > shares["change"]
    assert shares["owner"] * 100 >= len("Stadsbyggnadskontoret")
    assert shares["change"] * 100 >= len("Förändring")


def test_a_cell_longer_than_a_page_goes_on_over_the_next_pages_and_stays_one_cell() -> None:
    comment = " ".join(f"Mening {n} om handläggningen hos Stadsbyggnadskontoret." for n in range(180))
    table = Table(
        (Column("Kod"), Column("Aktivitet"), Column("Kommentar")),
        (("1.1.1", "Näringslivsråd", comment[:10_000]), ("1.1.2", "Företagsbesök", "Kort.")),
    )
    document = compose(steering_content(), "sv", ISSUE)
    document = Document(**{**document.__dict__, "blocks": (table,)})
    data = pdf.write(document)

    assert pdf_a_problems(data) == [] and broken_words(data, document) == []
    assert len(PdfReader(io.BytesIO(data)).pages) >= 3
    cells = [read(text) for role, text in tagged_texts(data) if role == "TD"]
    assert cells == ["1.1.1", "Näringslivsråd", comment[:10_000], "1.1.2", "Företagsbesök", "Kort."]
    tree, _ = read_structure(data)
    assert (tree.count()["TR"], tree.count()["TH"], tree.count()["TD"]) == (3, 3, 6)


def test_the_proposals_focus_area_column_shows_the_focus_area() -> None:
    document = compose(steering_content(), "sv", ISSUE)
    proposals = next(
        b for b in walk(document.blocks) if isinstance(b, Table) and b.columns[1].heading == "Fokusområde"
    )
    assert [row[1] for row in proposals.rows] == [
        "FO 3"
    ]  # the proposal's focus area, not its intervention area "3.4"
    cells = [read(text) for role, text in tagged_texts(pdf.write(document)) if role == "TD"]
    assert "FO 3" in cells and "3.4" not in cells
