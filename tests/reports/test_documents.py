"""Over a scripted year, each report carries the right figures, read back from the generated
files with their own readers: text from the PDF, paragraphs and tables from the .docx."""

from __future__ import annotations

import io
import re

import docx
import pytest
from flask import Flask

from planflow import reports
from planflow.db import Database
from planflow.documents.compose import compose
from planflow.services.authority import people
from planflow.services.outputs.reports import annual_report_content, steering_report
from planflow.services.plan import plans
from planflow.services.records.audit import OPERATOR_ACTOR

from ..web.conftest import login
from .conftest import pdf_text, save_pages
from .pdfa import broken_words, pdf_a_problems, unread_words
from .year import scripted_year


@pytest.fixture
def year(seeded: Database) -> Database:
    scripted_year(seeded)
    return seeded


def test_reports_of_a_scripted_year_carry_its_figures(year: Database, app: Flask) -> None:
    with year.reading() as session:
        plan = plans.get_plan(session)
        q4 = steering_report(session, plan, "2026-Q4")
        q3 = steering_report(session, plan, "2026-Q3")
        annual = annual_report_content(session, plan, 2026)

    # the read models
    assert q3.totals == {"green": 58, "yellow": 1, "red": 1, "unreported": 0} and q3.previous_period is None
    assert (
        q4.totals == {"green": 57, "yellow": 1, "red": 1, "unreported": 0} and q4.previous_period == "2026-Q3"
    )
    changes = {a.code: a.change for area in q4.areas for a in area.activities}
    assert (changes["1.1.1"], changes["2.1.1"], changes["4.2.1"], changes["1.1.2"]) == (
        "better",
        "worse",
        "worse",
        "unchanged",
    )
    assert "3.4.2" not in changes  # closed in Q3: it does not report
    assert [(d.activity_code, d.level, d.decision) for d in q4.deviations] == [
        ("2.1.1", "yellow", "reprioritise"),
        ("4.2.1", "red", "approve"),
    ]
    assert [(p.title, p.state, p.activity_code) for p in q4.proposals] == [
        ("Lokalguide för nyetablerade företag", "approved", "3.4.4")
    ]
    assert annual.totals == {"green": 57, "yellow": 1, "red": 2, "unreported": 1}
    assert [(a.number, a.counts["red"]) for a in annual.areas if a.counts["red"]] == [(3, 1), (4, 1)]
    assert [(c.code, c.how) for c in annual.completed] == [
        ("3.4.2", "closed"),
        ("5.1.1", "timeline_ended"),
        ("5.2.1", "timeline_ended"),
    ]
    assert [n.code for n in annual.new_activities] == ["3.4.4"] and annual.decisions == 5

    # the steering report's PDF, read back as text
    pdf = reports.render(q4, "pdf", "sv")
    text = pdf_text(pdf)
    assert "Statusrapport till styrgruppen" in text and "Period 2026-Q4 (2026-10-01 – 2026-12-31)" in text
    assert "Totalt 59 aktiviteter: 57 gröna, 1 gula, 1 röda, 0 ej rapporterade." in text
    assert "Förbättrad" in text and "Försämrad" in text
    assert "Lärosätet har skjutit upp starten." in text and "Omprioritering" in text
    assert "Prioriteras ned i år." in text and "Förstärk handläggningen." in text
    assert "Nöjda med takten – handläggningen tar tid." in text and "Synpunkt 2026-Q4." in text
    assert "Lokalguide för nyetablerade företag" in text and "Styrgruppen noterar Q4." in text
    assert re.search(r"Sida 1 \(\d\)", text) and "inte utfärdad" in text
    # PDF/A-2, and the plan's long words ("Stadsbyggnadskontoret") break only with a hyphen
    document = compose(q4, "sv")
    assert pdf_a_problems(pdf) == [] and broken_words(pdf, document) == [] and not unread_words(pdf, document)
    save_pages(pdf, "steering-2026-Q4")

    # the annual report's PDF
    pdf = reports.render(annual, "pdf", "sv")
    text = pdf_text(pdf)
    assert "Årsrapport 2026 till kommunstyrelsen" in text
    assert "Totalt 61 aktiviteter: 57 gröna, 1 gula, 2 röda, 1 ej rapporterade." in text
    assert "Styrgruppen fattade 5 beslut" in text
    assert "Avslutad genom styrgruppens beslut" in text and text.count("Tidplanen avslutad") == 2
    document = compose(annual, "sv")
    assert pdf_a_problems(pdf) == [] and broken_words(pdf, document) == [] and not unread_words(pdf, document)
    save_pages(pdf, "annual-2026")

    # the annual report in Word: paragraphs and tables
    document = docx.Document(io.BytesIO(reports.render(annual, "docx", "sv")))
    paragraphs = [p.text for p in document.paragraphs]
    assert "Årsrapport 2026 till kommunstyrelsen" in paragraphs
    assert any("Totalt 61 aktiviteter: 57 gröna, 1 gula, 2 röda, 1 ej rapporterade." in p for p in paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    counts = tables[0]
    assert counts[0] == ["Fokusområde", "Grön", "Gul", "Röd", "Ej rapporterad", "Totalt"]
    assert counts[3] == ["FO 3", "12", "0", "1", "1", "14"] and counts[-1] == [
        "Totalt",
        "57",
        "1",
        "2",
        "1",
        "61",
    ]
    periods = tables[1]
    assert periods[1:] == [["2026-Q3", "58", "1", "1", "0", "60"], ["2026-Q4", "57", "1", "1", "0", "59"]]
    deviations = tables[2]
    assert [row[1] for row in deviations[1:]] == ["Gul", "Röd", "Gul", "Röd"]  # statuses in words
    assert deviations[2][4].startswith("Aktiviteten avslutas")
    completed = tables[3]
    assert [row[0] for row in completed[1:]] == ["3.4.2", "5.1.1", "5.2.1"]
    assert [row[0] for row in tables[4][1:]] == ["3.4.4"]
    assert len(document.inline_shapes) == 2  # the two charts

    # the HTML page prints the same words, and English comes from the English catalog
    html = reports.render(annual, "html", "en").decode("utf-8")
    assert "Annual report 2026 to the municipal board" in html and "<script" not in html
    assert "61 activities in all: 57 green, 1 yellow, 2 red, 1 not reported." in html

    # the pages
    client = app.test_client()
    assert client.get("/reports/").status_code == 302  # internal records: sign in first
    with year.transaction() as session:
        people.set_password(session, OPERATOR_ACTOR, "styrgrupp.nk", "ett-långt-lösenord")
    assert login(client, "styrgrupp.nk", "ett-långt-lösenord").status_code == 302
    page = client.get("/reports/steering/2026-Q4")
    assert page.status_code == 200 and "Lärosätet har skjutit upp starten." in page.text
    download = client.get("/reports/files/annual/2026.docx")
    assert download.status_code == 200 and download.mimetype.endswith("wordprocessingml.document")
    assert "Synliggöra lediga lokaler" in client.get("/reports/annual/2026").text
    assert client.get("/reports/").status_code == 200
    assert client.get("/reports/steering/2031-Q1").status_code == 404
    assert client.get("/reports/files/steering/2026-Q4.docx").status_code == 200  # Word too (issue 19)
    assert client.get("/reports/files/steering/2026-Q4.html").status_code == 200
