"""A person's calendar feed: the deadlines of the tasks in their inbox and the steering group's
meetings, for Outlook (or any calendar) to subscribe to. The feed's address holds a random secret;
only its SHA-256 is kept, and the operator can replace it (`planflow users calendar USERNAME`)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..i18n import text
from ..models import OpenTask, ReportingCycle, Role, RoleAssignment, SteeringMeeting, User
from . import access, audit, tasks
from .access import UseCase
from .audit import Actor
from .errors import NotFound, quote

# Who sees the steering group's meetings in their feed.
MEETING_ROLES = (Role.STEERING_GROUP, Role.STEERING_CHAIR, Role.PROCESS_LEADER)


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
    uid: str
    day: date
    summary: str
    description: str
    url: str | None


def events(session: Session, user: User, base_url: str) -> list[Event]:
    """The user's events, in the user's language: one per task deadline, one per steering meeting."""
    language = user.language
    found = []
    for task in tasks.inbox(session, user):
        if task.due_on is None:
            continue
        about = task.activity_code or task.period or ""
        found.append(
            Event(
                uid=f"task-{task.id}",
                day=task.due_on,
                summary=f"{task.title(language)} {about}".strip(),
                description=text(language, "calendar.task_deadline", {"period": task.period or "-"}),
                url=f"{base_url}/tasks/{task.id}",
            )
        )
    meets = session.scalar(
        select(RoleAssignment.id)
        .where(RoleAssignment.user_id == user.id, RoleAssignment.role.in_(MEETING_ROLES))
        .limit(1)
    )
    if meets is not None and user.active:
        planned = session.execute(
            select(OpenTask.id, OpenTask.due_on, ReportingCycle.period)
            .join(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
            .where(OpenTask.name == "steering_meeting", OpenTask.due_on.is_not(None))
        ).all()
        for task_id, due_on, period in planned:
            assert due_on is not None
            found.append(
                Event(
                    f"meeting-{task_id}",
                    due_on,
                    text(language, "calendar.steering_meeting", {"period": period}),
                    text(language, "calendar.steering_meeting_planned", {"period": period}),
                    f"{base_url}/tasks/{task_id}",
                )
            )
        held = session.execute(
            select(SteeringMeeting.id, SteeringMeeting.closed_at, ReportingCycle.period).join(
                ReportingCycle, ReportingCycle.id == SteeringMeeting.cycle_id
            )
        ).all()
        for meeting_id, closed_at, period in held:
            found.append(
                Event(
                    f"meeting-held-{meeting_id}",
                    closed_at.date(),
                    text(language, "calendar.steering_meeting", {"period": period}),
                    text(language, "calendar.steering_meeting_held", {"period": period}),
                    None,
                )
            )
    return sorted({e.uid: e for e in found}.values(), key=lambda e: (e.day, e.uid))
