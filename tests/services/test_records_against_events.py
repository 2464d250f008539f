"""Records against the audit events they come from: a database the whole chain made agrees with its
events in every record kind; a record edited past the use cases (a decision's rationale, a status
report's status, a deviation's state) is named with its field by the check and by `audit verify`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from planflow import audit_keys, clock
from planflow.db import Database
from planflow.models import AuditEvent
from planflow.services.authority import people
from planflow.services.chain import annual, proposals, timers
from planflow.services.outputs import issued
from planflow.services.outputs.archive import codebook, export, verify
from planflow.services.records import audit, consistency
from planflow.services.records.audit import Actor
from planflow.services.records.consistency import derived

from ..conftest import Cli
from .chain import START, Chain
from .steering import RETURNED, recommended_and_agreed, returned_by_the_chair


def _propose(chain: Chain, title: str) -> None:
    with chain.db.transaction() as session:
        proposals.propose_activity(
            session,
            people.get_user(session, "lead3"),
            {
                "title": title,
                "intervention_area": "3.4",
                "owner": "johan.ek",
                "start": "2027-01-01",
                "end": "2027-12-31",
                "why": "Efterfrågat.",
            },
        )


@pytest.fixture
def walked(seeded: Database, tmp_path: Path) -> Chain:
    """The chain walked through every record kind: reports (one returned), a deviation returned by
    the group, escalated, then closed, areas (one returned), the dialogue, the meeting, three proposals (one
    returned by the process leader, one sent back, approved and rejected), the annual report
    returned, approved and noted by the board; the quarter's steering report issued."""
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "yellow", "cause": "Sent."}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Mer."}, "1.1.1")
    returned_by_the_chair(chain)  # every report accepted, RETURNED red, its decision a return
    recommended_and_agreed(chain)
    clock.set_now(START + timedelta(days=14, seconds=1))  # undecided for 14 days: escalated
    assert timers.fire_due_timers(seeded.transaction, clock.now()) >= 1
    chain.do("ordforande", "steering_decision", {"decision": "close", "rationale": "Avsluta."}, RETURNED)
    chain.do("lead1", "area_summary", {"summary": "Område 1."})
    chain.do("processledare", "confirm_area", {"outcome": "return", "comment": "Utveckla."})
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area}."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm", "comment": "Bra."})
    chain.do(
        "processledare",
        "business_dialogue",
        {"forums": ["Näringslivsrådet"], "held_on": "2026-11-20", "heard": "Nöjda."},
    )
    chain.do("ordforande", "steering_meeting", {"notes": "Noterat.", "priorities": "Fokus 3"})
    _propose(chain, "Lokalguide")
    chain.do("processledare", "check_proposal", {"outcome": "return", "comment": "Precisera."})
    chain.do(
        "lead3",
        "propose_activity",
        {
            "title": "Lokalguide för företag",
            "intervention_area": "3.4",
            "owner": "johan.ek",
            "start": "2027-01-01",
            "end": "2027-12-31",
            "why": "Efterfrågat.",
        },
    )
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "return", "rationale": "Kostnad?"})
    chain.do("lead3", "propose_activity", _proposal_form("Lokalguide, kostnadsberäknad"))
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Bra."})
    _propose(chain, "Mässa")
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "reject", "rationale": "Nej."})
    with seeded.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "I stort."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "return", "comment": "Mer."})
    chain.do("processledare", "compile_annual_report", {"summary": "I stort; mer."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    chain.do(
        "kommunstyrelsen", "board_note", {"noted": True, "decided_on": "2027-01-20", "paragraph": "§ 12"}
    )
    with seeded.transaction() as session:
        issued.issue_report(
            session,
            Actor(people.get_user(session, "processledare")),
            audit_keys.load_signing_key(None, tmp_path / "instance"),  # the installation's (cli's)
            "steering",
            "2026-Q4",
            render=_stand_in,
        )
    return chain


def _stand_in(content: object, fmt: str, language: str, issue: object) -> bytes:
    """A file per format, each its own bytes: what the records hold of it is its SHA-256, not how it
    was drawn (the reports' own tests render them)."""
    return f"{fmt} {language}".encode()


def _proposal_form(title: str) -> dict[str, str]:
    return {
        "title": title,
        "intervention_area": "3.4",
        "owner": "johan.ek",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "why": "Efterfrågat, nu med kostnad.",
    }


def _events(db: Database) -> list[dict[str, Any]]:
    with db.reading() as session:
        return [audit.event_fields(e) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_every_record_the_chain_made_agrees_with_its_events(walked: Chain) -> None:
    expected = derived.expected_rows(_events(walked.db))
    assert {table for table, rows in expected.items() if rows} == set(derived.TABLES)  # every kind walked
    with walked.db.reading() as session:
        assert derived.check(session) == []
        assert consistency.check(session) == []
    decisions = expected["decision"]
    assert decisions["deviation 1 #1"]["decision"] == "return"
    assert {row["state"] for row in expected["proposal"].values()} == {"approved", "rejected"}
    (report,) = expected["annual_report"].values()
    assert (report["state"], report["board_paragraph"]) == ("noted", "§ 12")


EDITS = {
    "a decision's rationale": (
        "UPDATE decision SET rationale = 'Godkänt utan vidare.' WHERE id = "
        "(SELECT MIN(id) FROM decision WHERE subject_type = 'deviation')",
        "decision",
        "rationale is 'Godkänt utan vidare.'",
    ),
    "a status report's status": (
        "UPDATE status_report SET status = 'green' WHERE status = 'red'",
        "status_report",
        "status is 'green'; its audit events say 'red'",
    ),
    "a deviation's state": (
        "UPDATE deviation SET state = 'agreed' WHERE state = 'decided'",
        "deviation",
        "state is 'agreed'; its audit events say 'decided'",
    ),
    "an issued report's hash": (
        "UPDATE issued_report SET sha256 = '" + "0" * 64 + "'",
        "issued_report",
        f"content_sha256 is '{'0' * 64}'; its audit events say",
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_audit_verify_names_a_record_edited_past_the_use_cases(
    walked: Chain, cli: Cli, database_url: str, edit: str
) -> None:
    statement, table, said = EDITS[edit]
    assert cli("audit", "verify").exit_code == 0
    with walked.db.transaction() as session:
        session.execute(text(statement))
    with walked.db.reading() as session:
        (problem,) = derived.check(session)
        assert problem.rule == "record.events" and problem.subject.startswith(f"{table} ")
        assert said in problem.detail
        assert problem in consistency.check(session)
    refused = cli("--language", "en", "audit", "verify")
    assert refused.exit_code != 0
    assert f"{problem.subject}: {problem.detail}" in refused.output
    assert "1 record field(s) differ from their audit events" in refused.output


# What the events' payloads carry since records are checked against them, by action ("*": all).
ADDED = {
    "*": {"reported_at", "reviewed_at", "opened_at", "escalated_at", "decided_at", "compiled_at"},
    "deviation.opened": {"report"},
    "annual_report.compiled": {"snapshot_sha256"},
    "annual_report.approved": {"report", "approved_at"},
    "annual_report.returned": {"report"},
    "annual_report.noted": {"noted_at"},
    "area.summarised": {"review"},
    "area.confirmed": {"review", "confirmed_at"},
    "steering.meeting_closed": {"cycle", "closed_at"},
    "dialogue.recorded": {"cycle", "recorded_at"},
}


def test_events_written_before_their_fields_were_added_are_checked_on_what_they_carry(
    walked: Chain,
) -> None:
    events = _events(walked.db)
    for event in events:
        dropped = ADDED["*"] | ADDED.get(event["action"], set())
        event["data"] = {k: v for k, v in event["data"].items() if k not in dropped}
    expected = derived.expected_rows(events)
    assert expected["steering_meeting"] == {}  # its events name no cycle: not checked
    assert expected["annual_report"] and expected["area_review"]  # by the year, the period and area
    with walked.db.reading() as session:
        assert derived.compare(expected, derived.records(session)) == []


def test_compare_reads_rows_as_an_archive_holds_them(walked: Chain, tmp_path: Path) -> None:
    """Rows as text (a CSV's cells: times with a space, no value as empty) compare as the database's."""
    expected = derived.expected_rows(_events(walked.db))
    with walked.db.reading() as session:
        rows = list(derived.records(session)["decision"])
    as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    assert derived.compare(expected, {"decision": as_text}) == []
    as_text[0]["rationale"] = "Ändrad."
    (problem,) = derived.compare(expected, {"decision": as_text})
    assert problem.subject == f"decision {as_text[0]['id']} (deviation 1 #1)"
    del as_text[-1]
    assert "it is not there" in derived.compare(expected, {"decision": as_text})[-1].detail


def test_the_archive_codebook_names_every_column_its_events_vouch_for(walked: Chain) -> None:
    """The README tells the archivist which columns verify holds against the events: exactly the
    columns of each archive table that the events of every record kind say something of."""
    expected = derived.expected_rows(_events(walked.db))
    columns = {table.name: set(table.columns) for table in export.TABLES}
    columns["issued_reports"] = set(export.ISSUED_COLUMNS)
    vouched = {
        table: {name for row in expected[kind].values() for name in row} & columns[table]
        for table, kind in verify.RECORD_KINDS.items()
    }
    named = {
        table: {column for listed in sources.values() for column in listed}
        for table, sources in codebook.SIGNED_COLUMNS.items()
    }
    assert named == vouched
