"""Human tasks: the inbox, completing a task in one transaction (once per key: idempotency), claiming,
reassigning, drafts. Who may act on a task is access.task_condition's to say, here and in the inbox
alike."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, false, func, literal, or_, select, tuple_, union
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from ... import clock
from ...engine import FormError
from ...i18n import Message, text
from ...models import (
    NEVER_DUE,
    Activity,
    FocusArea,
    OpenTask,
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import Conflict, InvalidInput, NotFound, quote
from ..records import audit
from ..records.audit import Actor
from ..views import cases, history
from ..views.plain import PAGES_ONLY
from . import arrivals, instances, steps

INBOX_LIMIT = 500
COMMENT_START = 80  # a review's row shows the start of the report's comment, about this long
COMMENT_READ = 4 * COMMENT_START  # of which the inbox reads no more than this
INBOX_COUNT_CAP = 1000
SEARCH_FEW_ACTIVITIES = 200  # the activities a text search names, given as values up to this many
# The inbox's order, which the indexes ix_open_task_inbox* serve: soonest due, undated last, oldest.
INBOX_ORDER = (OpenTask.due_key, OpenTask.created_at, OpenTask.id)


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
    assignee_name: str | None = field(default=None, metadata=PAGES_ONLY)  # a person by name, on pages
    # Who sent the task back (their name), when it was returned: views.cases.returned_by_column.
    returned_by: str | None = field(default=None, metadata=PAGES_ONLY)
    # A review's report: its colour and the start of its comment (COMMENT_START characters or so).
    reported_status: str | None = None
    report_comment: str | None = None
    # A group's task, to be claimed by one of it; else one person's, theirs without a claim
    # (access.shared_tasks).
    shared: bool = False

    def title(self, language: str | None) -> str:
        return text(language, f"task.{self.name}")

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < clock.today()


@dataclass(frozen=True)
class InboxPage:
    items: list[TaskView]
    next_cursor: str | None


def inbox_page(
    session: Session,
    user: User | access.Standing,
    language: str | None = None,
    role: str | None = None,
    period: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> InboxPage:
    """A page of the open tasks `user` may act on now (its own, its group's, those of people it
    substitutes for), soonest due first, filtered by lane (`role`), period, being overdue, and `q`
    in the activity's code or title or the task's title in `language`; `next_cursor` continues
    after its last task. No workflow is deserialized. `user` may be its standing, already read
    (access.standing), where a page asks the authority more than once."""
    filters = _inbox_filters(session, language, role, period, overdue, q, cursor)
    page = _first_keys(session, user, filters, limit + 1)
    if page is None:
        return InboxPage([], None)
    query = _task_rows().join(page, page.c.id == OpenTask.id).order_by(*INBOX_ORDER).limit(limit + 1)
    rows = session.execute(query).all()
    views = _views(session, rows[:limit])
    last = rows[limit - 1][0] if len(rows) > limit else None
    return InboxPage(views, _cursor(last) if last is not None else None)


def _inbox_filters(
    session: Session,
    language: str | None,
    role: str | None,
    period: str | None,
    overdue: bool | None,
    q: str | None,
    cursor: str | None,
) -> list[ColumnElement[bool]]:
    """inbox_page's conditions on the open tasks, beside the authority's: lane, period, being
    overdue, the search `q`, and where the page before ended."""
    filters: list[ColumnElement[bool]] = []
    if role is not None:
        filters.append(OpenTask.lane == role)
    if period is not None:
        filters.append(
            OpenTask.cycle_id.in_(select(ReportingCycle.id).where(ReportingCycle.period == period))
        )
    if overdue is not None:
        today = clock.today()
        filters.append(OpenTask.due_key < today if overdue else OpenTask.due_key >= today)
    if q:
        filters.append(_search(session, language, q))
    if cursor is not None:
        filters.append(_after(cursor))
    return filters


def _search(session: Session, language: str | None, q: str) -> ColumnElement[bool]:
    """The tasks `q` finds: in the code or title of their activity, or in their title in `language`."""
    needle = q.casefold()
    titled = [n for n in instances.library().forms.forms if needle in text(language, f"task.{n}").casefold()]
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    named = select(Activity.id).where(
        or_(Activity.code.ilike(pattern, escape="\\"), Activity.title.ilike(pattern, escape="\\"))
    )
    # The activities named are looked up first, so that a search naming no activity and no
    # task title reads nothing (else it walks the whole inbox to find so: 106 → 2 ms at
    # 100,000 open tasks), and a few are given as values.
    few = session.scalars(named.limit(SEARCH_FEW_ACTIVITIES + 1)).all()
    conditions = (
        [OpenTask.activity_id.in_(few if len(few) <= SEARCH_FEW_ACTIVITIES else named)] if few else []
    )
    conditions += [OpenTask.name.in_(titled)] if titled else []
    return or_(*conditions) if conditions else false()


def inbox(session: Session, user: User | access.Standing, limit: int = INBOX_LIMIT) -> list[TaskView]:
    """The first `limit` tasks of `user`'s inbox, in its order."""
    return inbox_page(session, user, limit=limit).items


def inbox_rows(session: Session, user: User | access.Standing, task_ids: Sequence[str]) -> list[TaskView]:
    """Those of the tasks `task_ids` that `user` may act on now, as the inbox shows them (in no
    particular order): the rows a page picked from the inbox, read again."""
    if not task_ids:
        return []
    condition = access.standing(session, user).task_condition()
    rows = session.execute(_task_rows().where(OpenTask.id.in_(list(task_ids)), condition)).all()
    return _views(session, rows)


def inbox_count(session: Session, user: User | access.Standing) -> int:
    """How many open tasks `user` may act on now, counted up to INBOX_COUNT_CAP (a header shows
    "999+" beyond it): the count on every page stays a bounded read however full the inbox."""
    condition = access.standing(session, user).task_condition()
    some = select(OpenTask.id).where(condition).limit(INBOX_COUNT_CAP).subquery()
    return session.scalar(select(func.count()).select_from(some)) or 0


def _first_keys(
    session: Session, user: User | access.Standing, filters: list[ColumnElement[bool]], limit: int
) -> Subquery | None:
    """The order keys of the first `limit` tasks `user` may act on that pass `filters`: each branch
    of the authority's condition read in order along its own index and cut at `limit`, then
    merged (a task two branches reach counts once). The database never sorts a whole inbox."""
    branches = access.standing(session, user).task_branches()
    if not branches:
        return None
    walks = [
        select(*INBOX_ORDER).where(branch, *filters).order_by(*INBOX_ORDER).limit(limit).subquery()
        for branch in branches
    ]
    if len(walks) == 1:
        return walks[0]
    return union(*(select(*walk.c) for walk in walks)).subquery("inbox_keys")


def _cursor(task: OpenTask) -> str:
    key = [task.due_key.isoformat(), task.created_at.isoformat(), task.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _after(cursor: str) -> ColumnElement[bool]:
    """The tasks after the one a cursor names, in the inbox's order."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due_text, created_text, task_id = raw
        due = date.fromisoformat(due_text) if due_text is not None else NEVER_DUE
        created = datetime.fromisoformat(created_text)
        if not isinstance(task_id, str) or created.tzinfo is None:
            raise ValueError(task_id)
        uuid.UUID(task_id)  # a task's id, nothing else reaches the query (a NUL failed on PostgreSQL)
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise InvalidInput("error.input.invalid", fields={"cursor": Message("form.cursor")}) from None
    return tuple_(*INBOX_ORDER) > tuple_(
        *(
            literal(value, column.type)
            for value, column in zip((due, created, task_id), INBOX_ORDER, strict=True)
        )
    )


_PENDING = aliased(StatusReport, name="pending_report")


def _task_rows() -> Any:
    """A Select of the rows _views makes tasks of: (OpenTask, code, title, area, period, assignee,
    their name, who returned it, the activity's owner, and a review's pending report: colour, comment's start,
    reporter). A review's report is its activity's pending one in the task's cycle (as the review's
    handler finds it), found by its id for the page's rows alone."""
    pending = (
        select(func.max(StatusReport.id))
        .where(
            StatusReport.activity_id == OpenTask.activity_id,
            StatusReport.cycle_id == OpenTask.cycle_id,
            StatusReport.review == ReviewOutcome.PENDING,
        )
        .correlate(OpenTask)
        .scalar_subquery()
    )
    return (
        select(
            OpenTask,
            Activity.code,
            Activity.title,
            FocusArea.number,
            ReportingCycle.period,
            User.username,
            User.display_name,
            cases.returned_by_column(),
            Activity.owner_id,
            _PENDING.status,
            func.substr(_PENDING.comment, 1, COMMENT_READ),
            _PENDING.reporter_id,
        )
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
        .outerjoin(User, User.id == OpenTask.assignee_id)
        .outerjoin(_PENDING, and_(OpenTask.name.in_(access.REVIEWS), _PENDING.id == pending))
    )


def comment_start(comment: str | None, limit: int = COMMENT_START) -> str | None:
    """The start of a comment for a list: its first `limit` characters or so, cut after a whole
    word where one ends near there, with "…" when there is more; on one line."""
    if not comment:
        return None
    flat = " ".join(comment.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,.;:") + "…"


def _views(session: Session, rows: Sequence[Any]) -> list[TaskView]:
    facts = [
        access.TaskFacts(task.id, task.name, task.lane, task.focus_area_id, task.assignee_id, owner, reporter)
        for task, *_, owner, _status, _comment, reporter in rows
    ]
    shared = access.shared_tasks(session, facts)
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
            assignee_name=assignee_name,
            returned_by=returned_by,
            reported_status=status.value if status is not None else None,
            report_comment=comment_start(comment),
            shared=task.id in shared,
        )
        for task, code, title, area, period, assignee, assignee_name, returned_by, _, status, comment, _ in (
            rows
        )
    ]


def code_order(code: str | None) -> tuple[tuple[int, int | str], ...]:
    """An activity code's place in the plan's order: 1.2.10 after 1.2.9; no code last."""
    if code is None:
        return ((2, ""),)
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in code.split("."))


def _open_task(session: Session, task_id: str) -> OpenTask:
    task = session.get(OpenTask, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise already_done(session, task_id)
    return task


def already_done(session: Session, task_id: str) -> Conflict:
    """The refusal of an act on a task that is not open: who completed it and when, where that is
    known (every kind of task), else that it is not open."""
    done = history.completed_by(session, task_id)
    if done is None:
        return Conflict("error.task.not_open", task=quote(task_id))
    return Conflict(
        "error.task.done_by",
        task={"key": f"task.{done.name}"} if done.name else quote(task_id),
        by=done.by,
        at=clock.local(done.at).strftime("%Y-%m-%d %H:%M"),
    )


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
    arrivals.expect(session, [task.id])  # the one it is given to is told (once per task and person)


@dataclass(frozen=True)
class DoneTask:
    """A task no longer open: who completed it (their name), when, and, where known, which task
    it was (its form's name) and for whom a substitute did it."""

    id: str
    by: str
    at: datetime
    name: str | None = None
    on_behalf_of: str | None = None


def show_task(session: Session, user: User, task_id: str) -> dict[str, Any] | DoneTask:
    """A task as `user` may see it: an open one with its form and context, for someone who may act
    on it now (task_detail); a completed one, who completed it and when, for someone who may read
    the municipality's own records (UseCase.READ_INTERNAL: everyone who could have acted on it,
    never an outsider, who is refused whether or not the task exists). NotFound otherwise."""
    if session.get(OpenTask, task_id) is not None:
        return task_detail(session, user, task_id)
    access.require(session, Actor(user), UseCase.READ_INTERNAL)
    done = history.completed_by(session, task_id)
    if done is None:
        raise NotFound("error.task.not_open", task=quote(task_id))
    return DoneTask(task_id, done.by, done.at, done.name, done.on_behalf_of)


def task_detail(session: Session, user: User, task_id: str) -> dict[str, Any]:
    """What a form needs: the schema, the saved draft, the process data, and the case it decides
    on (views.cases: the same view the page shows beside the form)."""
    task = session.get(OpenTask, task_id)
    if task is None:
        raise NotFound("error.task.not_open", task=quote(task_id))
    access.task_actor(session, user, task)
    instance = session.get(ProcessInstance, task.instance_id)
    assert instance is not None  # open tasks cascade with their instance
    context = instances.load(session, instance).task_data(task_id)
    view = _views(session, session.execute(_task_rows().where(OpenTask.id == task_id)).all())[0]
    return {
        "name": task.name,
        "task": view,
        "schema": instances.library().forms.get(task.name).schema,
        "draft": task.draft or {},
        "context": context,
        "case": cases.case_of(session, user, task_id),
    }
