"""The board's note of the annual report records the board's decision as its minutes do: the date
and the § (issue 18, item 5). They are kept on the report and in the audit event, and the report
and its documents say "Kommunstyrelsen tog del av rapporten <date>, § <n>"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.documents.compose import compose
from planflow.documents.model import Paragraph, Section
from planflow.models import AnnualReport, AnnualReportState, DecidingBody, Decision, OpenTask
from planflow.services.authority import people
from planflow.services.chain import annual
from planflow.services.errors import InvalidInput
from planflow.services.outputs.reports import annual_report_content
from planflow.services.plan import plans
from planflow.services.records import audit
from planflow.services.records.audit import Actor

from .chain import Chain


@pytest.fixture
def awaiting_board(seeded: Database) -> Chain:
    """The 2026 annual report compiled and approved: the board's note waits."""
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
    chain = Chain(seeded)
    with seeded.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs i stort."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    return chain


def _report(db: Database) -> AnnualReport:
    with db.reading() as session:
        report = session.scalars(select(AnnualReport)).one()
        session.expunge(report)
        return report


def _texts(blocks: Any) -> list[str]:
    found: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            found.append(block.text)
        elif isinstance(block, Section):
            found.extend(_texts(block.blocks))
    return found


def test_the_boards_note_keeps_the_date_and_paragraph_of_its_decision(awaiting_board: Chain) -> None:
    db = awaiting_board.db
    awaiting_board.do(
        "kommunstyrelsen",
        "board_note",
        {
            "noted": True,
            "decided_on": "2026-12-14",
            "paragraph": " § 201 ",
            "comment": "Lägges till handlingarna.",
        },
    )
    report = _report(db)
    assert report.state is AnnualReportState.NOTED
    assert (report.board_decided_on, report.board_paragraph) == (date(2026, 12, 14), "§ 201")
    with db.reading() as session:
        (event,) = audit.events(session, action="annual_report.noted")
        assert event.data == {
            "report": report.id,
            "decided_on": "2026-12-14",
            "paragraph": "§ 201",
            "noted_at": report.noted_at.isoformat() if report.noted_at else None,
        }
        assert event.reason == "Lägges till handlingarna."
        decision = session.scalars(select(Decision).where(Decision.body == DecidingBody.BOARD)).one()
        assert (decision.subject_type, decision.decision) == ("annual_report", "noted")
        (listed,) = annual.list_reports(session, plans.get_plan(session, None))
        assert (listed.board_decided_on, listed.board_paragraph) == (date(2026, 12, 14), "§ 201")
        content = annual_report_content(session, plans.get_plan(session, None), 2026)
    assert "Kommunstyrelsen tog del av rapporten 2026-12-14, § 201." in _texts(compose(content, "sv").blocks)
    assert "The municipal board took note of the report on 2026-12-14, § 201." in _texts(
        compose(content, "en").blocks
    )


def test_before_the_board_has_noted_it_the_report_says_nothing_of_a_decision(awaiting_board: Chain) -> None:
    with awaiting_board.db.reading() as session:
        content = annual_report_content(session, plans.get_plan(session, None), 2026)
    assert content.board_decided_on is None
    assert not [text for text in _texts(compose(content, "sv").blocks) if "tog del av" in text]


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"decided_on": "2026-12-14"}, "paragraph", "form.required"),
        ({"decided_on": "2026-12-14", "paragraph": "   "}, "paragraph", "form.blank"),
        ({"decided_on": "2026-12-14", "paragraph": "§ " + "1" * 31}, "paragraph", "form.too_long"),
        ({"paragraph": "§ 201"}, "decided_on", "form.required"),
        ({"decided_on": "14/12/2026", "paragraph": "§ 201"}, "decided_on", "form.date"),
        ({"decided_on": "2026-02-30", "paragraph": "§ 201"}, "decided_on", "form.date"),
        ({"decided_on": "1999-12-31", "paragraph": "§ 201"}, "decided_on", "form.out_of_range"),
    ],
)
def test_a_note_without_a_valid_date_or_paragraph_is_refused_and_changes_nothing(
    awaiting_board: Chain, data: dict[str, str], field: str, says: str
) -> None:
    db = awaiting_board.db
    task = awaiting_board.task("kommunstyrelsen", "board_note")
    with pytest.raises(InvalidInput) as refused:
        awaiting_board.complete("kommunstyrelsen", task.id, {"noted": True, **data})
    assert refused.value.fields[field].key == says
    report = _report(db)
    assert report.state is AnnualReportState.APPROVED and report.board_paragraph is None
    with db.reading() as session:
        assert session.get(OpenTask, task.id) is not None
        assert audit.events(session, action="annual_report.noted") == []
