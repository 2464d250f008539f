"""Reminders before a task's deadline, reminders while it is overdue, and overdue tasks escalated
up the chain: to the focus-area lead, then to the process leader. Counted in working days.

A run looks only at the days since the last run (JobMark "reminders"): for each reminder day in
(last, today] it reads the tasks whose deadline puts a reminder on that day, by the index on
open_task.due_on. So a day with nothing due reads nothing, whatever the number of open tasks, and
a run after a pause (or `tick --at` months ahead) catches up on the days in between. Every notice
has a key per task and step, so a run repeated, or racing another, adds nothing twice.

Whose turn a task is, is the authority's to say (access.who_may_act, the inbox's own rule): a
reminder goes to everyone who may act on the task now. An assignee who has lost the right gets
none; a substitute in force is reminded along with the person it stands in for (whose notices wait
for their return, or reach them where they read mail while away): a deadline is never missed
because the one told of it was away, nor for want of someone to tell."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from ...models import Activity, FocusArea, JobMark, OpenTask, ReportingCycle, Role, RoleAssignment, User
from .. import workdays
from ..authority import access
from ..outputs import notices
from ..records import audit
from ..records.audit import SYSTEM_ACTOR
from .timers import Transaction

MARK = "reminders"
# Overdue reminders stop after this many working days; by then two escalations have gone out.
OVERDUE_HORIZON = 60
# Tasks read and reminded per transaction.
CHUNK = 2000


@dataclass(frozen=True)
class ReminderRules:
    before_deadline: tuple[int, ...] = (1, 7)  # working days before a deadline, ascending
    overdue_every: int = 5  # working days between reminders of an overdue task
    overdue_to_lead: int = 3  # working days overdue: escalated to the focus-area lead
    overdue_to_process_leader: int = 10  # ... and to the process leader


def _deadlines(last: date, today: date, step: Any, low: date, high: date) -> tuple[date, date] | None:
    """The deadlines d in [low, high] whose step day, step(d), falls in (last, today]: a range,
    since step is non-decreasing."""
    found = [d for d in _days(low, high) if last < step(d) <= today]
    return (found[0], found[-1]) if found else None


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def send_reminders(
    transaction: Transaction, reading: Transaction, rules: ReminderRules, today: date
) -> dict[str, int]:
    """Queue what is due on the days since the last run, up to `today`; returns what was queued.
    (`reading`: a read-only unit of work, which on SQLite never waits for a writer.)"""
    with reading() as session:
        mark = session.get(JobMark, MARK)
        last = mark.through if mark else today - timedelta(days=1)
    counts = {
        "reminders": 0,
        "overdue_reminders": 0,
        "escalated_to_lead": 0,
        "escalated_to_process_leader": 0,
    }
    if last >= today:
        return counts
    before = _before_windows(rules, last, today)
    overdue = _overdue_windows(rules, last, today)
    # One indexed read says which of the windows hold any open task at all; only those are worked.
    windows = [w for _, w in before + overdue]
    due = _due_dates(reading, windows) if windows else set()

    def has_tasks(window: tuple[date, date]) -> bool:
        return any(window[0] <= d <= window[1] for d in due)

    reminded: set[str] = set()
    # Before the deadline: each task gets the nearest lead time whose day has come (a run after a
    # pause sends the 1-day reminder, not the 7-day one as well).
    for lead, window in before:
        if has_tasks(window):
            counts["reminders"] += _remind(
                transaction, window, "notice.reminder", f"before-{lead}", lead, reminded
            )
    for days, window in overdue:
        if has_tasks(window):
            _overdue_notices(transaction, rules, days, window, counts)
    _mark_through(transaction, today)
    return counts


def _before_windows(rules: ReminderRules, last: date, today: date) -> list[tuple[int, tuple[date, date]]]:
    """Each lead time before the deadline whose reminder day fell since the last run, with the
    deadlines it covers."""
    before: list[tuple[int, tuple[date, date]]] = []
    for lead in rules.before_deadline:
        window = _deadlines(
            last,
            today,
            lambda d, n=lead: workdays.before(d, n),
            today + timedelta(days=1),
            workdays.after(today, lead) + timedelta(days=10),
        )
        if window:
            before.append((lead, window))
    return before


def _overdue_windows(rules: ReminderRules, last: date, today: date) -> list[tuple[int, tuple[date, date]]]:
    """Each number of working days overdue that calls for a reminder or an escalation and whose day
    fell since the last run, with the deadlines it covers."""
    low = today - timedelta(days=OVERDUE_HORIZON * 2 + 30)
    overdue: list[tuple[int, tuple[date, date]]] = []
    for days in sorted(
        {
            *range(rules.overdue_every, OVERDUE_HORIZON + 1, rules.overdue_every),
            rules.overdue_to_lead,
            rules.overdue_to_process_leader,
        }
    ):
        window = _deadlines(
            last, today, lambda d, n=days: workdays.after(d, n), low, today - timedelta(days=1)
        )
        if window:
            overdue.append((days, window))
    return overdue


def _overdue_notices(
    transaction: Transaction,
    rules: ReminderRules,
    days: int,
    window: tuple[date, date],
    counts: dict[str, int],
) -> None:
    """Overdue by `days` working days: a reminder every few working days, and the two escalations;
    adds what was queued to `counts`."""
    if days % rules.overdue_every == 0:
        counts["overdue_reminders"] += _remind(
            transaction, window, "notice.overdue", f"overdue-{days}", days, set()
        )
    if days == rules.overdue_to_lead:
        counts["escalated_to_lead"] += _escalate(transaction, window, "lead", days)
    if days == rules.overdue_to_process_leader:
        counts["escalated_to_process_leader"] += _escalate(transaction, window, "process_leader", days)


def _mark_through(transaction: Transaction, today: date) -> None:
    """Record that the days up to `today` are done (never moving the mark back)."""
    with transaction() as session:
        mark = session.get(JobMark, MARK, with_for_update=True)
        if mark is None:
            session.add(JobMark(job=MARK, through=today))
        elif mark.through < today:
            mark.through = today


def _due_dates(transaction: Transaction, windows: list[tuple[date, date]]) -> set[date]:
    """The windows' dates that hold an open task: one index seek per window (an OR of ranges
    made SQLite scan the index instead)."""
    found: set[date] = set()
    with transaction() as session:
        for low, high in windows:
            first = session.scalar(
                select(OpenTask.due_on)
                .where(OpenTask.due_on.between(low, high))
                .order_by(OpenTask.due_on)
                .limit(1)
            )
            if first is not None:
                found.add(first)
    return found


@dataclass(frozen=True)
class _Task:
    id: str
    name: str
    lane: str
    due_on: date
    focus_area_id: int | None
    activity: str | None
    area: int | None
    period: str | None


def _in_batch(window: tuple[date, date], after_id: str, batch: list[_Task]) -> ColumnElement[bool]:
    """The tasks of a batch `_tasks` read, as a condition: those of the window after `after_id`, up
    to the batch's last (the same order, so the same tasks)."""
    return and_(
        OpenTask.due_on >= window[0],
        OpenTask.due_on <= window[1],
        OpenTask.id > after_id,
        OpenTask.id <= batch[-1].id,
    )


def _tasks(session: Session, window: tuple[date, date], after_id: str) -> list[_Task]:
    owned = aliased(Activity)
    rows = session.execute(
        select(
            OpenTask.id,
            OpenTask.name,
            OpenTask.lane,
            OpenTask.due_on,
            OpenTask.focus_area_id,
            owned.code,
            FocusArea.number,
            ReportingCycle.period,
        )
        .outerjoin(owned, owned.id == OpenTask.activity_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
        .where(OpenTask.due_on >= window[0], OpenTask.due_on <= window[1], OpenTask.id > after_id)
        .order_by(OpenTask.id)
        .limit(CHUNK)
    ).all()
    return [_Task(*row) for row in rows]  # type: ignore[call-arg, arg-type]


class _People:
    """Who is told about which task, read once per batch: who may act on each (the authority),
    the escalations' leads and process leaders, and everyone's mail delivery."""

    def __init__(self, session: Session, batch: ColumnElement[bool]) -> None:
        rows = session.execute(
            select(RoleAssignment.role, RoleAssignment.focus_area_id, User.id, User.mail_delivery)
            .join(User, User.id == RoleAssignment.user_id)
            .where(User.active)
        ).all()
        self.delivery: dict[int, str] = {}
        self.by_role: dict[Role, list[int]] = defaultdict(list)
        self.leads: dict[int | None, list[int]] = defaultdict(list)
        for role, area, user_id, delivery in rows:
            self.delivery[user_id] = delivery
            self.by_role[role].append(user_id)
            if role is Role.FOCUS_AREA_LEAD:
                self.leads[area].append(user_id)
        self.may_act = access.who_may_act(session, batch)
        self.session = session

    def mail_delivery(self, user_id: int) -> str:
        if user_id not in self.delivery:
            user = self.session.get(User, user_id)
            self.delivery[user_id] = user.mail_delivery if user and user.active else "off"
        return self.delivery[user_id]

    def workers(self, task: _Task) -> list[int]:
        """Whose turn the task is: everyone who may act on it now (access.who_may_act)."""
        return self.may_act.get(task.id, [])


def _params(task: _Task, days: int) -> dict[str, Any]:
    about = task.activity or (f"{task.period} · {task.area}" if task.area else task.period) or "-"
    return {
        "task": {"key": f"task.{task.name}"},
        "task_id": task.id,
        "about": about,
        "deadline": task.due_on.isoformat(),
        "days": days,
    }


def _remind(
    transaction: Transaction, window: tuple[date, date], template: str, step: str, days: int, done: set[str]
) -> int:
    queued, after_id = 0, ""
    while True:
        with transaction() as session:
            batch = _tasks(session, window, after_id)
            if not batch:
                return queued
            people = _People(session, _in_batch(window, after_id, batch))
            rows = []
            for task in batch:
                if task.id in done:
                    continue
                done.add(task.id)
                for user_id in people.workers(task):
                    rows.append(
                        notices.row(
                            user_id,
                            people.mail_delivery(user_id),
                            template,
                            _params(task, days),
                            f"{task.id}:{step}",
                        )
                    )
            queued += len(notices.insert(session, rows))
        after_id = batch[-1].id


def _escalate(transaction: Transaction, window: tuple[date, date], target: str, days: int) -> int:
    """Tell the focus-area lead (or the process leader) about overdue tasks, once per task and
    target, each with an audit event. A lead's own overdue task goes to the process leader."""
    escalated, after_id = 0, ""
    while True:
        with transaction() as session:
            batch = _tasks(session, window, after_id)
            if not batch:
                return escalated
            people = _People(session, _in_batch(window, after_id, batch))
            rows, tasks_of_key = [], {}
            for task in batch:
                if target == "lead" and task.lane == "activity_owner":
                    to = sorted(set(people.leads.get(task.focus_area_id, [])))
                elif target == "process_leader" and task.lane != "process_leader":
                    to = sorted(set(people.by_role.get(Role.PROCESS_LEADER, [])))
                else:
                    continue
                waiting = [_name(session, u) for u in people.workers(task)]  # read by people: names
                params = {**_params(task, days), "waiting": ", ".join(waiting) or "-"}
                for user_id in to:
                    new = notices.row(
                        user_id,
                        people.mail_delivery(user_id),
                        "notice.overdue_escalation",
                        params,
                        f"{task.id}:{target}",
                    )
                    rows.append(new)
                    tasks_of_key[new["dedupe_key"]] = (task, user_id)
            new_keys = notices.insert(session, rows)
            by_task: dict[str, list[int]] = defaultdict(list)
            for key in new_keys:
                task, user_id = tasks_of_key[key]
                by_task[task.id].append(user_id)
            for task_id, user_ids in by_task.items():
                audit.record(
                    session,
                    SYSTEM_ACTOR,
                    "task.overdue_escalated",
                    "task",
                    task_id,
                    {
                        "to": sorted(_username(session, u) for u in user_ids),
                        "role": target,
                        "working_days": days,
                    },
                )
            escalated += len(by_task)
        after_id = batch[-1].id


def _name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.display_name if user else str(user_id)


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.username if user else str(user_id)
