"""Racing clients: the same task completed twice at once decides once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from planflow import clock
from planflow.db import Database
from planflow.models import AuditEvent, Notice, StatusReport
from planflow.services import audit, people, tasks, timers
from planflow.services.errors import Conflict

from .chain import Chain


def test_two_simultaneous_completions_of_one_task_decide_once(seeded: Database) -> None:
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(seeded)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def report(status: str) -> None:
        barrier.wait()
        try:
            with seeded.transaction() as session:
                tasks.complete_task(
                    session,
                    people.get_user(session, "anna.nilsson"),
                    task.id,
                    {"status": status, "cause": "x"} if status != "green" else {"status": status},
                )
            outcomes.append("done")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=report, args=(status,)) for status in ("green", "red")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "done"]
    with seeded.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StatusReport)) == 1
        reported = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "status.reported")
        )
        assert reported == 1
        assert audit.verify(session).intact


def test_two_schedulers_firing_at_once_escalate_once(seeded: Database) -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    clock.set_now(start)
    chain = Chain(seeded)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Inga besök bokade.")
    due = start + timedelta(days=15)
    barrier = threading.Barrier(2)
    fired: list[int] = []

    def scheduler() -> None:
        barrier.wait()
        with seeded.transaction() as session:
            fired.append(timers.fire_due_timers(session, due))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(fired) == [0, 1]
    with seeded.transaction() as session:
        assert len(audit.events(session, action="deviation.escalated")) == 1
        assert session.scalar(select(func.count()).select_from(Notice)) == 2  # chair and process leader
