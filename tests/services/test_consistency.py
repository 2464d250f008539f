"""The consistency check: silent on a database the chain made (returns, deviations, decisions, an
escalation, a proposal, an annual report), and naming the rule when a record is planted out of line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from planflow import clock
from planflow.db import Database
from planflow.models import (
    AreaReview,
    AuditEvent,
    CycleState,
    Decision,
    InstanceState,
    OpenTask,
    PendingTimer,
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
)
from planflow.services.authority import people
from planflow.services.chain import annual, cycles, proposals, timers
from planflow.services.records import consistency
from planflow.services.records.audit import Actor

from .chain import Chain

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
def chain(seeded: Database) -> Chain:
    """A cycle with a report returned and sent again, two deviations (one decided after a return,
    one escalated, one waiting), area 5 reconciled, a proposal decided and the year's report noted."""
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "red", "cause": "Inga besök."}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Mer."}, "1.1.1")
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    chain.report_and_accept("2.1.1", "yellow", cause="Sent.")
    for _ in range(2):
        chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp."}, "2.1.1")
        chain.do("lead2", "agree_recommendation", {"outcome": "agree"}, "2.1.1")
        decision = "return" if _ == 0 else "approve"
        chain.do("ordforande", "steering_decision", {"decision": decision, "rationale": "Ok."}, "2.1.1")
    for task in [t for t in chain.inbox_of_all() if t.name == "report_status" and t.focus_area == 5]:
        chain.report_and_accept(task.activity_code or "")
    with seeded.transaction() as session:
        proposals.propose_activity(
            session,
            people.get_user(session, "lead3"),
            {
                "title": "Lokalguide",
                "intervention_area": "3.4",
                "owner": "johan.ek",
                "start": "2027-01-01",
                "end": "2027-12-31",
                "why": "Efterfrågad.",
            },
        )
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Bra."})
    assert (
        timers.fire_due_timers(seeded.transaction, START + timedelta(days=15)) == 1
    )  # the red one's, escalated
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
    chain.report_and_accept("3.1.1", "red", cause="Ingen lokal.")  # its timer waits
    with seeded.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "I stort."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "return", "comment": "Mer."})
    chain.do("processledare", "compile_annual_report", {"summary": "I stort; fokus 5 klart."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    chain.do(
        "kommunstyrelsen", "board_note", {"noted": True, "decided_on": "2027-01-20", "paragraph": "§ 12"}
    )
    return chain


def test_a_database_the_chain_made_keeps_every_rule(chain: Chain) -> None:
    memo = consistency.Memo()
    with chain.db.reading() as session:
        assert consistency.check(session) == []
        assert consistency.check(session, memo) == []
        assert memo.chain[0] > 0 and memo.runs
        assert consistency.check(session, memo) == []  # from the memo: nothing deserialized again


def _planted(
    db: Database, plant: Callable[[Session], object], memo: consistency.Memo | None = None
) -> set[str]:
    """The rules the check names with `plant` done in a transaction that is then rolled back."""
    with db.sessions() as session:
        session.begin()
        try:
            plant(session)
            session.flush()
            return {problem.rule for problem in consistency.check(session, memo)}
        finally:
            session.rollback()


def _first(session: Session, model: type, *where: Any) -> Any:
    return session.scalars(select(model).where(*where).limit(1)).one()


def test_each_rule_names_a_record_planted_out_of_line(chain: Chain) -> None:
    db = chain.db
    memo = consistency.Memo()
    with db.reading() as session:
        assert consistency.check(session, memo) == []

    def lose_open_task(session: Session) -> None:
        session.execute(delete(OpenTask).where(OpenTask.id == _first(session, OpenTask).id))

    def lose_timer(session: Session) -> None:
        session.execute(delete(PendingTimer).where(PendingTimer.id == _first(session, PendingTimer).id))

    def end_a_running_instance(session: Session) -> None:
        instance = _first(
            session,
            ProcessInstance,
            ProcessInstance.id == select(OpenTask.instance_id).limit(1).scalar_subquery(),
        )
        instance.status = InstanceState.COMPLETED

    def unreview(session: Session) -> None:
        session.execute(
            update(StatusReport)
            .where(StatusReport.review == ReviewOutcome.ACCEPTED)
            .values(review=ReviewOutcome.PENDING)
        )

    def lose_decision(session: Session) -> None:
        session.execute(delete(Decision).where(Decision.subject_type == "deviation"))

    def reopen(session: Session) -> None:
        session.execute(update(ReportingCycle).values(state=CycleState.OPENING, opened_through=1))

    def lose_reconciliation(session: Session) -> None:
        session.execute(delete(AreaReview))

    def rewrite_history(session: Session) -> None:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(reason="rewritten"))

    assert "projection.open_tasks" in _planted(db, lose_open_task, memo)
    assert "projection.pending_timers" in _planted(db, lose_timer, memo)
    assert "projection.open_tasks" in _planted(db, end_a_running_instance, memo)
    assert {"report.events", "deviation.stray"} <= _planted(db, unreview)
    assert _planted(db, lose_decision) == {"decision.events", "record.events"}
    assert {"cycle.opening", "cycle.events"} <= _planted(db, reopen)
    assert {"cycle.reconciliation"} == _planted(db, lose_reconciliation)
    assert _planted(db, rewrite_history) == {"audit.chain"}


def test_a_cycle_still_opening_is_a_problem_unless_an_opener_may_be_at_work(seeded: Database) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        cycle_id = cycles.start_cycle(session, leader, "2026-Q4", date(2026, 12, 15)).id
    with seeded.transaction() as session:
        assert cycles.open_reports(session, cycle_id, limit=10) == 10
    with seeded.reading() as session:
        assert [p.rule for p in consistency.check(session)] == ["cycle.opening"]
        assert consistency.check(session, opening_allowed=True) == []
    cycles.open_all(seeded.transaction, cycle_id)
    with seeded.reading() as session:
        assert consistency.check(session) == []
