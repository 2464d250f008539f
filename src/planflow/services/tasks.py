"""Human tasks: the inbox, completing a task in one transaction, claiming, reassigning, drafts.
Who may act on a task is access.task_condition's to say, here and in the inbox alike."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from .. import clock
from ..engine import FormError
from ..i18n import Message, text
from ..models import (
    Activity,
    FocusArea,
    IdempotencyKey,
    OpenTask,
    ProcessInstance,
    ReportingCycle,
    User,
)
from . import access, audit, history, instances, steps
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

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < clock.now().date()


@dataclass(frozen=True)
class InboxPage:
    items: list[TaskView]
    next_cursor: str | None


def inbox_page(
    session: Session,
    user: User,
    language: str | None = None,
    role: str | None = None,
    period: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> InboxPage:
    """A page of the inbox (same order and same authority as `inbox`), filtered by lane (`role`),
    period, being overdue, and `q` in the activity's code or title or the task's title in
    `language`; `next_cursor` continues after its last task."""
    query = _task_rows().where(access.task_condition(session, access.represented(session, user)))
    today = clock.now().date()
    if role is not None:
        query = query.where(OpenTask.lane == role)
    if period is not None:
        query = query.where(ReportingCycle.period == period)
    if overdue is not None:
        late = OpenTask.due_on < today
        query = query.where(late if overdue else or_(OpenTask.due_on.is_(None), OpenTask.due_on >= today))
    if q:
        needle = q.casefold()
        titled = [
            n for n in instances.library().forms.forms if needle in text(language, f"task.{n}").casefold()
        ]
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Activity.code.ilike(pattern, escape="\\"),
                Activity.title.ilike(pattern, escape="\\"),
                OpenTask.name.in_(titled),
            )
        )
    if cursor is not None:
        query = query.where(_after(cursor))
    rows = session.execute(query.limit(limit + 1)).all()
    views = _views(rows[:limit])
    last = rows[limit - 1][0] if len(rows) > limit else None
    return InboxPage(views, _cursor(last) if last is not None else None)


def _cursor(task: OpenTask) -> str:
    key = [task.due_on.isoformat() if task.due_on else None, task.created_at.isoformat(), task.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _after(cursor: str) -> ColumnElement[bool]:
    """The tasks after the one a cursor names, in the inbox's order."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due_text, created_text, task_id = raw
        due = date.fromisoformat(due_text) if due_text is not None else None
        created = datetime.fromisoformat(created_text)
        if not isinstance(task_id, str) or created.tzinfo is None:
            raise ValueError(task_id)
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise InvalidInput("error.input.invalid", fields={"cursor": Message("form.cursor")}) from None
    later = or_(
        OpenTask.created_at > created,
        and_(OpenTask.created_at == created, OpenTask.id > task_id),
    )
    if due is None:
        return and_(OpenTask.due_on.is_(None), later)
    return or_(
        OpenTask.due_on.is_(None),
        OpenTask.due_on > due,
        and_(OpenTask.due_on == due, later),
    )


def _task_rows() -> Any:  # a Select of (OpenTask, code, title, area, period, assignee)
    return (
        select(
            OpenTask, Activity.code, Activity.title, FocusArea.number, ReportingCycle.period, User.username
        )
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
        .outerjoin(User, User.id == OpenTask.assignee_id)
        .order_by(OpenTask.due_on.is_(None), OpenTask.due_on, OpenTask.created_at, OpenTask.id)
    )


def inbox(session: Session, user: User, limit: int = INBOX_LIMIT) -> list[TaskView]:
    """The open tasks `user` may act on now (its own, its group's, those of people it substitutes
    for), soonest due first. One query over the projection; no workflow is deserialized."""
    query = _task_rows().where(access.task_condition(session, access.represented(session, user)))
    return _views(session.execute(query.limit(limit)).all())


def _views(rows: Sequence[Any]) -> list[TaskView]:
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


def complete_task(session: Session, user: User, task_id: str, data: Any) -> dict[str, Any]:
    """Complete a task: lock it, check who acts, validate the form, run the engine, write the
    domain records, projections and audit event. The caller commits; any error leaves nothing
    changed. Returns what was done, by whom (for whom)."""
    task = _open_task(session, task_id)
    actor = access.task_actor(session, user, task)
    clean = _validated(task.name, data)
    steps.complete(session, actor, task, clean, instances.library().forms.get(task.name).fields)
    return {
        "id": task_id,
        "name": task.name,
        "process": task.process_id,
        "completed": True,
        "completed_at": clock.now().isoformat(),
        "completed_by": user.username,
        "on_behalf_of": actor.on_behalf_of.username if actor.on_behalf_of else None,
    }


def complete_once(session: Session, user: User, task_id: str, data: Any, key: str | None) -> dict[str, Any]:
    """Complete a task; with an idempotency key, a retry of the same request by the same user (a
    lost response) answers what the first completion answered, instead of "already done". The
    key is stored in the same transaction as the completion."""
    if key is None:
        return complete_task(session, user, task_id, data)
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise InvalidInput("error.input.invalid", fields={"Idempotency-Key": Message("form.idempotency_key")})
    fingerprint = hashlib.sha256(
        json.dumps([task_id, data], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    first = _remembered(session, user, key, fingerprint)
    if first is not None:
        return first
    try:
        result = complete_task(session, user, task_id, data)
    except Conflict:
        # The first attempt may have committed while this one waited for the task's lock.
        first = _remembered(session, user, key, fingerprint)
        if first is not None:
            return first
        raise
    try:
        with session.begin_nested():
            session.add(
                IdempotencyKey(
                    user_id=user.id,
                    key=key,
                    request_hash=fingerprint,
                    response=result,
                    created_at=clock.now(),
                )
            )
    except IntegrityError:  # the same key, used at once for another task: that one came first
        raise Conflict("error.task.idempotency_race") from None
    return result


def _remembered(session: Session, user: User, key: str, fingerprint: str) -> dict[str, Any] | None:
    stored = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    )
    if stored is None:
        return None
    if stored.request_hash != fingerprint:
        raise InvalidInput(
            "error.task.idempotency_reused", fields={"Idempotency-Key": Message("form.idempotency_key_used")}
        )
    return dict(stored.response)


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
    view = _views(session.execute(_task_rows().where(OpenTask.id == task_id)).all())[0]
    activity = session.get(Activity, task.activity_id) if task.activity_id is not None else None
    deviated = history.deviations(session, activity.id) if activity is not None else []
    deviation = next(
        (d for d in deviated if instance.subject_type == "deviation" and d.id == instance.subject_id), None
    )
    earlier = history.decisions_on(session, instance.subject_type or "", [instance.subject_id or -1])
    if instance.subject_type != "deviation":
        earlier += [x for d in deviated for x in d.decisions]
    return {
        "name": task.name,
        "task": view,
        "schema": instances.library().forms.get(task.name).schema,
        "draft": task.draft or {},
        "context": context,
        "activity": None
        if activity is None
        else {
            "code": activity.code,
            "title": activity.title,
            "owner": activity.owner.username if activity.owner else None,
            "office": activity.office,
            "status": activity.status.value if activity.status else None,
            "state": activity.state.value,
        },
        "recent_reports": history.to_json(history.reports(session, activity.id, 5) if activity else []),
        "deviation": history.to_json(deviation),
        "decisions": history.to_json(earlier),
    }
