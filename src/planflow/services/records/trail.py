"""The audit trail read back: one search (filters, newest first, a page at a time) behind the audit
page, its CSV, the API's /audit and an activity's events, and the chain's head. Internal reading:
the authority says who may (access.UseCase.READ_INTERNAL), checked here, not by the callers.

Which plan: the trail is one chain for the whole installation, and most events do not say which
plan they belong to (an activity's events name it by its code, which each plan numbers alike).
A search by activity therefore finds the activity in one plan (plans.get_plan's rule: the default
plan unless one is named) and reads its deviations and its reports' tasks by their ids, which
are the plan's own; events that name the activity only by its code are left out when their data
names another plan, and are otherwise shared by the plans that use the same code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, or_, select
from sqlalchemy.orm import Session

from ... import clock
from ...i18n import Message
from ...models import Activity, ActivityProposal, AuditEvent, AuditHead, Deviation, StatusReport, User
from ..authority import access
from ..authority.access import UseCase
from ..errors import InvalidInput, NotFound
from ..plan import plans
from ..views.plain import PAGES_ONLY, sent
from .audit import Actor

AUDIT_PAGE = 50  # a page when the caller names no limit
AUDIT_PAGE_MAX = 200  # the most one page may hold
EXPORT_BATCH = 1000  # events read in one short transaction by a download (export)


@dataclass(frozen=True)
class EventView:
    seq: int
    occurred_at: datetime
    actor: str
    on_behalf_of: str | None
    role: str | None
    action: str
    subject_type: str
    subject_id: str
    data: dict[str, Any]
    reason: str | None
    hash: str
    # Who acted and for whom, by name, where a person did (the trail names people by username).
    actor_name: str | None = field(default=None, metadata=PAGES_ONLY)
    on_behalf_of_name: str | None = field(default=None, metadata=PAGES_ONLY)


def event_view(event: AuditEvent) -> EventView:
    """An audit event as a view: its fields of the same names (all but prev_hash)."""
    return EventView(**{f.name: getattr(event, f.name) for f in sent(EventView)})


def named(session: Session, views: list[EventView]) -> list[EventView]:
    """The events with the names of the people who acted and for whom (one read for them all)."""
    usernames = {v.actor for v in views} | {v.on_behalf_of for v in views if v.on_behalf_of}
    if not usernames:
        return views
    names = dict(
        session.execute(
            select(User.username, User.display_name).where(User.username.in_(sorted(usernames)))
        ).all()
    )
    return [
        replace(
            v,
            actor_name=names.get(v.actor),
            on_behalf_of_name=names.get(v.on_behalf_of) if v.on_behalf_of else None,
        )
        for v in views
    ]


@dataclass(frozen=True)
class AuditQuery:
    """What to look for; every filter is optional and they all hold together."""

    activity: str | None = None  # its code: the events about it (about_activity)
    plan: str | None = None  # the activity's plan, by slug (the default plan when None)
    actor: str | None = None  # a username: who acted, or on whose behalf
    action: str | None = None  # an action, or a family of them ending in "." ("deviation.")
    from_day: date | None = None  # from the start of this day in the installation's zone
    to_day: date | None = None  # to the end of this day in the installation's zone
    since: datetime | None = None  # at or after this moment
    until: datetime | None = None  # before this moment
    cursor: str | None = None  # next_cursor of the page before
    limit: int = AUDIT_PAGE  # 1..AUDIT_PAGE_MAX


@dataclass(frozen=True)
class AuditPage:
    items: list[EventView]  # newest first
    next_cursor: str | None  # where the next page starts, None on the last


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def _reader(session: Session, asking: User | Actor) -> None:
    access.require(session, Actor(asking) if isinstance(asking, User) else asking, UseCase.READ_INTERNAL)


def search(session: Session, asking: User | Actor, query: AuditQuery) -> AuditPage:
    """The events that match `query`, newest first, one page of at most `query.limit`."""
    _reader(session, asking)
    return _page(session, query)


def export(
    reading: Callable[[], AbstractContextManager[Session]],
    asking: Callable[[Session], User | Actor],
    query: AuditQuery,
) -> Iterator[EventView]:
    """Every event that matches `query` (its cursor and limit aside), newest first, for a download of any
    length: read EXPORT_BATCH at a time by sequence number, each batch in a short reading transaction
    of its own (`reading()`), so none stays open while the file is sent. The first batch is read
    at once (who asks, by `asking`, and the filters are checked before a byte is sent), the rest
    as iterated. What is exported is the trail as the first batch found it: a later event has a
    higher number than every event that batch saw, and the batches go down from there."""
    with reading() as session:
        _reader(session, asking(session))
        first = _batch(session, replace(query, cursor=None), EXPORT_BATCH)
    return _batches(reading, asking, query, EXPORT_BATCH, first)


def _batches(
    reading: Callable[[], AbstractContextManager[Session]],
    asking: Callable[[Session], User | Actor],
    query: AuditQuery,
    batch: int,
    found: AuditPage,
) -> Iterator[EventView]:
    while True:
        yield from found.items
        if found.next_cursor is None:
            return
        with reading() as session:
            _reader(session, asking(session))  # the authority may be gone since the last batch
            found = _batch(session, replace(query, cursor=found.next_cursor), batch)


def activity_events(session: Session, activity: Activity, limit: int) -> list[EventView]:
    """An activity's last `limit` events, newest first: the search by activity, for its story."""
    events = session.scalars(
        select(AuditEvent).where(about_activity(activity)).order_by(AuditEvent.seq.desc()).limit(limit)
    )
    return named(session, [event_view(e) for e in events])


def about_activity(activity: Activity) -> ColumnElement[bool]:
    """The events about an activity, and not about another plan's activity of the same code (an
    event names an activity by its code): those whose subject it is or whose data names it, when
    they name its plan or one of its reports, deviations or proposals; and those about its
    deviations, its proposals and its status reports' tasks."""
    code, data = activity.code, AuditEvent.data
    deviations = select(Deviation.id).where(Deviation.activity_id == activity.id)
    proposals = select(ActivityProposal.id).where(ActivityProposal.activity_id == activity.id)
    reports = select(StatusReport.id).where(StatusReport.activity_id == activity.id)
    by_code = or_(
        (AuditEvent.subject_type == "activity") & (AuditEvent.subject_id == code),
        data["activity"].as_string() == code,
    ) & or_(
        data["plan"].as_string() == activity.plan.slug,
        data["report"].as_integer().in_(reports.scalar_subquery()),
        data["deviation"].as_integer().in_(deviations.scalar_subquery()),
        data["proposal"].as_integer().in_(proposals.scalar_subquery()),
    )
    report_tasks = select(StatusReport.task_id).where(
        StatusReport.activity_id == activity.id, StatusReport.task_id.is_not(None)
    )

    def subject(kind: str, ids: Select[Any]) -> ColumnElement[bool]:
        return (AuditEvent.subject_type == kind) & AuditEvent.subject_id.in_(ids.scalar_subquery())

    return or_(
        by_code,
        subject("deviation", select(cast(Deviation.id, String)).where(Deviation.activity_id == activity.id)),
        subject(
            "proposal",
            select(cast(ActivityProposal.id, String)).where(ActivityProposal.activity_id == activity.id),
        ),
        subject("task", report_tasks),
    )


def _page(session: Session, query: AuditQuery) -> AuditPage:
    if not 1 <= query.limit <= AUDIT_PAGE_MAX:
        limits = Message("form.out_of_range", {"limit": f"1–{AUDIT_PAGE_MAX}"})
        raise InvalidInput("error.input.invalid", fields={"limit": limits})
    return _batch(session, query, query.limit)


def _batch(session: Session, query: AuditQuery, limit: int) -> AuditPage:
    """The next `limit` events that match `query` (from its cursor down), newest first."""
    conditions = _conditions(session, query)
    if conditions is None:
        return AuditPage([], None)
    events = session.scalars(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc()).limit(limit + 1)
    ).all()
    more = len(events) > limit
    events = events[:limit]
    views = named(session, [event_view(e) for e in events])
    return AuditPage(views, str(events[-1].seq) if more and events else None)


def _conditions(session: Session, query: AuditQuery) -> list[ColumnElement[bool]] | None:
    """The query's filters as conditions; None when nothing can match (no such activity)."""
    found: list[ColumnElement[bool]] = []
    if query.cursor is not None:
        if not query.cursor.isdigit() or len(query.cursor) > 18:
            raise InvalidInput("error.input.invalid", fields={"cursor": Message("form.cursor")})
        found.append(AuditEvent.seq < int(query.cursor))
    if query.activity:
        plan = plans.get_plan(session, query.plan)
        activity = session.scalar(
            select(Activity).where(Activity.plan_id == plan.id, Activity.code == query.activity)
        )
        if activity is None:
            return None
        found.append(about_activity(activity))
    if query.actor:
        found.append(or_(AuditEvent.actor == query.actor, AuditEvent.on_behalf_of == query.actor))
    if query.action:
        found.append(
            AuditEvent.action.startswith(query.action, autoescape=True)
            if query.action.endswith(".")
            else AuditEvent.action == query.action
        )
    if query.from_day is not None:
        found.append(AuditEvent.occurred_at >= _day_start(query.from_day, "from"))
    if query.to_day is not None:
        found.append(AuditEvent.occurred_at < _day_start(query.to_day, "to", 1))
    if query.since is not None:
        found.append(AuditEvent.occurred_at >= query.since)
    if query.until is not None:
        found.append(AuditEvent.occurred_at < query.until)
    return found


def _day_start(day: date, field: str, later: int = 0) -> datetime:
    """When `day` (plus `later` days) begins in the installation's zone, in UTC."""
    if not clock.valid_year(day.year):
        limits = Message("form.out_of_range", {"limit": f"{clock.FIRST_YEAR}–{clock.LAST_YEAR}"})
        raise InvalidInput("error.input.invalid", fields={field: limits})
    return datetime.combine(day + timedelta(days=later), time(), clock.zone()).astimezone(UTC)


def head(session: Session, asking: User | Actor) -> ChainHead:
    """The chain's latest event (sequence number and hash), for checkpoints kept elsewhere."""
    _reader(session, asking)
    found = session.get(AuditHead, 1)
    if found is None:
        raise NotFound("error.audit.no_head")
    return ChainHead(found.seq, found.hash)
