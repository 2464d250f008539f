"""The handlers of the reporting cycle's own process (workflows/reporting_cycle.bpmn): it waits
until every area is reconciled, then the process leader records the business dialogue, the
steering group's chair closes the meeting, and the cycle is reported.

The cycle's start and opening are use cases (services/cycles.py); the reports and the areas'
reconciliation have their own processes (activity_report.py, area_reconciliation.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ... import clock
from ...models import BusinessDialogue, CycleState, ReportingCycle, SteeringMeeting
from ..errors import InvalidInput
from ..records import audit
from . import deviations
from .steps import Step, on_complete, on_passed


def cycle_of(session: Session, step: Step) -> ReportingCycle:
    """The cycle an instance of the reporting chain (cycle, report, area) belongs to."""
    cycle = session.get(ReportingCycle, step.instance.cycle_id)
    assert cycle is not None, "every reporting instance belongs to a cycle"
    return cycle


@on_complete("business_dialogue")
def _dialogue_held(session: Session, step: Step, data: dict[str, Any]) -> None:
    cycle = cycle_of(session, step)
    session.add(
        BusinessDialogue(
            cycle_id=cycle.id,
            forums=data["forums"],
            held_on=date.fromisoformat(data["held_on"]),
            heard=data["heard"],
            ideas=data.get("ideas"),
            recorded_by_id=step.by.id,
            recorded_at=clock.now(),
        )
    )
    audit.record(session, step.actor, "dialogue.recorded", "cycle", cycle.period, data)


@on_complete("steering_meeting")
def _meeting_closed(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The chair closes the meeting with its minutes and priorities. The group's decisions on
    deviations are each recorded through its own decision task; the meeting closes only when none
    is left awaiting it."""
    cycle = cycle_of(session, step)
    undecided = deviations.awaiting_steering_group(session, cycle.plan_id)
    if undecided:
        raise InvalidInput(
            "error.steering.undecided",
            activities=", ".join(item.activity_code for item in undecided),
            count=len(undecided),
        )
    session.add(
        SteeringMeeting(
            cycle_id=cycle.id,
            notes=data["notes"],
            priorities=data.get("priorities"),
            closed_by_id=step.by.id,
            closed_at=clock.now(),
        )
    )
    audit.record(
        session,
        step.actor,
        "steering.meeting_closed",
        "cycle",
        cycle.period,
        {"notes": data["notes"], "priorities": data.get("priorities")},
    )


@on_passed("cycle_reported")
def _cycle_reported(session: Session, step: Step) -> None:
    cycle = cycle_of(session, step)
    cycle.state, cycle.reported_at = CycleState.REPORTED, clock.now()
    audit.record(session, step.actor, "cycle.reported", "cycle", cycle.period)
