"""Deviation handling: every yellow or red report gets a cause, a recommendation drafted by the
process leader and agreed by the focus-area lead, and a steering-group decision; a red one that
waits too long for that decision is escalated."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ... import clock
from ...i18n import Message, quoted
from ...models import (
    Activity,
    ActivityState,
    DecidingBody,
    Decision,
    Deviation,
    DeviationState,
    InterventionArea,
    OpenTask,
    ProcessInstance,
    ReportingCycle,
    Role,
    Status,
    StatusReport,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import InvalidInput
from ..outputs import notices
from ..plan import plans
from ..records import audit
from ..records.audit import SYSTEM_ACTOR, Actor
from ..views import history
from . import instances
from .steps import Step, on_complete, on_passed, start_process

# The states a deviation may be in, as the queue's filter and its counts name them.
STATES = tuple(state.value for state in DeviationState)


def open_deviation(session: Session, actor: Actor, report: StatusReport) -> Deviation:
    """Open a deviation for an accepted yellow or red report and start its handling."""
    activity = session.get(Activity, report.activity_id)
    assert activity is not None and report.cause is not None
    deviation = Deviation(
        activity_id=activity.id,
        status_report_id=report.id,
        cycle_id=report.cycle_id,
        level=report.status,
        cause=report.cause,
        opened_at=clock.now(),
    )
    session.add(deviation)
    session.flush()
    audit.record(
        session,
        actor,
        "deviation.opened",
        "deviation",
        deviation.id,
        {
            "activity": activity.code,
            "level": report.status,
            "cause": report.cause,
            "report": report.id,
            "opened_at": deviation.opened_at.isoformat(),
        },
    )
    area = session.get(InterventionArea, activity.intervention_area_id)
    cycle = session.get(ReportingCycle, report.cycle_id)
    assert cycle is not None, "reports are made in a cycle"
    start_process(
        session,
        actor,
        "deviation",
        instances.Subject(
            report.cycle_id,
            area.focus_area_id if area else None,
            activity.id,
            "deviation",
            deviation.id,
            cycle.deadline,
        ),
        {
            "level": report.status.value,
            "cause": report.cause,
            "activity_code": activity.code,
            "activity_title": activity.title,
            "escalation_after": f"P{cycle.escalation_days}D",
        },
    )
    return deviation


@on_complete("draft_recommendation")
def _recommended(session: Session, step: Step, data: dict[str, Any]) -> None:
    deviation = step.subject(session, Deviation)
    deviation.recommendation, deviation.state = data["recommendation"], DeviationState.RECOMMENDED
    audit.record(session, step.actor, "deviation.recommended", "deviation", deviation.id, data)


@on_complete("agree_recommendation")
def _lead_answered(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The lead's answer is in the audit trail with the event its gateway leads to."""


@on_passed("recommendation_returned")
def _recommendation_returned(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    deviation.state = DeviationState.OPEN
    comment = step.data.get("comment")
    step.send_back(comment)
    audit.record(
        session, step.actor, "deviation.recommendation_returned", "deviation", deviation.id, {}, comment
    )


@on_passed("recommendation_agreed")
def _recommendation_agreed(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    deviation.state = DeviationState.AGREED
    comment = step.data.get("comment")
    audit.record(
        session, step.actor, "deviation.recommendation_agreed", "deviation", deviation.id, {}, comment
    )


@on_complete("steering_decision")
def _decided(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The steering group's decision, recorded by its chair: what happens next is the diagram's."""
    deviation = step.subject(session, Deviation)
    decision = step.decide(
        session, DecidingBody.STEERING_GROUP, "deviation", deviation.id, data["decision"], data["rationale"]
    )
    audit.record(
        session,
        step.actor,
        "deviation.decided",
        "deviation",
        deviation.id,
        {
            "decision": data["decision"],
            "activity": deviation.activity.code,
            "body": DecidingBody.STEERING_GROUP,
            "decided_at": decision.decided_at.isoformat(),
        },
        data["rationale"],
    )


@on_passed("decision_returned")
def _decision_returned(session: Session, step: Step) -> None:
    """Back to the process leader, with the group's rationale as the reason the case shows."""
    deviation = step.subject(session, Deviation)
    deviation.state = DeviationState.OPEN
    audit.record(
        session,
        step.actor,
        "deviation.decision_returned",
        "deviation",
        deviation.id,
        {"activity": deviation.activity.code},
        step.data.get("rationale"),
    )
    step.send_back(step.data.get("rationale"))


@on_passed("activity_closed")
def _activity_closed(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    deviation.activity.state = ActivityState.CLOSED
    audit.record(
        session,
        step.actor,
        "activity.closed",
        "activity",
        deviation.activity.code,
        {"deviation": deviation.id},
    )


@on_passed("deviation_decided")
def _deviation_decided(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    deviation.state, deviation.decided_at = DeviationState.DECIDED, clock.now()


def latest_decision(session: Session, deviation_id: int) -> Decision | None:
    """The steering group's latest decision on a deviation."""
    return session.scalar(
        select(Decision)
        .where(Decision.subject_type == "deviation", Decision.subject_id == deviation_id)
        .order_by(Decision.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class AwaitingDecision:
    """A deviation in the steering group's queue, with the task its decision is recorded through."""

    deviation_id: int
    task_id: str
    activity_code: str
    activity_title: str
    level: Status
    cause: str
    recommendation: str | None
    period: str | None
    opened_at: datetime
    escalated_at: datetime | None


def awaiting_steering_group(session: Session, plan_id: int) -> list[AwaitingDecision]:
    """The steering group's queue: deviations of a plan whose decision task is open, escalated
    first, then red before yellow, then oldest first. Pages, the API and the meeting use this."""
    rows = session.execute(
        select(Deviation, OpenTask.id, Activity.code, Activity.title, ReportingCycle.period)
        .join(Activity, Activity.id == Deviation.activity_id)
        .join(
            ProcessInstance,
            (ProcessInstance.subject_type == "deviation") & (ProcessInstance.subject_id == Deviation.id),
        )
        .join(OpenTask, OpenTask.instance_id == ProcessInstance.id)
        .outerjoin(ReportingCycle, ReportingCycle.id == Deviation.cycle_id)
        .where(OpenTask.name == "steering_decision", Activity.plan_id == plan_id)
        .order_by(
            Deviation.escalated_at.is_(None),
            Deviation.level != Status.RED,
            Deviation.opened_at,
            Deviation.id,
        )
    ).all()
    return [
        AwaitingDecision(
            deviation_id=deviation.id,
            task_id=task_id,
            activity_code=code,
            activity_title=title,
            level=deviation.level,
            cause=deviation.cause,
            recommendation=deviation.recommendation,
            period=period,
            opened_at=deviation.opened_at,
            escalated_at=deviation.escalated_at,
        )
        for deviation, task_id, code, title, period in rows
    ]


@dataclass(frozen=True)
class Unsettled:
    """A deviation of a plan the steering group has not decided: awaiting its decision (the
    decision task is open), returned by the group to the process leader (its recommendation
    being reworked), or still being prepared (a recommendation drafted or with the lead)."""

    deviation_id: int
    activity_code: str
    activity_title: str
    level: Status
    state: DeviationState
    cause: str
    recommendation: str | None
    period: str | None
    opened_at: datetime
    escalated_at: datetime | None
    task_id: str | None  # the open decision task, when it awaits the group
    returned: bool  # the group's latest decision on it returned it
    returned_because: str | None  # that decision's rationale

    @property
    def stands(self) -> str:
        """Where it stands, as the page, the meeting's refusal and the minutes say it:
        awaiting | returned | preparing (a `deviation.stands.*` key's last part)."""
        if self.task_id is not None:
            return "awaiting"
        return "returned" if self.returned else "preparing"


def _decision_task() -> Any:  # a scalar subquery, correlated to the deviation of the row
    """The open steering_decision task of each deviation a query reads, if any."""
    return (
        select(OpenTask.id)
        .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
        .where(
            ProcessInstance.subject_type == "deviation",
            ProcessInstance.subject_id == Deviation.id,
            OpenTask.name == "steering_decision",
        )
        .limit(1)
        .scalar_subquery()
    )


def unsettled(session: Session, plan_id: int) -> list[Unsettled]:
    """Every deviation of a plan the steering group has not decided, in the queue's order
    (escalated first, then red before yellow, then oldest first): what a meeting must account for
    before it closes (workflows/README.md, "Who decides: the steering group"). One cycle of a plan
    runs at a time, so these are the cycle's own and those an earlier meeting left open."""
    decision_task = _decision_task()
    earlier = aliased(Decision, name="earlier")  # the latest decision: its own alias, uncorrelated
    latest = (
        select(earlier.id)
        .where(earlier.subject_type == "deviation", earlier.subject_id == Deviation.id)
        .order_by(earlier.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Deviation, Activity.code, Activity.title, ReportingCycle.period, decision_task, Decision)
        .join(Activity, Activity.id == Deviation.activity_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == Deviation.cycle_id)
        .outerjoin(Decision, Decision.id == latest)
        .where(Activity.plan_id == plan_id, Deviation.state != DeviationState.DECIDED)
        .order_by(
            Deviation.escalated_at.is_(None),
            Deviation.level != Status.RED,
            Deviation.opened_at,
            Deviation.id,
        )
    ).all()
    found = []
    for deviation, code, title, period, task_id, decision in rows:
        returned = decision is not None and decision.decision == "return"
        found.append(
            Unsettled(
                deviation_id=deviation.id,
                activity_code=code,
                activity_title=title,
                level=deviation.level,
                state=deviation.state,
                cause=deviation.cause,
                recommendation=deviation.recommendation,
                period=period,
                opened_at=deviation.opened_at,
                escalated_at=deviation.escalated_at,
                task_id=task_id,
                returned=returned,
                returned_because=decision.rationale if returned and decision is not None else None,
            )
        )
    return found


@on_passed("deviation_escalated")
def _escalated(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    if deviation.escalated_at is not None:
        return
    deviation.escalated_at = clock.now()
    recipients = access.holders(session, Role.STEERING_CHAIR) + access.holders(session, Role.PROCESS_LEADER)
    activity = deviation.activity
    days = session.scalar(
        select(ReportingCycle.escalation_days).where(ReportingCycle.id == deviation.cycle_id)
    )
    notices.queue(
        session,
        recipients,
        "notice.escalation",
        {
            "activity": activity.code,
            "title": quoted(activity.title),
            "days": days,
            "cause": deviation.cause,
            "path": f"/processes/{step.instance.id}",  # the deviation's handling, where it stands
        },
        f"deviation-{deviation.id}",
    )
    audit.record(
        session,
        SYSTEM_ACTOR,
        "deviation.escalated",
        "deviation",
        deviation.id,
        {
            "activity": activity.code,
            "to": sorted({u.username for u in recipients}),
            "after_days": days,
            "escalated_at": deviation.escalated_at.isoformat(),
        },
    )


@on_passed("owner_informed")
def _owner_informed(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    activity = deviation.activity
    decision = latest_decision(session, deviation.id)
    if activity.owner is not None and decision is not None:
        notices.queue(
            session,
            [activity.owner],
            "notice.decision",
            {
                "activity": activity.code,
                "title": quoted(activity.title),
                "decision": {"key": f"decision.{decision.decision}"},
                "rationale": decision.rationale,
                "recommendation": deviation.recommendation or "",
            },
            f"deviation-{deviation.id}",
        )
    audit.record(
        session,
        SYSTEM_ACTOR,
        "deviation.owner_informed",
        "deviation",
        deviation.id,
        {
            "owner": activity.owner.username if activity.owner else None,
            "decided_at": deviation.decided_at.isoformat() if deviation.decided_at else None,
        },
    )


@dataclass(frozen=True)
class QueuedDeviation:
    """A deviation in the steering group's queue: the deviation as its history shows it, the
    activity it is about, and the open decision task when it awaits the group's decision."""

    id: int
    period: str | None
    level: str
    cause: str
    recommendation: str | None
    state: str
    opened_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None
    decisions: list[history.DecisionView]
    activity_code: str
    activity_title: str
    task_id: str | None


@dataclass(frozen=True)
class SteeringQueue:
    """The steering group's queue of a plan, with how many of its deviations are in each state."""

    plan: str
    items: list[QueuedDeviation]
    counts: dict[str, int]  # every DeviationState's value: how many of `items` are in it


def steering_queue(
    session: Session,
    user: User,
    plan_slug: str | None = None,
    state: str | None = None,
    period: str | None = None,
) -> SteeringQueue:
    """The steering group's queue, for people who may read it (the page and the API alike): a
    plan's deviations (all but the decided ones unless `state` says otherwise), escalated first,
    then red before yellow, then oldest first, each with the open decision task when there is
    one, and how many are in each state."""
    access.require(session, Actor(user), UseCase.READ_STEERING_QUEUE)
    try:
        wanted = DeviationState(state) if state else None
    except ValueError:
        choices = ", ".join(s.value for s in DeviationState)
        raise InvalidInput(
            "error.input.invalid", fields={"state": Message("form.one_of", {"choices": choices})}
        ) from None
    plan = plans.get_plan(session, plan_slug)
    decision_task = _decision_task()
    query = (
        select(Deviation, Activity.code, Activity.title, ReportingCycle.period, decision_task)
        .join(Activity, Activity.id == Deviation.activity_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == Deviation.cycle_id)
        .where(Activity.plan_id == plan.id)
        .order_by(
            Deviation.escalated_at.is_(None),
            Deviation.level != Status.RED,
            Deviation.opened_at,
            Deviation.id,
        )
    )
    query = query.where(Deviation.state == wanted if wanted else Deviation.state != DeviationState.DECIDED)
    if period is not None:
        query = query.where(ReportingCycle.period == period)
    rows = session.execute(query).all()
    views = history.deviation_views(session, [(d, period) for d, _, _, period, _ in rows])
    items = [
        QueuedDeviation(
            **{f.name: getattr(view, f.name) for f in fields(QueuedDeviation) if hasattr(view, f.name)},
            activity_code=code,
            activity_title=title,
            task_id=task_id,
        )
        for view, (_, code, title, _, task_id) in zip(views, rows, strict=True)
    ]
    counts = {s.value: sum(1 for item in items if item.state == s.value) for s in DeviationState}
    return SteeringQueue(plan.slug, items, counts)


def escalated_count(session: Session) -> int:
    """How many deviations have escalated so far (the scheduler's timer job tells the difference)."""
    return (
        session.scalar(select(func.count()).select_from(Deviation).where(Deviation.escalated_at.is_not(None)))
        or 0
    )
