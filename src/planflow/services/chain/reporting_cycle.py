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
from ...i18n import Message
from ...models import BusinessDialogue, CycleState, ReportingCycle, SteeringMeeting
from ..errors import InvalidInput, quote
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
    dialogue = BusinessDialogue(
        cycle_id=cycle.id,
        forums=data["forums"],
        held_on=date.fromisoformat(data["held_on"]),
        heard=data["heard"],
        ideas=data.get("ideas"),
        recorded_by_id=step.by.id,
        recorded_at=clock.now(),
    )
    session.add(dialogue)
    recorded = {"cycle": cycle.id, "recorded_at": dialogue.recorded_at.isoformat()}
    audit.record(session, step.actor, "dialogue.recorded", "cycle", cycle.period, data | recorded)


@on_complete("steering_meeting")
def _meeting_closed(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The chair closes the meeting with its minutes and priorities. It decides nothing itself: the
    group's decisions on deviations are each recorded through its own decision task. It closes
    only when every deviation of the plan not yet decided (awaiting the group, returned to the
    process leader, or still being prepared) is accounted for: decided first, or named by the chair
    in `left_open`, which the minutes then list. Raised before the engine's move is saved, so the
    page, the API and every other way of completing the task are refused alike."""
    cycle = cycle_of(session, step)
    still_open = deviations.unsettled(session, cycle.plan_id)
    left_open = _left_open(still_open, data.get("left_open") or [])
    unaccounted = [item for item in still_open if item.deviation_id not in left_open]
    if unaccounted:
        raise InvalidInput(
            "error.steering.undecided",
            fields={"left_open": Message("form.steering.decide_or_leave_open")},
            activities=[_naming(item) for item in unaccounted],
            count=len(unaccounted),
        )
    minutes = [
        {
            "deviation": item.deviation_id,
            "activity": item.activity_code,
            "state": item.state.value,
            "stands": item.stands,
        }
        for item in still_open
    ]
    meeting = SteeringMeeting(
        cycle_id=cycle.id,
        notes=data["notes"],
        priorities=data.get("priorities"),
        left_open=minutes,
        closed_by_id=step.by.id,
        closed_at=clock.now(),
    )
    session.add(meeting)
    audit.record(
        session,
        step.actor,
        "steering.meeting_closed",
        "cycle",
        cycle.period,
        {
            "notes": data["notes"],
            "priorities": data.get("priorities"),
            "left_open": [item["activity"] for item in minutes],
            "cycle": cycle.id,
            "closed_at": meeting.closed_at.isoformat(),
        },
    )


def _naming(item: deviations.Unsettled) -> Message:
    """An open deviation as a refusal names it: its activity and where it stands."""
    return Message(
        "error.steering.open_item",
        {"activity": item.activity_code, "stands": {"key": f"deviation.stands.{item.stands}"}},
    )


def _left_open(still_open: list[deviations.Unsettled], codes: list[str]) -> set[int]:
    """The deviations the chair names (by activity code) as left open to the next meeting; a code
    that is not one of them is refused, naming the ones that are."""
    by_code = {item.activity_code: item.deviation_id for item in still_open}
    wrong = [code for code in codes if code not in by_code]
    if wrong:
        choices = ", ".join(by_code) or "–"
        raise InvalidInput(
            "error.steering.not_open",
            fields={"left_open": Message("form.steering.not_open", {"choices": choices})},
            activities=", ".join(quote(code) for code in wrong),
        )
    return {by_code[code] for code in codes}


@on_passed("cycle_reported")
def _cycle_reported(session: Session, step: Step) -> None:
    cycle = cycle_of(session, step)
    cycle.state, cycle.reported_at = CycleState.REPORTED, clock.now()
    audit.record(session, step.actor, "cycle.reported", "cycle", cycle.period)
