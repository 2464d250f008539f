"""Human tasks: the inbox, completing a task in one transaction, claiming, reassigning, drafts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine import FormError
from ..models import Activity, FocusArea, OpenTask, ProcessInstance, Role, User
from . import access, annual, audit, cycles, deviations, instances, proposals, steps  # noqa: F401  (they register step handlers)
from .audit import Actor
from .errors import Conflict, Forbidden, InvalidInput, NotFound


@dataclass(frozen=True)
class TaskView:
    """An inbox row: what to do, about what, for whom, by when."""

    id: str
    name: str
    title: str
    process_id: str
    lane: str
    activity_code: str | None
    activity_title: str | None
    focus_area: int | None
    assignee: str | None
    claimed: bool
    due_on: date | None
    created_at: datetime


def inbox(session: Session, user: User, limit: int = 500) -> list[TaskView]:
    """The open tasks `user` may act on (its own, its group's, those of people it substitutes
    for), oldest first. One query over the projection; no workflow is deserialized."""
    rows = session.execute(
        select(OpenTask, Activity.code, Activity.title, FocusArea.number, User.username)
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(User, User.id == OpenTask.assignee_id)
        .where(access.inbox_filter(session, user))
        .order_by(OpenTask.due_on.is_(None), OpenTask.due_on, OpenTask.created_at, OpenTask.id)
        .limit(limit)
    ).all()
    return [
        TaskView(
            id=task.id,
            name=task.name,
            title=task.title,
            process_id=task.process_id,
            lane=task.lane,
            activity_code=code,
            activity_title=title,
            focus_area=area,
            assignee=assignee,
            claimed=task.claimed,
            due_on=task.due_on,
            created_at=task.created_at,
        )
        for task, code, title, area, assignee in rows
    ]


def _open_task(session: Session, task_id: str) -> OpenTask:
    task = session.get(OpenTask, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise Conflict(f"task {task_id} is not open: it was completed already, or never existed")
    return task


def _actor(session: Session, user: User, task: OpenTask) -> Actor:
    principal = access.acting_for(session, user, task)
    if principal is None:
        raise Forbidden(f"{user.username} may not act on task {task.id} ({task.title})")
    return Actor(user, principal if principal.id != user.id else None, task.lane)


def complete_task(session: Session, user: User, task_id: str, data: Any) -> None:
    """Complete a task: lock, check who acts, validate the form, run the engine, write the
    domain records, projections and audit event. The caller commits; any error leaves nothing
    changed."""
    task = _open_task(session, task_id)
    actor = _actor(session, user, task)
    chair = access.has_role(actor.principal or user, Role.STEERING_CHAIR)
    if task.name == "steering_meeting" and not chair:
        raise Forbidden("only the steering group's chair closes the meeting; members may save the minutes")
    form = instances.library().forms.get(task.name)
    try:
        clean = form.validate(data)
    except FormError as exc:
        raise InvalidInput(str(exc), exc.errors) from None
    steps.complete(session, actor, task, clean, form.fields)


def save_draft(session: Session, user: User, task_id: str, data: Any) -> None:
    """Keep fields of an open task without completing it (any member fills in the minutes)."""
    task = _open_task(session, task_id)
    actor = _actor(session, user, task)
    form = instances.library().forms.get(task.name)
    try:
        form.validate(data)
    except FormError as exc:
        errors = {f: m for f, m in exc.errors.items() if m != "is required"}
        if errors:
            raise InvalidInput(str(exc), errors) from None
    task.draft = {key: data[key] for key in form.fields if key in data}
    audit.record(session, actor, "task.draft_saved", "task", task.id, task.draft)


def claim(session: Session, user: User, task_id: str) -> None:
    """Take a group task, so that it is the user's alone until unclaimed."""
    task = _open_task(session, task_id)
    if task.assignee_id is not None:
        raise Conflict(f"task {task_id} is already assigned")
    actor = _actor(session, user, task)
    task.assignee_id, task.claimed = user.id, True
    audit.record(session, actor, "task.claimed", "task", task.id)


def unclaim(session: Session, user: User, task_id: str) -> None:
    """Give a claimed task back to its group."""
    task = _open_task(session, task_id)
    if not task.claimed or task.assignee_id != user.id:
        raise Conflict(f"task {task_id} is not claimed by {user.username}")
    task.assignee_id, task.claimed = None, False
    audit.record(session, Actor(user, None, task.lane), "task.unclaimed", "task", task.id)


def reassign(session: Session, admin: User, task_id: str, username: str | None, reason: str) -> None:
    """An admin gives a task to someone else (or back to its group with None)."""
    if not access.has_role(admin, Role.ADMIN):
        raise Forbidden("only an admin reassigns tasks")
    if not reason.strip():
        raise InvalidInput("say why the task is reassigned", {"reason": "must not be blank"})
    task = _open_task(session, task_id)
    target = None
    if username is not None:
        target = session.scalar(select(User).where(User.username == username, User.active))
        if target is None:
            raise NotFound(f"no active user {username!r}")
    task.assignee_id, task.claimed = (target.id if target else None), False
    audit.record(
        session, Actor(admin, None, "admin"), "task.reassigned", "task", task.id, {"to": username}, reason
    )


def task_form(session: Session, user: User, task_id: str) -> dict[str, Any]:
    """What a form needs: the schema, the saved draft, and the process data it is about."""
    task = session.get(OpenTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id} is not open")
    if access.acting_for(session, user, task) is None:
        raise Forbidden(f"{user.username} may not act on task {task_id}")
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None  # open tasks cascade with their instance
    context = instances.load(session, instance).task_data(task_id)
    return {
        "schema": instances.library().forms.get(task.name).schema,
        "draft": task.draft or {},
        "context": context,
    }
