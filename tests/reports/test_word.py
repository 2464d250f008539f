"""The Word documents, read by others than the library that wrote them: the package's XML with lxml
(languages, table grid, alternative text, times), python-docx, and LibreOffice, which converts the
.docx to PDF as a reader's office suite would lay it out (its PDF's language, whether a word was
broken across lines)."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx as python_docx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lxml import etree
from pypdf import PdfReader

from planflow import clock, reports
from planflow.audit_keys import SigningKey
from planflow.db import Database
from planflow.documents.compose import compose
from planflow.documents.model import Chart, Column, Document, Section, Status, Table, Text
from planflow.reports import docx
from planflow.services.authority import people
from planflow.services.outputs import issued
from planflow.services.outputs.reports import annual_report_content, steering_report
from planflow.services.plan import plans
from planflow.services.records.audit import Actor

from ..conftest import Cli
from ..services.chain import Chain
from .test_document_model import ISSUE, annual_content, steering_content
from .year import scripted_year

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {
    "w": W,
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "pic": "http://schemas.openxmlformats.org/drawingml/2006/picture",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dcterms": "http://purl.org/dc/terms/",
}
LIBREOFFICE = os.environ.get("PLANFLOW_TEST_LIBREOFFICE") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(
    LIBREOFFICE is None,
    reason="LibreOffice is not installed (apt-get install libreoffice-writer-nogui; .ci/run installs it, "
    "or set PLANFLOW_TEST_LIBREOFFICE)",
)


def _part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return etree.fromstring(package.read(name))


def _attr(element: etree._Element, name: str) -> str | None:
    return element.get(f"{{{W}}}{name}")


def _converted(data: bytes, folder: Path, name: str) -> bytes:
    """The .docx as LibreOffice lays it out, exported as PDF (a profile of its own: other processes
    may run LibreOffice meanwhile)."""
    assert LIBREOFFICE is not None
    source = folder / f"{name}.docx"
    source.write_bytes(data)
    subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return (folder / f"{name}.pdf").read_bytes()


def _walk(blocks: tuple[object, ...]) -> Iterator[object]:
    for block in blocks:
        yield block
        if isinstance(block, Section):
            yield from _walk(block.blocks)


# Where a line may end without breaking a word: at a space, or after a dash or a slash.
BREAKS = re.compile(r"\s+|(?<=[-–/])")


def _pieces(text: str) -> set[str]:
    return {piece for piece in BREAKS.split(text) if piece}


def _table_words(document: Document) -> set[str]:
    """Every word the document's tables say, as it would stand between two places a line may end."""
    found: set[str] = set()
    for table in (b for b in _walk(document.blocks) if isinstance(b, Table)):
        found |= _pieces(" ".join(c.heading for c in table.columns))
        for cell in (c for row in table.rows for c in row):
            if isinstance(cell, Status):
                found |= _pieces(cell.words)
            elif isinstance(cell, Text):
                found |= _pieces(f"{cell.text} {cell.aside or ''}")
            else:
                found |= _pieces(cell)
    return found


def test_a_word_document_is_in_its_language_and_quotes_the_plan_in_swedish() -> None:
    for language, tag in (("sv", "sv-SE"), ("en", "en-GB")):
        data = reports.render(steering_content(), "docx", language, ISSUE)
        (default,) = _part(data, "word/styles.xml").xpath(
            "w:docDefaults/w:rPrDefault/w:rPr/w:lang", namespaces=NS
        )
        assert _attr(default, "val") == tag
        (theme,) = _part(data, "word/settings.xml").xpath("w:themeFontLang", namespaces=NS)
        assert _attr(theme, "val") == tag
        assert python_docx.Document(io.BytesIO(data)).core_properties.language == tag
        runs = _part(data, "word/document.xml").xpath("//w:r[w:rPr/w:lang]", namespaces=NS)
        marked = {
            "".join(r.xpath("w:t/text()", namespaces=NS)): _attr(r.find("w:rPr/w:lang", NS), "val")
            for r in runs
        }
        if language == "sv":
            assert marked == {}  # Swedish quoted in Swedish needs no mark of its own
        else:
            assert marked["Näringslivsråd"] == marked["Ett bra företagsklimat"] == "sv-SE"
            assert set(marked.values()) == {"sv-SE"}


def test_every_chart_in_word_has_its_alternative_text() -> None:
    document = compose(annual_content(), "sv", ISSUE)
    charts = [b for b in _walk(document.blocks) if isinstance(b, Chart)]
    data = reports.render(annual_content(), "docx", "sv", ISSUE)
    body = _part(data, "word/document.xml")
    drawings = body.xpath("//w:drawing", namespaces=NS)
    assert len(drawings) == len(charts) == 2
    for drawing, figure in zip(drawings, charts, strict=True):
        (frame,) = drawing.xpath(".//wp:docPr", namespaces=NS)
        (picture,) = drawing.xpath(".//pic:cNvPr", namespaces=NS)
        assert frame.get("descr") == picture.get("descr") == figure.alt


def test_a_word_tables_grid_has_its_cells_widths_from_what_they_hold() -> None:
    data = reports.render(steering_content(), "docx", "sv", ISSUE)
    tables = _part(data, "word/document.xml").xpath("//w:tbl", namespaces=NS)
    assert tables
    for table in tables:
        grid = [int(_attr(c, "w") or 0) for c in table.xpath("w:tblGrid/w:gridCol", namespaces=NS)]
        for row in table.xpath("w:tr", namespaces=NS):
            assert [int(_attr(w, "w") or 0) for w in row.xpath("w:tc/w:tcPr/w:tcW", namespaces=NS)] == grid
        (width,) = table.xpath("w:tblPr/w:tblW", namespaces=NS)
        assert _attr(width, "type") == "dxa" and abs(int(_attr(width, "w") or 0) - sum(grid)) <= len(grid)
        assert abs(sum(grid) - 9072) <= len(grid)  # 16 cm between the template's margins


def test_a_word_tables_columns_are_as_wide_as_their_words_ask() -> None:
    """The Kommentar column was narrow while Förändring held one word: the widths the composer
    guessed (here all alike) give way to what the cells hold."""
    comment = "Handläggningen tar längre tid än planerat eftersom Stadsbyggnadskontoret saknar resurser."
    table = Table(
        (Column("Kod", 10), Column("Förändring", 10), Column("Kommentar", 10)),
        (("1.1.1", "Oförändrad", comment), ("1.1.2", "Förbättrad", "Bra.")),
    )
    document = dataclasses.replace(compose(steering_content(), "sv", ISSUE), blocks=(table,))
    (grid,) = _part(docx.write(document), "word/document.xml").xpath("//w:tbl/w:tblGrid", namespaces=NS)
    code, change, said = (int(_attr(c, "w") or 0) for c in grid.xpath("w:gridCol", namespaces=NS))
    assert code < change < said and said > 9072 / 2


def test_a_word_documents_times_are_utc() -> None:
    stockholm = datetime(2026, 12, 2, 15, 5, tzinfo=ZoneInfo("Europe/Stockholm"))
    issue = dataclasses.replace(ISSUE, issued_at=stockholm)
    data = reports.render(annual_content(), "docx", "sv", issue)
    core = _part(data, "docProps/core.xml")
    assert core.findtext("dcterms:created", namespaces=NS) == "2026-12-02T14:05:00Z"
    assert core.findtext("dcterms:modified", namespaces=NS) == "2026-12-02T14:05:00Z"
    assert python_docx.Document(io.BytesIO(data)).core_properties.created == datetime(
        2026, 12, 2, 14, 5, tzinfo=UTC
    )


def test_the_running_head_and_foot_are_the_documents_in_its_language() -> None:
    for language, page in (("sv", "Sida"), ("en", "Page")):
        document = compose(steering_content(), language, ISSUE)
        word = python_docx.Document(io.BytesIO(reports.render(steering_content(), "docx", language, ISSUE)))
        section = word.sections[0]
        assert section.header.paragraphs[0].text == document.title
        foot = section.footer.paragraphs[0]._p
        assert [f.get(f"{{{W}}}instr") for f in foot.iter(f"{{{W}}}fldSimple")] == ["PAGE", "NUMPAGES"]
        words = "".join(foot.xpath(".//w:t/text()"))
        assert words.startswith(document.footer) and f"{page} 1 (1)" in words
        assert "Årsrapport" not in words + section.header.paragraphs[0].text  # the old template's words


@pytest.fixture
def year(seeded: Database) -> Database:
    scripted_year(seeded)
    return seeded


@needs_libreoffice
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the layout is the database's no matter
def test_libreoffice_reads_the_word_reports_as_swedish_with_no_word_broken(
    year: Database, tmp_path: Path
) -> None:
    with year.reading() as session:
        plan = plans.get_plan(session)
        contents = {
            "steering": steering_report(session, plan, "2026-Q4"),
            "annual": annual_report_content(session, plan, 2026),
        }
    for name, content in contents.items():
        for language, tag in (("sv", "sv-SE"), ("en", "en-GB")):
            data = reports.render(content, "docx", language)
            pdf = PdfReader(io.BytesIO(_converted(data, tmp_path, f"{name}-{language}")))
            assert pdf.trailer["/Root"]["/Lang"] == tag
            laid_out = set()
            for page in pdf.pages:
                laid_out |= _pieces(page.extract_text() or "")
            words = _table_words(compose(content, language))
            assert {"Stadsbyggnadskontoret", "Fokusområde"} & words or language == "en"
            assert sorted(words - laid_out) == [], f"{name} ({language}): words broken across lines"


@needs_libreoffice
def test_libreoffice_reads_the_charts_alternative_text(tmp_path: Path) -> None:
    """LibreOffice's tagged PDF export takes a picture's description as its figure's /Alt."""
    data = reports.render(annual_content(), "docx", "sv", ISSUE)
    source = tmp_path / "annual.docx"
    source.write_bytes(data)
    assert LIBREOFFICE is not None
    subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            'pdf:writer_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"}}',
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    raw = (tmp_path / "annual.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(raw))
    alts = []
    stack = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop().get_object()
        if isinstance(node, dict) or hasattr(node, "get"):
            if node.get("/S") == "/Figure" and "/Alt" in node:
                alts.append(str(node["/Alt"]))
            kids = node.get("/K")
            if kids is not None:
                stack.extend(kids if isinstance(kids, list) else [kids])
        elif isinstance(node, list):
            stack.extend(node)
    charts = [b.alt for b in _walk(compose(annual_content(), "sv").blocks) if isinstance(b, Chart)]
    assert sorted(alts) == sorted(charts)


@pytest.fixture
def cycle(seeded: Database) -> Chain:
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(seeded)
    chain.start_cycle("2026-Q4", date(2026, 12, 15))
    chain.report_and_accept("1.1.1", "yellow", cause="Färre besök än planerat.")
    return chain


def test_the_steering_report_comes_in_word_issued_and_as_a_working_copy(
    cycle: Chain, cli: Cli, tmp_path: Path
) -> None:
    with cycle.db.transaction() as session:
        report = issued.issue_report(
            session,
            Actor(people.get_user(session, "processledare")),
            SigningKey(Ed25519PrivateKey.generate()),
            "steering",
            "2026-Q4",
            render=reports.render,
        )
        report_id = report.id
    with cycle.db.reading() as session:
        frozen = issued.issued_file(session, report_id, "docx")
    word = python_docx.Document(io.BytesIO(frozen.data))
    assert "Statusrapport till styrgruppen" in [p.text for p in word.paragraphs]
    assert any("Färre besök än planerat." in c.text for t in word.tables for r in t.rows for c in r.cells)
    assert frozen.name.endswith("-steering-2026-Q4-1.docx")

    out = tmp_path / "q4.docx"
    done = cli("report", "steering", "--period", "2026-Q4", "--format", "docx", "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "Statusrapport till styrgruppen" in [p.text for p in python_docx.Document(str(out)).paragraphs]
