"""Racing clients, as separate processes on an SQLite file and on PostgreSQL: the same task
completed twice at once decides once; two schedulers firing at once escalate once."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from planflow import clock
from planflow.db import Database
from planflow.models import AuditEvent, CycleState, Notice, ReportingCycle, StatusReport
from planflow.services.authority import people
from planflow.services.chain import cycles, instances
from planflow.services.records import audit
from planflow.services.records.audit import Actor

from . import racers
from .chain import Chain

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _race(calls: list[tuple[Any, ...]]) -> list[Any]:
    """Run each (function, *args) in its own spawned process, all released by one barrier."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(len(calls))
        with ProcessPoolExecutor(len(calls), mp_context=context) as pool:
            futures = [pool.submit(function, *args[:2], barrier, *args[2:]) for function, *args in calls]
            return [future.result(timeout=120) for future in futures]


def test_two_simultaneous_completions_of_one_task_decide_once(seeded: Database, database_url: str) -> None:
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    outcomes = _race(
        [
            (racers.complete, database_url, START, task.id, "anna.nilsson", {"status": "green"}),
            (racers.complete, database_url, START, task.id, "anna.nilsson", {"status": "red", "cause": "x"}),
        ]
    )
    assert sorted(outcomes) == ["conflict", "done"]
    with seeded.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StatusReport)) == 1
        reported = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "status.reported")
        )
        assert reported == 1
        assert audit.verify(session).intact


def test_two_schedulers_firing_at_once_escalate_once(seeded: Database, database_url: str) -> None:
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    due = START + timedelta(days=15)
    fired = _race([(racers.fire_timers, database_url, due), (racers.fire_timers, database_url, due)])
    assert sorted(fired) == [0, 1]
    with seeded.transaction() as session:
        assert len(audit.events(session, action="deviation.escalated")) == 1
        escalations = select(func.count()).select_from(Notice).where(Notice.template == "notice.escalation")
        assert session.scalar(escalations) == 2  # chair and process leader
        assert audit.verify(session).intact


def test_four_processes_starting_one_period_make_one_cycle(seeded: Database, database_url: str) -> None:
    """Found: the losers got an IntegrityError that the CLI called "cannot use the database"."""
    outcomes = _race([(racers.start_cycle, database_url, START, "2026-Q4") for _ in range(4)])
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "started"]
    with seeded.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReportingCycle)) == 1
        assert cycles.reports_due(session, session.scalars(select(ReportingCycle.id)).one()) == 60


def test_two_openers_of_one_cycle_start_each_report_once(seeded: Database, database_url: str) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        cycle_id = cycles.start_cycle(session, leader, "2026-Q4", date(2026, 12, 15)).id
    started = _race([(racers.open_cycle, database_url, START, cycle_id) for _ in range(2)])
    assert sum(started) == 60
    with seeded.transaction() as session:
        assert cycles.reports_due(session, cycle_id) == 60
        assert session.scalar(select(ReportingCycle.state)) is CycleState.OPEN
        assert len(audit.events(session, action="cycle.opened")) == 1


def test_closing_the_meeting_while_the_last_deviation_is_decided_ends_in_a_clear_answer(
    seeded: Database, database_url: str
) -> None:
    """Found: on PostgreSQL the meeting, which completed the decision tasks itself, deadlocked with
    a member deciding the same deviation. Now each decision is its own task and the meeting only
    reads the queue: whichever commits first, the other gets a clear answer."""
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle()
    for task in [t for t in chain.inbox_of_all() if t.name == "report_status"]:
        red = task.activity_code == "4.2.1"
        chain.report_and_accept(
            task.activity_code or "", "red" if red else "green", "Resursbrist." if red else None
        )
    chain.do("processledare", "draft_recommendation", {"recommendation": "Förstärk."})
    chain.do("lead4", "agree_recommendation", {"outcome": "agree"})
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": "Ok."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    chain.do(
        "processledare",
        "business_dialogue",
        {"forums": ["Näringslivsrådet"], "held_on": "2026-11-20", "heard": "-"},
    )
    decision = chain.task("ordforande", "steering_decision")
    meeting = chain.task("ordforande", "steering_meeting")
    outcomes = _race(
        [
            (
                racers.complete,
                database_url,
                START,
                decision.id,
                "ordforande",
                {"decision": "approve", "rationale": "Ok."},
            ),
            (racers.complete, database_url, START, meeting.id, "ordforande", {"notes": "Noterat."}),
        ]
    )
    assert outcomes[0] == "done" and outcomes[1] in ("done", "error.steering.undecided")
    with seeded.transaction() as session:
        assert audit.verify(session).intact
        assert len(audit.events(session, action="deviation.decided")) == 1


def _while_held(
    url: str, holder: tuple[str, str, dict[str, Any]], other: tuple[str, str, dict[str, Any]]
) -> list[str]:
    """One process completes `holder` (task id, user, data) and keeps its transaction open while
    a second completes `other`, waiting at most 3 s for any lock; then the first commits."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        events = {"holding": manager.Event(), "commit": manager.Event()}
        with ProcessPoolExecutor(2, mp_context=context) as pool:
            held = pool.submit(racers.complete_holding, url, START, events, *holder)
            meanwhile = pool.submit(racers.complete_meanwhile, url, START, events, *other)
            return [held.result(timeout=120), meanwhile.result(timeout=120)]


@pytest.mark.parametrize(
    ("held", "meanwhile"),
    [
        ("report 1.1.1", "review 1.1.3"),  # deadlocked: the review took the head, then waited for the cycle
        ("review 1.1.3", "report 1.1.1"),  # the report waited for the review's cycle lock and head
        ("review 1.1.3", "review 2.1.1"),  # reviews in different areas waited for one cycle row
    ],
)
def test_reports_and_reviews_in_one_cycle_do_not_wait_for_each_other(
    seeded: Database, database_url: str, held: str, meanwhile: str
) -> None:
    """The interleavings that deadlocked on PostgreSQL (issue 16): a report's insert holds KEY
    SHARE on its cycle; a review locked the audit head and then the cycle FOR UPDATE. Now the head
    is locked only at commit and a review locks the cycle FOR SHARE and only its own area for
    update, so while one transaction is open the other goes through without waiting at all."""
    if seeded.url.get_backend_name() == "sqlite":
        pytest.skip("SQLite lets one transaction write at a time: there are no row locks to order")
    clock.set_now(START)
    with seeded.transaction() as session:
        instances.store_specs(session)  # as `planflow init` does
    chain = Chain(seeded)
    chain.start_cycle()
    for code in ("1.1.3", "2.1.1"):
        chain.do(chain.owner_of(code), "report_status", {"status": "red", "cause": "Resursbrist."}, code)

    def call(what: str) -> tuple[str, str, dict[str, Any]]:
        kind, code = what.split()
        if kind == "report":
            owner = chain.owner_of(code)
            return chain.task(owner, "report_status", code).id, owner, {"status": "green"}
        lead = f"lead{code[0]}"
        return chain.task(lead, "review_report", code).id, lead, {"outcome": "accept"}

    assert _while_held(database_url, call(held), call(meanwhile)) == ["done", "done"]
    with seeded.transaction() as session:
        assert audit.verify(session).intact
        assert len(audit.events(session, action="status.accepted")) == (2 if "2.1.1" in meanwhile else 1)
        assert len(audit.events(session, action="deviation.opened")) in (1, 2)
