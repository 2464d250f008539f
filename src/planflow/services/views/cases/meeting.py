"""The case of the steering group's meeting: the queue it decides over, the decisions taken on
the period's deviations, and what is still returned or pending."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....models import Activity, Decision, Deviation, DeviationState, User
from .. import meetings
from .builders import Task, builds, period_of
from .model import Case, MeetingDecision, MeetingSection, StillOpen

PERIOD_ROWS = 500  # a period's decisions, and its deviations still open, beside the minutes


@builds("steering_meeting")
def steering_meeting(session: Session, task: Task, case: Case) -> Case:
    cycle_id = task.task.cycle_id
    if cycle_id is None:
        return case
    period = period_of(session, cycle_id) or ""
    queue = tuple(meetings.agenda(session, task.task))
    decided = session.execute(
        select(Decision, Activity.code, Activity.title, User.display_name)
        .join(Deviation, (Decision.subject_type == "deviation") & (Decision.subject_id == Deviation.id))
        .join(Activity, Activity.id == Deviation.activity_id)
        .join(User, User.id == Decision.decided_by_id)
        .where(Deviation.cycle_id == cycle_id)
        .order_by(Decision.id)
        .limit(PERIOD_ROWS)
    ).all()
    decisions = tuple(
        MeetingDecision(code, title, d.decision, d.rationale, name, d.decided_at)
        for d, code, title, name in decided
    )
    sent_back = {d.subject_id for d, *_ in decided if d.decision == "return"}
    queued = {item.deviation_id for item in queue}
    pending = session.execute(
        select(Deviation, Activity.code, Activity.title)
        .join(Activity, Activity.id == Deviation.activity_id)
        .where(Deviation.cycle_id == cycle_id, Deviation.state != DeviationState.DECIDED)
        .order_by(Activity.code, Deviation.id)
        .limit(PERIOD_ROWS)
    ).all()
    still_open = tuple(
        StillOpen(code, title, d.level, d.state.value, d.id in sent_back)
        for d, code, title in pending
        if d.id not in queued
    )
    section = MeetingSection(period, queue, decisions, still_open)
    return replace(case, subject_code=period, meeting=section)
