"""A person's calendar feed: the deadlines of the tasks in their inbox and, for those who may read
the steering group's queue, its meetings, for Outlook (or any calendar) to subscribe to; all plans,
or one (`?plan=<slug>`). The feed's address holds a random secret; only its SHA-256 is kept, and
the operator can replace it (`planflow users calendar USERNAME`).

An event's UID (RFC 5545: the same event keeps it for good) names the event and this installation,
never the site's address: a site moved to another host keeps every subscriber's events, instead of
each showing twice."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...i18n import text
from ...models import (
    Activity,
    AnnualReport,
    AuditEvent,
    FocusArea,
    OpenTask,
    Plan,
    ProcessInstance,
    ReportingCycle,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..chain import tasks
from ..errors import NotFound, quote
from ..plan import plans
from ..records import audit
from ..records.audit import Actor
from ..views import meetings


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def rotate_secret(session: Session, actor: Actor, username: str) -> str:
    """A new feed secret for the user (the old address stops working); shown once."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("error.user.not_found", username=quote(username))
    secret = secrets.token_urlsafe(24)
    user.calendar_token_hash = _hash(secret)
    audit.record(session, actor, "user.calendar_rotated", "user", username)
    return secret


def user_for_secret(session: Session, secret: str) -> User | None:
    """The active user whose feed this is, or None."""
    if not 16 <= len(secret) <= 64:
        return None
    return session.scalar(select(User).where(User.calendar_token_hash == _hash(secret), User.active))


@dataclass(frozen=True)
class Event:
    uid: str  # unique in the world, the same wherever the site is served from
    day: date
    summary: str
    description: str
    url: str | None


def events(session: Session, user: User, base_url: str, plan_slug: str | None = None) -> list[Event]:
    """The user's events, in the user's language: one per deadline of a task in the user's inbox,
    and one per steering meeting, planned or held, when the user may read the steering group's
    queue (meetings.meetings asks the one authority). Without `plan_slug` the feed is the person's
    across plans, as the inbox is, and with more than one plan loaded a meeting names its plan;
    with it, the feed is that plan's (plans.get_plan: an unknown slug is NotFound)."""
    found = _task_events(session, user, base_url, plan_slug) + _meeting_events(
        session, user, base_url, plan_slug
    )
    site = _installation(session)
    unique = {e.uid: e for e in found}.values()
    return sorted((replace(e, uid=f"{e.uid}.{site}@planflow") for e in unique), key=lambda e: (e.day, e.uid))


def _installation(session: Session) -> str:
    """This installation, as an event's UID names it: the start of the first hash of its audit
    trail, which stays with the database when the site moves (its address does not) and differs
    between installations."""
    first = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq).limit(1))
    return first[:16] if first else "new"


def _task_events(session: Session, user: User, base_url: str, plan_slug: str | None) -> list[Event]:
    """One event per deadline of a task in the user's inbox (of the plan, when `plan_slug` names one)."""
    language = user.language
    plan_id = plans.get_plan(session, plan_slug).id if plan_slug else None
    inbox = [task for task in tasks.inbox(session, user) if task.due_on is not None]
    if plan_id is not None:
        of = _plans_of(session, [task.id for task in inbox])
        inbox = [task for task in inbox if of.get(task.id) == plan_id]
    found = []
    for task in inbox:
        assert task.due_on is not None
        # The activity by its code and title (a code alone says little in a calendar's grid).
        about = " ".join(filter(None, (task.activity_code, task.activity_title))) or task.period or ""
        found.append(
            Event(
                uid=f"task-{task.id}",
                day=task.due_on,
                summary=f"{task.title(language)} {about}".strip(),
                description=text(language, "calendar.task_deadline", {"period": task.period or "-"}),
                url=f"{base_url}/tasks/{task.id}",
            )
        )
    return found


def _meeting_events(session: Session, user: User, base_url: str, plan_slug: str | None) -> list[Event]:
    """One event per steering meeting, planned (linking to the steering page) or held, that the user
    may see; with more than one plan loaded and no `plan_slug`, a meeting names its plan."""
    language = user.language
    held = meetings.meetings(session, user, plan_slug, every_plan=plan_slug is None)
    several = plan_slug is None and session.scalar(select(func.count()).select_from(Plan)) != 1
    default = plans.get_plan(session).slug if held else None
    found = []
    for meeting in held:
        summary = text(language, "calendar.steering_meeting", {"period": meeting.period})
        if several:
            summary = text(
                language,
                "calendar.steering_meeting_of",
                {"period": meeting.period, "plan": meeting.plan_title},
            )
        steering = f"{base_url}/steering" + (f"?plan={meeting.plan}" if meeting.plan != default else "")
        if meeting.held:
            uid, words, url = f"meeting-held-{meeting.meeting_id}", "calendar.steering_meeting_held", None
        else:
            uid, words, url = f"meeting-{meeting.task_id}", "calendar.steering_meeting_planned", steering
        found.append(Event(uid, meeting.day, summary, text(language, words, {"period": meeting.period}), url))
    return found


def _plans_of(session: Session, task_ids: list[str]) -> dict[str, int]:
    """The plan each open task is about: its activity's, its cycle's, its focus area's (a
    proposal), or its annual report's."""
    if not task_ids:
        return {}
    rows = session.execute(
        select(
            OpenTask.id,
            func.coalesce(Activity.plan_id, ReportingCycle.plan_id, FocusArea.plan_id, AnnualReport.plan_id),
        )
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
        .outerjoin(
            AnnualReport,
            (ProcessInstance.subject_type == "annual_report")
            & (AnnualReport.id == ProcessInstance.subject_id),
        )
        .where(OpenTask.id.in_(task_ids))
    ).all()
    return {task_id: plan_id for task_id, plan_id in rows if plan_id is not None}
