"""Which activities report in a period, and when a plan's cycles may start (workflows/README.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from planflow import clock
from planflow.db import Database
from planflow.models import Activity, ActivityState, CycleState, ReportingCycle
from planflow.services.authority import people
from planflow.services.chain import cycles
from planflow.services.errors import Conflict, InvalidInput
from planflow.services.records.audit import Actor

from .chain import Chain

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
AREA_1 = ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.3.1", "1.3.2", "1.4.1", "1.4.2", "1.4.3"]
AREA_1 += ["1.5.1", "1.5.2"]


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-T2", date(2026, 5, 1), date(2026, 8, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
    ],
)
def test_period_bounds(period: str, first: date, last: date) -> None:
    assert cycles.period_bounds(period) == (first, last)


def test_only_activities_running_in_the_period_report(seeded: Database) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:

        def timeline(code: str, starts: date | None, ends: date | None) -> None:
            session.execute(
                update(Activity).where(Activity.code == code).values(starts_on=starts, ends_on=ends)
            )

        timeline("1.1.1", date(2016, 4, 1), date(2022, 12, 31))  # ended years ago
        timeline("1.1.2", date(2027, 1, 1), date(2027, 12, 31))  # starts after the period
        timeline("1.1.3", None, None)  # no dates: always reports
        timeline("1.1.4", date(2026, 12, 31), None)  # starts on the period's last day
        session.execute(update(Activity).where(Activity.code == "1.3.1").values(state=ActivityState.CLOSED))
    Chain(seeded).start_cycle("2026-Q4", date(2026, 12, 15))
    reporting = {t.activity_code for t in Chain(seeded).inbox_of_all() if t.name == "report_status"}
    assert {"1.1.3", "1.1.4"} <= reporting
    assert not {"1.1.1", "1.1.2", "1.3.1"} & reporting
    assert len(reporting) == 57


def test_one_open_cycle_per_plan_and_periods_never_overlap(seeded: Database) -> None:
    clock.set_now(START)
    chain = Chain(seeded)
    chain.start_cycle("2026-Q4", date(2026, 12, 15))

    def start(period: str) -> str:
        with seeded.transaction() as session, pytest.raises(Conflict) as refused:
            cycles.start_cycle(
                session, Actor(people.get_user(session, "processledare")), period, date(2027, 3, 1)
            )
        return refused.value.code

    assert start("2027-Q1") == "error.cycle.one_open"
    with seeded.transaction() as session:  # the steering group has met on 2026-Q4
        session.execute(update(ReportingCycle).values(state=CycleState.REPORTED))
    assert start("2026-11") == "error.cycle.overlaps"
    assert start("2026-H2") == "error.cycle.overlaps"
    assert start("2026-Q4") == "error.cycle.exists"
    chain.start_cycle("2027-Q1", date(2027, 3, 1))
    with seeded.transaction() as session:
        assert session.scalars(select(ReportingCycle.period).order_by(ReportingCycle.id)).all() == [
            "2026-Q4",
            "2027-Q1",
        ]


def test_a_cycle_opens_in_batches_and_resumes_after_a_crash(seeded: Database) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        cycle_id = cycles.start_cycle(session, leader, "2026-Q4", date(2026, 12, 15)).id
        assert cycles.reports_due(session, cycle_id) == 0  # nothing heavy in the first transaction
    with seeded.transaction() as session:
        assert cycles.open_reports(session, cycle_id, limit=25) == 25
    # the opener dies here; the owners of the first batch already work
    chain = Chain(seeded)
    chain.report_and_accept("1.1.1")
    with seeded.transaction() as session:
        assert cycles.opening(session) == [cycle_id]
        assert session.get(ReportingCycle, cycle_id).state is CycleState.OPENING  # type: ignore[union-attr]
    assert cycles.open_all(seeded.transaction, cycle_id) == 35  # the scheduler's open_cycles resumes
    assert cycles.open_all(seeded.transaction, cycle_id) == 0
    with seeded.transaction() as session:
        assert cycles.reports_due(session, cycle_id) == 59
        assert cycles.opening(session) == []


def test_an_area_finished_while_its_cycle_opens_is_reconciled_when_it_has_opened(seeded: Database) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        cycle_id = cycles.start_cycle(session, leader, "2026-Q4", date(2026, 12, 15)).id
        session.execute(
            update(Activity).where(~Activity.code.startswith("1.")).values(state=ActivityState.CLOSED)
        )
    with seeded.transaction() as session:
        assert cycles.open_reports(session, cycle_id, limit=100) == len(AREA_1)  # focus area 1 only
    chain = Chain(seeded)
    for code in AREA_1:
        chain.report_and_accept(code)
    assert "area_summary" not in {t.name for t in chain.inbox("lead1")}  # still opening
    assert cycles.open_all(seeded.transaction, cycle_id) == 0
    assert [t.name for t in chain.inbox("lead1")] == ["area_summary"]
    assert [t.name for t in chain.inbox("lead2")] == ["area_summary"]  # an area with no report


def test_today_is_the_installations_date_not_utcs(seeded: Database) -> None:
    """At 23:30 UTC on New Year's Eve it is already New Year's Day in Södertälje: a deadline on the
    31st has passed, for the service as for the pages (one `clock.today()`)."""
    clock.set_now(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert clock.today() == date(2027, 1, 1)
    with seeded.transaction() as session:
        admin = Actor(people.get_user(session, "admin"))
        with pytest.raises(InvalidInput) as refused:
            cycles.start_cycle(session, admin, "2027-Q1", date(2026, 12, 31))
    assert refused.value.code == "error.cycle.deadline_passed"
