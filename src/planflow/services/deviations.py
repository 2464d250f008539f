"""Deviation handling: every yellow or red report gets a cause, a recommendation drafted by the
process leader and agreed by the focus-area lead, and a steering-group decision; a red one that
waits too long for that decision is escalated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..models import (
    Activity,
    ActivityState,
    Deviation,
    DeviationState,
    InterventionArea,
    Notice,
    ReportingCycle,
    Role,
    StatusReport,
    User,
)
from . import access, audit, instances
from .audit import SYSTEM_ACTOR, Actor
from .steps import Step, on_complete, on_passed, start_process


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
        {"activity": activity.code, "level": report.status, "cause": report.cause},
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
def _agreed(session: Session, step: Step, data: dict[str, Any]) -> None:
    deviation = step.subject(session, Deviation)
    agreed = data["outcome"] == "agree"
    deviation.state = DeviationState.AGREED if agreed else DeviationState.OPEN
    action = "deviation.recommendation_agreed" if agreed else "deviation.recommendation_returned"
    audit.record(session, step.actor, action, "deviation", deviation.id, data, data.get("comment"))


@on_complete("steering_decision")
def _decided(session: Session, step: Step, data: dict[str, Any]) -> None:
    deviation = step.subject(session, Deviation)
    decision = data["decision"]
    step.decide(session, "deviation", deviation.id, decision, data["rationale"])
    deviation.decision = decision
    if decision == "return":
        deviation.state = DeviationState.OPEN
    else:
        deviation.state, deviation.decided_at = DeviationState.DECIDED, clock.now()
    audit.record(
        session,
        step.actor,
        "deviation.decided",
        "deviation",
        deviation.id,
        {"decision": decision, "activity": deviation.activity.code},
        data["rationale"],
    )
    if decision == "close":
        deviation.activity.state = ActivityState.CLOSED
        audit.record(
            session,
            step.actor,
            "activity.closed",
            "activity",
            deviation.activity.code,
            {"deviation": deviation.id},
            data["rationale"],
        )


def _notify(session: Session, people: list[User], kind: str, key: str, subject: str, body: str) -> None:
    for person in {p.id: p for p in people}.values():
        dedupe = f"{kind}:{key}:{person.id}"
        if session.scalar(select(Notice.id).where(Notice.dedupe_key == dedupe)) is None:
            session.add(
                Notice(
                    recipient_id=person.id,
                    kind=kind,
                    subject=subject,
                    body=body,
                    dedupe_key=dedupe,
                    created_at=clock.now(),
                )
            )


@on_passed("deviation_escalated")
def _escalated(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    if deviation.escalated_at is not None:
        return
    deviation.escalated_at = clock.now()
    chairs = access.holders(session, Role.STEERING_CHAIR)
    leaders = access.holders(session, Role.PROCESS_LEADER)
    activity = deviation.activity
    days = session.scalar(
        select(ReportingCycle.escalation_days).where(ReportingCycle.id == deviation.cycle_id)
    )
    _notify(
        session,
        chairs + leaders,
        "escalation",
        f"deviation-{deviation.id}",
        f"Röd avvikelse utan beslut: {activity.code} {activity.title}",
        f"Avvikelsen för {activity.code} har väntat på styrgruppens beslut i {days} dagar.\n"
        f"Orsak: {deviation.cause}",
    )
    audit.record(
        session,
        SYSTEM_ACTOR,
        "deviation.escalated",
        "deviation",
        deviation.id,
        {"activity": activity.code, "to": [u.username for u in chairs + leaders], "after_days": days},
    )


@on_passed("owner_informed")
def _owner_informed(session: Session, step: Step) -> None:
    deviation = step.subject(session, Deviation)
    activity = deviation.activity
    if activity.owner is not None:
        _notify(
            session,
            [activity.owner],
            "decision",
            f"deviation-{deviation.id}",
            f"Styrgruppens beslut om {activity.code} {activity.title}",
            f"Beslut: {deviation.decision}\nRekommendation: {deviation.recommendation}",
        )
    audit.record(
        session,
        SYSTEM_ACTOR,
        "deviation.owner_informed",
        "deviation",
        deviation.id,
        {"owner": activity.owner.username if activity.owner else None},
    )
