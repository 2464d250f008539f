"""A reporting cycle's use cases: see what starting one would do, start one with its opening
(its status reports, batch by batch), cancel one started by mistake, find one, and give feedback
while its business dialogue is open.

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
from typing import Any, NoReturn

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
    AreaReview,
    AreaReviewState,
    BusinessDialogue,
    CycleState,
    Deviation,
    DialogueFeedback,
    FocusArea,
    InstanceState,
    InterventionArea,
    OpenTask,
    Plan,
    ProcessInstance,
    ReportingCycle,
    StatusReport,
    SteeringMeeting,
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
# Why a cycle is cancelled: said by whoever cancels it, kept with the cycle and in the audit trail.
CANCEL_REASON_LIMIT = 1000
# The cycles that count: a cancelled one is a record of a mistake, not a round of reporting.
LIVE = ReportingCycle.state != CycleState.CANCELLED


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
    _check_start(session, plan, period, deadline, days)
    cycle = ReportingCycle(
        plan_id=plan.id, period=period, deadline=deadline, escalation_days=days, started_at=clock.now()
    )
    try:
        with session.begin_nested():
            session.add(cycle)
            session.flush()
    except IntegrityError:  # another process opened it between our check and our insert
        raise Conflict("error.cycle.started_meanwhile", period=period, plan=plan.title) from None
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


def _check_start(session: Session, plan: Plan, period: str, deadline: date, escalation_days: int) -> None:
    """Refuse a cycle that may not start: a bad period, a past deadline, escalation days out of
    range, the period taken, another cycle unfinished, or a period that overlaps another. A
    cancelled cycle counts for none of these: its period may start again. Each refusal names the
    plan by its title and says what to do."""
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
    for other in session.scalars(
        select(ReportingCycle).where(ReportingCycle.plan_id == plan.id, LIVE).order_by(ReportingCycle.id)
    ):
        if other.period == period:
            raise Conflict(
                "error.cycle.exists",
                period=period,
                plan=plan.title,
                state={"key": f"ui.cycle.state.{other.state.value}"},
                deadline=other.deadline,
            )
        if other.state is not CycleState.REPORTED:
            raise Conflict(
                "error.cycle.one_open",
                period=period,
                open=other.period,
                plan=plan.title,
                deadline=other.deadline,
            )
        other_first, other_last = period_bounds(other.period)
        if other_first <= last_day and first_day <= other_last:
            raise Conflict("error.cycle.overlaps", period=period, other=other.period, plan=plan.title)


@dataclass(frozen=True)
class CyclePreview:
    """What starting a cycle would do, for the page that asks to confirm it: the period's days,
    its deadline, and how many activities would get a status-report task."""

    plan: str
    plan_title: str
    period: str
    first_day: date
    last_day: date
    deadline: date
    escalation_days: int
    reports: int


def preview(
    session: Session,
    actor: Actor,
    period: str,
    deadline: date,
    escalation_days: int | None = None,
    plan_slug: str | None = None,
) -> CyclePreview:
    """What `start` would do now with these values, refused exactly as `start` would refuse it
    (the same right, the same checks), changing nothing."""
    access.require(session, actor, UseCase.START_CYCLE)
    plan = plans.get_plan(session, plan_slug)
    days = installation.current().escalation_days if escalation_days is None else escalation_days
    _check_start(session, plan, period, deadline, days)
    first_day, last_day = period_bounds(period)
    reports = session.scalar(
        select(func.count()).select_from(Activity).where(*reporting_in(plan.id, first_day, last_day))
    )
    return CyclePreview(plan.slug, plan.title, period, first_day, last_day, deadline, days, reports or 0)


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
    """A plan's cycle of `period`: the live one, else the one cancelled last (a period started
    by mistake and cancelled, not started again), else NotFound."""
    plan = plans.get_plan(session, plan_slug)
    cycle = session.scalars(
        select(ReportingCycle)
        .where(ReportingCycle.plan_id == plan.id, ReportingCycle.period == period)
        .order_by(ReportingCycle.state == CycleState.CANCELLED, ReportingCycle.id.desc())
        .limit(1)
    ).first()
    if cycle is None:
        raise NotFound("error.cycle.not_found", period=quote(period), plan=plan.title)
    return cycle


@dataclass(frozen=True)
class CycleCancelled:
    """A cycle just cancelled: what the page, the API and the command line say of it."""

    plan: str
    period: str
    state: CycleState
    cancelled_at: datetime
    reason: str
    tasks_withdrawn: int  # open tasks that left the inboxes
    processes_ended: int


def cancel(
    transaction: Transaction, actor: Actor, period: str, reason: str, plan_slug: str | None = None
) -> CycleCancelled:
    """Cancel a cycle started by mistake, in one transaction: the one way every front end (page,
    API, command line) does it. See cancel_cycle."""
    with transaction() as session:
        return cancel_cycle(session, _read_again(session, actor), period, reason, plan_slug)


def cancel_cycle(
    session: Session, actor: Actor, period: str, reason: str, plan_slug: str | None = None
) -> CycleCancelled:
    """Cancel a plan's cycle of `period` while nothing of it has been reported (no status report
    handed in, no area summarised, no dialogue, no meeting): every process of the cycle ends where
    it stands, its open tasks leave the inboxes and its timers go, the cycle is marked cancelled
    with when and why, and the act is audited with the reason. Nobody is sent a notice: nobody
    has done anything in it yet. Whoever may start a cycle may cancel one; the period may then
    start again. The schedule never opens a cancelled period again by itself.

    Rows are locked in the order every transaction takes them (README, "Many people at once"):
    the cycle's open tasks, then its instances, then the records are read, then the cycle itself.
    What was reported is read after the locks, so a report handed in meanwhile is seen."""
    actor = access.require(session, actor, UseCase.START_CYCLE)
    plan = plans.get_plan(session, plan_slug)
    why = _cancel_reason(reason)
    cycle = get_cycle(session, period, plan_slug)
    _refuse_cancel_in_state(plan, cycle)
    withdrawn = session.scalars(
        select(OpenTask.id).where(OpenTask.cycle_id == cycle.id).order_by(OpenTask.id).with_for_update()
    ).all()
    running = session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.cycle_id == cycle.id, ProcessInstance.status == InstanceState.RUNNING)
        .order_by(ProcessInstance.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    _refuse_cancel_once_reported(session, plan, cycle)
    cycle = session.get_one(ReportingCycle, cycle.id, with_for_update=True, populate_existing=True)
    _refuse_cancel_in_state(plan, cycle)  # cancelled by someone else meanwhile
    now = clock.now()
    for instance in running:
        run = instances.load(session, instance)
        run.cancel()
        instance.status, instance.completed_at = InstanceState.CANCELLED, now
        instances.save(session, instance, run)
    cycle.state, cycle.cancelled_at, cycle.cancel_reason = CycleState.CANCELLED, now, why
    audit.record(
        session,
        actor,
        "cycle.cancelled",
        "cycle",
        period,
        {"plan": plan.slug, "tasks_withdrawn": len(withdrawn), "processes_ended": len(running)},
        reason=why,
    )
    return CycleCancelled(plan.slug, period, cycle.state, now, why, len(withdrawn), len(running))


@dataclass(frozen=True)
class CancelPreview:
    """What cancelling a cycle would do, for the page that asks to confirm it."""

    plan: str
    plan_title: str
    period: str
    deadline: date
    started_at: datetime
    tasks: int  # open tasks that would leave the inboxes


def cancel_preview(
    session: Session, actor: Actor, period: str, plan_slug: str | None = None
) -> CancelPreview:
    """What `cancel` would do now, refused as it would refuse it (the same right, the same
    checks, without its locks), changing nothing."""
    access.require(session, actor, UseCase.START_CYCLE)
    plan = plans.get_plan(session, plan_slug)
    cycle = get_cycle(session, period, plan_slug)
    _refuse_cancel_in_state(plan, cycle)
    _refuse_cancel_once_reported(session, plan, cycle)
    tasks = session.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.cycle_id == cycle.id))
    return CancelPreview(plan.slug, plan.title, cycle.period, cycle.deadline, cycle.started_at, tasks or 0)


def _refuse_cancel_in_state(plan: Plan, cycle: ReportingCycle) -> None:
    """Conflict unless the cycle is open: cancelled already, still opening, or reported."""
    if cycle.state is CycleState.CANCELLED:
        raise Conflict("error.cycle.cancelled_already", period=cycle.period, plan=plan.title)
    if cycle.state is CycleState.OPENING:
        raise Conflict("error.cycle.cancel_opening", period=cycle.period, plan=plan.title)
    if cycle.state is CycleState.REPORTED:
        _refused_as_reported(plan, cycle, "meeting")


def _refuse_cancel_once_reported(session: Session, plan: Plan, cycle: ReportingCycle) -> None:
    """Conflict once anything of the cycle is reported, naming the first thing found."""
    what = _reported_so_far(session, cycle.id)
    if what is not None:
        _refused_as_reported(plan, cycle, what)


def _refused_as_reported(plan: Plan, cycle: ReportingCycle, what: str) -> NoReturn:
    raise Conflict(
        "error.cycle.cancel_reported",
        period=cycle.period,
        plan=plan.title,
        what={"key": f"cycle.reported.{what}"},
    )


def _cancel_reason(reason: str | None) -> str:
    """Why a cycle is cancelled, required and within its limit, or InvalidInput."""
    why = (reason or "").strip()
    problem = (
        Message("form.required")
        if not why
        else Message("form.too_long", {"max": CANCEL_REASON_LIMIT})
        if len(why) > CANCEL_REASON_LIMIT
        else None
    )
    if problem is not None:
        raise InvalidInput("error.cycle.cancel_reason", fields={"reason": problem})
    return why


def _reported_so_far(session: Session, cycle_id: int) -> str | None:
    """The first kind of thing reported in the cycle (a catalog key's last part), or None."""
    checks = (
        ("status_report", select(StatusReport.id).where(StatusReport.cycle_id == cycle_id)),
        ("deviation", select(Deviation.id).where(Deviation.cycle_id == cycle_id)),
        (
            "area_summary",
            select(AreaReview.id).where(
                AreaReview.cycle_id == cycle_id,
                or_(AreaReview.summary.is_not(None), AreaReview.state != AreaReviewState.SUMMARISING),
            ),
        ),
        ("dialogue", select(BusinessDialogue.id).where(BusinessDialogue.cycle_id == cycle_id)),
        ("dialogue", select(DialogueFeedback.id).where(DialogueFeedback.cycle_id == cycle_id)),
        ("meeting", select(SteeringMeeting.id).where(SteeringMeeting.cycle_id == cycle_id)),
    )
    for what, query in checks:
        if session.scalar(query.limit(1)) is not None:
            return what
    return None


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
