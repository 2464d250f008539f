"""A cycle started by mistake: what starting would do is shown first (cycles.preview), and a cycle
nothing of which is reported yet can be cancelled (cycles.cancel) and its period started again."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from planflow import clock
from planflow.db import Database
from planflow.models import AuditEvent, CycleState, InstanceState, OpenTask, ProcessInstance, ReportingCycle
from planflow.services.authority import people
from planflow.services.chain import cadence, cycles
from planflow.services.errors import Conflict, Forbidden, InvalidInput
from planflow.services.records import consistency
from planflow.services.records.audit import Actor

from .chain import START, Chain

MISTAKE = "2027-01"  # a month, typed where a quarter was meant
DEADLINE = date(2027, 1, 25)
TITLE = "Utvecklingskraft i Södertälje"


def _leader(db: Database) -> Actor:
    with db.reading() as session:
        return Actor(people.get_user(session, "processledare"))


def _preview(db: Database, period: str, deadline: date, who: str = "processledare") -> cycles.CyclePreview:
    with db.reading() as session:
        return cycles.preview(session, Actor(people.get_user(session, who)), period, deadline)


def _cancel(db: Database, period: str = MISTAKE, reason: str = "fel period", who: str = "processledare"):
    with db.reading() as session:
        actor = Actor(people.get_user(session, who))
    return cycles.cancel(db.transaction, actor, period, reason)


def _open_tasks(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(OpenTask)) or 0


def test_preview_says_what_starting_would_do_and_refuses_as_starting_would(seeded: Database) -> None:
    clock.set_now(START)
    shown = _preview(seeded, MISTAKE, DEADLINE)
    assert (shown.period, shown.first_day, shown.last_day, shown.deadline) == (
        MISTAKE,
        date(2027, 1, 1),
        date(2027, 1, 31),
        DEADLINE,
    )
    assert TITLE in shown.plan_title
    started = cycles.start(seeded.transaction, _leader(seeded), MISTAKE, DEADLINE)
    assert shown.reports == started.reports > 50  # what the confirmation said is what happened
    with pytest.raises(Conflict) as refused:
        _preview(seeded, MISTAKE, DEADLINE)
    assert refused.value.code == "error.cycle.exists"
    with pytest.raises(Forbidden):
        _preview(seeded, "2027-Q1", DEADLINE, who="lead1")


def test_a_cycle_started_by_mistake_is_cancelled_and_its_period_starts_again(seeded: Database) -> None:
    clock.set_now(START)
    started = cycles.start(seeded.transaction, _leader(seeded), MISTAKE, DEADLINE)
    assert _open_tasks(seeded) == started.reports
    owner_task = Chain(seeded).task("anna.nilsson", "report_status")

    cancelled = _cancel(seeded, reason="Startad av misstag: vi följer upp kvartalsvis")

    assert (cancelled.state, cancelled.tasks_withdrawn) == (CycleState.CANCELLED, started.reports)
    assert _open_tasks(seeded) == 0
    assert not Chain(seeded).inbox("anna.nilsson")  # the task left the owner's inbox
    with seeded.transaction() as session:
        with pytest.raises(Exception):  # noqa: B017 - gone: whatever the completion says, it does nothing
            from planflow.services.chain import tasks

            tasks.complete_task(
                session, people.get_user(session, "anna.nilsson"), owner_task.id, {"status": "green"}
            )
    with seeded.reading() as session:
        statuses = set(session.scalars(select(ProcessInstance.status)))
        assert statuses == {InstanceState.CANCELLED}
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle.cancelled")).one()
        assert (event.actor, event.subject_id, event.reason) == (
            "processledare",
            MISTAKE,
            "Startad av misstag: vi följer upp kvartalsvis",
        )
        assert event.data["tasks_withdrawn"] == started.reports
        cycle = cycles.get_cycle(session, MISTAKE)
        assert (cycle.state, cycle.cancel_reason) == (CycleState.CANCELLED, event.reason)
        assert consistency.check(session) == []

    again = cycles.start(seeded.transaction, _leader(seeded), MISTAKE, DEADLINE)
    assert again.reports == started.reports and again.state is CycleState.OPEN
    assert any(t.name == "report_status" for t in Chain(seeded).inbox("anna.nilsson"))
    with seeded.reading() as session:
        assert cycles.get_cycle(session, MISTAKE).state is CycleState.OPEN  # the live one
        states = session.scalars(select(ReportingCycle.state).order_by(ReportingCycle.id)).all()
        assert states == [CycleState.CANCELLED, CycleState.OPEN]
        assert consistency.check(session) == []


def test_a_cancelled_cycle_lets_another_period_start(seeded: Database) -> None:
    clock.set_now(START)
    cycles.start(seeded.transaction, _leader(seeded), MISTAKE, DEADLINE)
    _cancel(seeded)
    started = cycles.start(seeded.transaction, _leader(seeded), "2026-Q4", date(2026, 12, 15))
    assert started.state is CycleState.OPEN


def test_a_cycle_cannot_be_cancelled_once_something_of_it_is_reported(chain: Chain) -> None:
    chain.do("anna.nilsson", "report_status", {"status": "green", "comment": "Klart"})
    before = _open_tasks(chain.db)
    with pytest.raises(Conflict) as refused:
        _cancel(chain.db, "2026-Q4")
    assert refused.value.code == "error.cycle.cancel_reported"
    said = refused.value.message.render("sv")
    assert "en statusrapport är lämnad" in said and TITLE in said
    assert _open_tasks(chain.db) == before  # nothing changed
    with chain.db.reading() as session:
        assert cycles.get_cycle(session, "2026-Q4").state is CycleState.OPEN
        assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle.cancelled")).all()


def test_cancelling_needs_the_right_and_a_reason_and_happens_once(chain: Chain) -> None:
    with pytest.raises(Forbidden):
        _cancel(chain.db, "2026-Q4", who="lead1")
    with pytest.raises(InvalidInput) as blank:
        _cancel(chain.db, "2026-Q4", reason="   ")
    assert set(blank.value.fields) == {"reason"}
    with pytest.raises(InvalidInput):
        _cancel(chain.db, "2026-Q4", reason="x" * (cycles.CANCEL_REASON_LIMIT + 1))
    _cancel(chain.db, "2026-Q4", who="admin")
    with pytest.raises(Conflict) as twice:
        _cancel(chain.db, "2026-Q4")
    assert twice.value.code == "error.cycle.cancelled_already"


def test_the_schedule_does_not_open_a_cancelled_period_again(seeded: Database) -> None:
    clock.set_now(START)
    schedule = cadence.Cadence("quarter", 2, 1, 3, 15)  # 2026-Q4 opens on 1 November
    assert cadence.open_due_cycles(seeded.transaction, schedule, START.date())["cycles_opened"] == 1
    _cancel(seeded, "2026-Q4")
    assert cadence.open_due_cycles(seeded.transaction, schedule, START.date())["cycles_opened"] == 0
    with seeded.reading() as session:
        assert cycles.get_cycle(session, "2026-Q4").state is CycleState.CANCELLED


def test_refusals_to_start_name_the_plan_by_its_title_and_what_to_do(chain: Chain) -> None:
    for period, code in (("2027-Q1", "error.cycle.one_open"), ("2026-Q4", "error.cycle.exists")):
        with pytest.raises(Conflict) as refused:
            _preview(chain.db, period, date(2027, 3, 1))
        assert refused.value.code == code
        said = refused.value.message.render("sv")
        assert TITLE in said and "sodertalje-2016" not in said, said
        assert "2026-12-15" in said and "avbryt" in said.lower()
