"""A reporting cycle's use cases: start one with its opening (its status reports, batch by
batch), find one, and give feedback while its business dialogue is open.

What happens as a cycle's processes move is in the handler modules, one per diagram:
reporting_cycle.py, activity_report.py and area_reconciliation.py. Where a cycle stands is
cycleview.py's."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ... import clock, installation
from ...engine import FormError
from ...i18n import Message
from ...models import (
    Activity,
    ActivityState,
    CycleState,
    DialogueFeedback,
    FocusArea,
    InterventionArea,
    OpenTask,
    Plan,
    ReportingCycle,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import Conflict, InvalidInput, NotFound, quote
from ..plan import plans
from ..records import audit
from ..records.audit import SYSTEM_ACTOR, Actor
from . import area_reconciliation, arrivals, instances
from .steps import start_process

Transaction = Callable[[], AbstractContextManager[Session]]
# Status reports started per transaction while a cycle opens: about 2 ms each, so a batch holds
# the database for about 0.2 s (benchmarks/RESULTS.md), well under the 0.5 s a write may take.
OPEN_BATCH = 100
PERIOD = re.compile(r"^(\d{4})-(Q[1-4]|T[1-3]|H[12]|0[1-9]|1[0-2])$")
# The part of the year each kind of period covers: quarters, thirds (tertial), halves, months.
PERIOD_MONTHS = {"Q": 3, "T": 4, "H": 6}


def period_bounds(period: str) -> tuple[date, date]:
    """The first and last day of a period such as 2026-Q4, 2026-T2, 2026-H1 or 2026-11."""
    match = PERIOD.match(period)
    if match is None or not clock.valid_year(int(match.group(1))):
        raise InvalidInput(
            "error.cycle.period_format", fields={"period": Message("form.period")}, period=quote(period)
        )
    year, part = int(match.group(1)), match.group(2)
    if part[0] in PERIOD_MONTHS:
        months = PERIOD_MONTHS[part[0]]
        first_month = (int(part[1]) - 1) * months + 1
        last_month = first_month + months - 1
    else:
        first_month = last_month = int(part)
    last_day = calendar.monthrange(year, last_month)[1]
    return date(year, first_month, 1), date(year, last_month, last_day)


@dataclass(frozen=True)
class CycleStarted:
    """A cycle just started and opened: what the page, the API and the command line say of it."""

    plan: str
    period: str
    deadline: date
    escalation_days: int
    state: CycleState
    started_at: datetime
    reports: int  # status reports asked for when it opened


def start(
    transaction: Transaction,
    actor: Actor,
    period: str,
    deadline: date,
    escalation_days: int | None = None,
    plan_slug: str | None = None,
) -> CycleStarted:
    """Start a plan's reporting cycle and open it: the one way every front end (page, API,
    command line, the schedule) starts a cycle. `transaction` is the database's transaction
    factory (Database.transaction): the start is one transaction, the opening one more per batch of
    status reports (open_all), so no transaction holds the database long. `escalation_days` left
    out means the installation's (ESCALATION_DAYS); the act is recorded under the role of the
    grant that allows it. A crash during the opening leaves the cycle opening; the scheduler's
    next run (or open_all) resumes it where it stopped."""
    with transaction() as session:
        cycle = start_cycle(
            session, _read_again(session, actor), period, deadline, escalation_days, plan_slug
        )
        cycle_id = cycle.id
    reports = open_all(transaction, cycle_id)
    with transaction() as session:
        cycle = session.get_one(ReportingCycle, cycle_id)
        return CycleStarted(
            plan=session.get_one(Plan, cycle.plan_id).slug,
            period=cycle.period,
            deadline=cycle.deadline,
            escalation_days=cycle.escalation_days,
            state=cycle.state,
            started_at=cycle.started_at,
            reports=reports,
        )


def _read_again(session: Session, actor: Actor) -> Actor:
    """The actor with its people read again in `session`: a front end found them in a session of
    its own, already closed (a reading session's rollback leaves them expired, only their keys
    known), and the authority must see who they are now."""
    if actor.user is None:
        return actor
    user = session.get_one(User, inspect(actor.user).identity)
    absent = actor.on_behalf_of
    on_behalf_of = session.get_one(User, inspect(absent).identity) if absent is not None else None
    return Actor(user, on_behalf_of, actor.role, actor.label)


def start_cycle(
    session: Session,
    actor: Actor,
    period: str,
    deadline: date,
    escalation_days: int | None = None,
    plan_slug: str | None = None,
) -> ReportingCycle:
    """Start a reporting cycle of a plan, in the caller's transaction: the cycle, in state
    opening, and its own process waiting for the areas to be reconciled. Its status reports (one
    for the owner of every activity that runs in the period) are started by open_reports, batch by
    batch, in later transactions; front ends call `start`, which does both.

    The rules (workflows/README.md): one unfinished cycle per plan at a time; a plan's periods
    never overlap; an activity reports when it is active and its timeline meets the period.
    `escalation_days` None means the installation's (ESCALATION_DAYS)."""
    actor = access.require(session, actor, UseCase.START_CYCLE)
    plan = plans.get_plan(session, plan_slug)
    days = installation.current().escalation_days if escalation_days is None else escalation_days
    _check_start(session, plan.id, plan.slug, period, deadline, days)
    cycle = ReportingCycle(
        plan_id=plan.id, period=period, deadline=deadline, escalation_days=days, started_at=clock.now()
    )
    try:
        with session.begin_nested():
            session.add(cycle)
            session.flush()
    except IntegrityError:  # another process opened it between our check and our insert
        raise Conflict("error.cycle.exists", period=period, plan=plan.slug) from None
    audit.record(
        session,
        actor,
        "cycle.started",
        "cycle",
        period,
        {"plan": plan.slug, "deadline": deadline, "escalation_days": days},
    )
    start_process(
        session,
        actor,
        "reporting_cycle",
        instances.Subject(cycle_id=cycle.id, subject_type="cycle", subject_id=cycle.id, due_on=deadline),
        {"period": period, "deadline": deadline.isoformat()},
    )
    return cycle


def _check_start(
    session: Session, plan_id: int, plan_slug: str, period: str, deadline: date, escalation_days: int
) -> None:
    """Refuse a cycle that may not start: a bad period, a past deadline, escalation days out of
    range, the period taken, another cycle unfinished, or a period that overlaps another."""
    first_day, last_day = period_bounds(period)
    if deadline < clock.today():
        raise InvalidInput(
            "error.cycle.deadline_passed", fields={"deadline": Message("form.past")}, deadline=deadline
        )
    low, high = installation.ESCALATION_DAYS_RANGE
    if not low <= escalation_days <= high:
        raise InvalidInput(
            "error.cycle.escalation_days",
            fields={"escalation_days": Message("form.out_of_range", {"limit": f"{low}–{high}"})},
            days=escalation_days,
        )
    for other in session.scalars(select(ReportingCycle).where(ReportingCycle.plan_id == plan_id)):
        if other.period == period:
            raise Conflict("error.cycle.exists", period=period, plan=plan_slug)
        if other.state is not CycleState.REPORTED:
            raise Conflict("error.cycle.one_open", period=period, open=other.period, plan=plan_slug)
        other_first, other_last = period_bounds(other.period)
        if other_first <= last_day and first_day <= other_last:
            raise Conflict("error.cycle.overlaps", period=period, other=other.period, plan=plan_slug)


def open_reports(session: Session, cycle_id: int, limit: int = OPEN_BATCH) -> int:
    """Start up to `limit` of an opening cycle's status reports that are not started yet; when
    none is left, start the reconciliation of every area with no report running and mark the
    cycle open. Returns how many reports it started: 0 means the cycle is open.

    A big plan opens in many short transactions, one call each, going through the activities by
    id: the cycle row is locked, so two openers take turns, and it remembers how far it got
    (`opened_through`, written with the batch), so a crash anywhere resumes there."""
    cycle = session.get(ReportingCycle, cycle_id, with_for_update=True, populate_existing=True)
    if cycle is None:
        raise NotFound("error.cycle.not_found", period=cycle_id, plan="-")
    if cycle.state is not CycleState.OPENING:
        return 0
    first_day, last_day = period_bounds(cycle.period)
    rows = session.execute(
        select(Activity, InterventionArea.focus_area_id)
        .join(InterventionArea, Activity.intervention_area_id == InterventionArea.id)
        .where(*reporting_in(cycle.plan_id, first_day, last_day), Activity.id > (cycle.opened_through or 0))
        .order_by(Activity.id)
        .limit(limit)
    ).all()
    for activity, focus_area_id in rows:
        start_process(
            session,
            SYSTEM_ACTOR,
            "activity_report",
            instances.Subject(cycle.id, focus_area_id, activity.id, "activity", activity.id, cycle.deadline),
            {
                "period": cycle.period,
                "deadline": cycle.deadline.isoformat(),
                "activity_code": activity.code,
                "activity_title": activity.title,
            },
            announce=False,  # the owners are told once, when the cycle is open (arrivals.cycle_opened)
        )
    if rows:
        cycle.opened_through = rows[-1][0].id
        return len(rows)
    cycle.state, cycle.opened_through = CycleState.OPEN, None
    reports = reports_due(session, cycle.id)
    audit.record(session, SYSTEM_ACTOR, "cycle.opened", "cycle", cycle.period, {"reports": reports})
    arrivals.cycle_opened(session, cycle)
    for area_id in session.scalars(
        select(FocusArea.id).where(FocusArea.plan_id == cycle.plan_id).order_by(FocusArea.number)
    ):
        area_reconciliation.start_when_reported(session, SYSTEM_ACTOR, cycle, area_id)
    return 0


def open_all(transaction: Callable[[], AbstractContextManager[Session]], cycle_id: int) -> int:
    """Open a cycle to the end, one short transaction per batch (`transaction` is, e.g.,
    Database.transaction); returns how many reports were started."""
    total = 0
    while True:
        with transaction() as session:
            started = open_reports(session, cycle_id)
        if not started:
            return total
        total += started


def opening(session: Session) -> list[int]:
    """The cycles whose opening has not finished (a crash, or a batch still to run)."""
    return list(session.scalars(select(ReportingCycle.id).where(ReportingCycle.state == CycleState.OPENING)))


def reporting_in(plan_id: int, first_day: date, last_day: date) -> list[ColumnElement[bool]]:
    """Which activities of a plan report for a period: active ones whose timeline meets it (an
    activity without dates always reports)."""
    return [
        Activity.plan_id == plan_id,
        Activity.state == ActivityState.ACTIVE,
        or_(Activity.starts_on.is_(None), Activity.starts_on <= last_day),
        or_(Activity.ends_on.is_(None), Activity.ends_on >= first_day),
    ]


def reports_due(session: Session, cycle_id: int) -> int:
    """How many status reports of a cycle are still to be made."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OpenTask)
            .where(OpenTask.cycle_id == cycle_id, OpenTask.name == "report_status")
        )
        or 0
    )


def get_cycle(session: Session, period: str, plan_slug: str | None = None) -> ReportingCycle:
    plan = plans.get_plan(session, plan_slug)
    cycle = session.scalar(
        select(ReportingCycle).where(ReportingCycle.plan_id == plan.id, ReportingCycle.period == period)
    )
    if cycle is None:
        raise NotFound("error.cycle.not_found", period=quote(period), plan=plan.slug)
    return cycle


def open_for_feedback(session: Session, plan_slug: str | None = None) -> list[str]:
    """The periods of a plan whose business dialogue is open, so dialogue users can add feedback."""
    plan = plans.get_plan(session, plan_slug)
    return list(
        session.scalars(
            select(ReportingCycle.period)
            .join(OpenTask, OpenTask.cycle_id == ReportingCycle.id)
            .where(OpenTask.name == "business_dialogue", ReportingCycle.plan_id == plan.id)
            .order_by(ReportingCycle.period)
        )
    )


def give_dialogue_feedback(
    session: Session, user: User, period: str, data: Any, plan_slug: str | None = None
) -> DialogueFeedback:
    """A business-organisation representative adds feedback while the dialogue step is open."""
    actor = access.require(session, Actor(user), UseCase.GIVE_DIALOGUE_FEEDBACK)
    cycle = get_cycle(session, period, plan_slug)
    open_dialogue = session.scalar(
        select(OpenTask.id).where(OpenTask.cycle_id == cycle.id, OpenTask.name == "business_dialogue")
    )
    if open_dialogue is None:
        raise Conflict("error.dialogue.closed", period=period)
    try:
        clean = instances.library().forms.get("dialogue_feedback").validate(data)
    except FormError as exc:
        raise InvalidInput("error.form.invalid", fields=exc.errors) from None
    feedback = DialogueFeedback(
        cycle_id=cycle.id, author_id=user.id, feedback=clean["feedback"], given_at=clock.now()
    )
    session.add(feedback)
    session.flush()
    audit.record(session, actor, "dialogue.feedback", "cycle", period, clean)
    return feedback
