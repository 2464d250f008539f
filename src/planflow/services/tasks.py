"""Human tasks: the inbox, completing a task in one transaction, claiming, reassigning, drafts.
Who may act on a task is access.task_condition's to say, here and in the inbox alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine import FormError
from ..i18n import Message, text
from ..models import Activity, FocusArea, OpenTask, ProcessInstance, ReportingCycle, User
from . import access, audit, instances, steps
from .access import UseCase
from .audit import Actor
from .errors import Conflict, InvalidInput, NotFound, quote

INBOX_LIMIT = 500


@dataclass(frozen=True)
class TaskView:
    """An inbox row: what to do, about what, for whom, by when."""

    id: str
    name: str  # the user task's id: its title and form are named by it
    process_id: str
    lane: str
    activity_code: str | None
    activity_title: str | None
    focus_area: int | None
    period: str | None
    assignee: str | None
    claimed: bool
    due_on: date | None
    created_at: datetime

    def title(self, language: str | None) -> str:
        return text(language, f"task.{self.name}")


def inbox(session: Session, user: User, limit: int = INBOX_LIMIT) -> list[TaskView]:
    """The open tasks `user` may act on now (its own, its group's, those of people it substitutes
    for), soonest due first. One query over the projection; no workflow is deserialized."""
    rows = session.execute(
        select(
            OpenTask, Activity.code, Activity.title, FocusArea.number, ReportingCycle.period, User.username
        )
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
        .outerjoin(User, User.id == OpenTask.assignee_id)
        .where(access.task_condition(session, access.represented(session, user)))
        .order_by(OpenTask.due_on.is_(None), OpenTask.due_on, OpenTask.created_at, OpenTask.id)
        .limit(limit)
    ).all()
    return [
        TaskView(
            id=task.id,
            name=task.name,
            process_id=task.process_id,
            lane=task.lane,
            activity_code=code,
            activity_title=title,
            focus_area=area,
            period=period,
            assignee=assignee,
            claimed=task.claimed,
            due_on=task.due_on,
            created_at=task.created_at,
        )
        for task, code, title, area, period, assignee in rows
    ]


def inbox_count(session: Session, user: User) -> int:
    """How many open tasks `user` may act on now (the header's count): the inbox's condition."""
    condition = access.task_condition(session, access.represented(session, user))
    return session.scalar(select(func.count()).select_from(OpenTask).where(condition)) or 0


def _open_task(session: Session, task_id: str) -> OpenTask:
    task = session.get(OpenTask, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise Conflict("error.task.not_open", task=quote(task_id))
    return task


def _validated(form_name: str, data: Any) -> dict[str, Any]:
    form = instances.library().forms.get(form_name)
    try:
        return form.validate(data)
    except FormError as exc:
        raise InvalidInput("error.form.invalid", fields=exc.errors) from None


def complete_task(session: Session, user: User, task_id: str, data: Any) -> None:
    """Complete a task: lock it, check who acts, validate the form, run the engine, write the
    domain records, projections and audit event. The caller commits; any error leaves nothing
    changed."""
    task = _open_task(session, task_id)
    actor = access.task_actor(session, user, task)
    clean = _validated(task.name, data)
    steps.complete(session, actor, task, clean, instances.library().forms.get(task.name).fields)


def save_draft(session: Session, user: User, task_id: str, data: Any) -> None:
    """Keep fields of an open task without completing it (the minutes, written over days)."""
    task = _open_task(session, task_id)
    actor = access.task_actor(session, user, task)
    form = instances.library().forms.get(task.name)
    try:
        form.validate(data)
    except FormError as exc:
        errors = {f: m for f, m in exc.errors.items() if m.key != "form.required"}
        if errors:
            raise InvalidInput("error.form.invalid", fields=errors) from None
    task.draft = {key: data[key] for key in form.fields if key in data}
    audit.record(session, actor, "task.draft_saved", "task", task.id, task.draft)


def claim(session: Session, user: User, task_id: str) -> None:
    """Take a group task, so that it is the claimer's alone until unclaimed. A substitute claims
    it for the person it stands in for, so the task stays theirs when the substitution ends."""
    task = _open_task(session, task_id)
    if task.assignee_id is not None:
        raise Conflict("error.task.already_assigned", task={"key": f"task.{task.name}"})
    actor = access.task_actor(session, user, task)
    task.assignee_id, task.claimed = (actor.principal or user).id, True
    audit.record(session, actor, "task.claimed", "task", task.id)


def unclaim(session: Session, user: User, task_id: str) -> None:
    """Give a claimed task back to its group."""
    task = _open_task(session, task_id)
    actor = access.task_actor(session, user, task)
    if not task.claimed or task.assignee_id != (actor.principal or user).id:
        raise Conflict("error.task.not_claimed", task={"key": f"task.{task.name}"}, user=user.username)
    task.assignee_id, task.claimed = None, False
    audit.record(session, actor, "task.unclaimed", "task", task.id)


def reassign(session: Session, admin: Actor, task_id: str, username: str | None, reason: str) -> None:
    """An admin gives a task to someone who may do it (or back to its group with None)."""
    actor = access.require(session, admin, UseCase.MANAGE_PEOPLE)
    if not reason.strip():
        raise InvalidInput("error.input.invalid", fields={"reason": Message("form.blank")})
    task = _open_task(session, task_id)
    target = None
    if username is not None:
        target = session.scalar(select(User).where(User.username == username, User.active))
        if target is None:
            raise NotFound("error.user.not_found", username=quote(username))
    task.assignee_id, task.claimed = (target.id if target else None), False
    session.flush()
    if target is not None and access.acting_for(session, target, task.id) is None:
        raise InvalidInput(
            "error.task.reassign_without_right",
            username=target.username,
            task={"key": f"task.{task.name}"},
            reason={"key": f"access.lane.{task.lane}"},
        )
    audit.record(session, actor, "task.reassigned", "task", task.id, {"to": username}, reason)


def task_detail(session: Session, user: User, task_id: str) -> dict[str, Any]:
    """What a form needs: the schema, the saved draft, and the process data it is about."""
    task = session.get(OpenTask, task_id)
    if task is None:
        raise NotFound("error.task.not_open", task=quote(task_id))
    access.task_actor(session, user, task)
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None  # open tasks cascade with their instance
    context = instances.load(session, instance).task_data(task_id)
    return {
        "name": task.name,
        "schema": instances.library().forms.get(task.name).schema,
        "draft": task.draft or {},
        "context": context,
    }
