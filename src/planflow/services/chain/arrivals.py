"""Word when work arrives: a notice to everyone whose turn a new task is, saying whether it is new
work or work sent back (by whom, and why); and, when a cycle opens, one notice per owner with the
deadline instead of one per status report.

`instances.save` notes on the session the tasks it makes (`expect`); when the transaction commits,
`announce` tells of those still open, all at once: who may act on them is the inbox's own rule
(access.who_may_act), read once for them all, so a transaction that makes many tasks costs a few
queries, not a few per task. A task made and done in one transaction (a proposal's first step) is
never announced. Each notice has a key per task and person: never two for one arrival, however
often or from however many processes it is queued.

Whoever made the step is told too when the task is theirs: it is another task than the one just
done (the last accepted report gives its lead the area's summary), and a notice is how one finds
it again later. The status reports a cycle's opening makes are not announced one by one: their
owners get `cycle_opened` (a report sent back later is announced as returned, like any other)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, event, func, select
from sqlalchemy.orm import Session, SessionTransaction, aliased

from ...i18n import quoted
from ...models import (
    Activity,
    ActivityProposal,
    AnnualReport,
    FocusArea,
    OpenTask,
    ProcessInstance,
    ReportingCycle,
    User,
)
from ..authority import access
from ..outputs import notices

# Where on the session the tasks made in the current transaction wait to be announced.
PENDING = "planflow.arrivals"


@dataclass(frozen=True)
class Return:
    """Why the tasks a step makes are work sent back: who sent it back, and the reason given."""

    by: str  # the display name of the person who returned it
    reason: str | None


def expect(session: Session, task_ids: list[str], returned: Return | None = None) -> None:
    """Announce these tasks when the transaction commits (those still open then)."""
    pending: dict[str, Return | None] = session.info.setdefault(PENDING, {})
    for task_id in task_ids:
        pending[task_id] = returned if returned is not None else pending.get(task_id)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # A savepoint's release is not the end: the tasks are announced when the whole transaction is.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(PENDING, None)
    if pending:
        announce(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A transaction rolled back takes its tasks with it: nothing is left to announce."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def announce(session: Session, pending: dict[str, Return | None]) -> int:
    """Queue a notice about each pending task still open to everyone who may act on it now;
    returns how many notices were new."""
    proposal, report = aliased(ActivityProposal), aliased(AnnualReport)
    rows = session.execute(
        select(
            OpenTask.id,
            OpenTask.name,
            OpenTask.due_on,
            Activity.code,
            Activity.title,
            FocusArea.number.label("area"),
            ReportingCycle.period,
            proposal.title.label("proposal"),
            report.year,
        )
        .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(ReportingCycle, ReportingCycle.id == OpenTask.cycle_id)
        .outerjoin(
            proposal,
            and_(ProcessInstance.subject_type == "proposal", proposal.id == ProcessInstance.subject_id),
        )
        .outerjoin(
            report,
            and_(ProcessInstance.subject_type == "annual_report", report.id == ProcessInstance.subject_id),
        )
        .where(OpenTask.id.in_(list(pending)))
    ).all()
    if not rows:
        return 0
    may_act = access.who_may_act(session, OpenTask.id.in_([row.id for row in rows]))
    people = {uid for uids in may_act.values() for uid in uids}
    delivery = dict(session.execute(select(User.id, User.mail_delivery).where(User.id.in_(people))).all())
    new = []
    for row in rows:
        returned = pending[row.id]
        params: dict[str, Any] = {
            "task": {"key": f"task.{row.name}"},
            "task_id": row.id,
            "about": _about(row),
            "due": (
                {"key": "notice.due_on", "params": {"date": row.due_on.isoformat()}}
                if row.due_on
                else {"key": "notice.no_due"}
            ),
        }
        template = "notice.task_arrived"
        if returned is not None:
            template = "notice.task_returned"
            params["by"] = returned.by
            params["reason"] = returned.reason or {"key": "notice.no_reason"}
        for user_id in may_act.get(row.id, []):
            new.append(notices.row(user_id, delivery.get(user_id), template, params, f"task-{row.id}"))
    return len(notices.insert(session, new))


def _about(row: Any) -> Any:
    """What a task is about, as its notice names it: the activity, the proposal, the annual
    report, the focus area in the period, or the period."""
    if row.code is not None:
        return quoted(f"{row.code} {row.title}")
    if row.year is not None:
        return {"key": "notice.about.annual_report", "params": {"year": row.year}}
    if row.area is not None and row.period is not None:
        return {"key": "notice.about.area", "params": {"area": row.area, "period": row.period}}
    if row.area is not None:
        title = quoted(row.proposal or "–")
        return {"key": "notice.about.proposal", "params": {"area": row.area, "title": title}}
    if row.period is not None:
        return {"key": "notice.about.period", "params": {"period": row.period}}
    return "planflow"


def cycle_opened(session: Session, cycle: ReportingCycle) -> int:
    """Tell each owner once that a cycle has opened: its period and deadline and how many of their
    activities report in it (the status reports the opening made); returns how many were new."""
    counts = Counter(
        dict(
            session.execute(
                select(Activity.owner_id, func.count())
                .join(ProcessInstance, ProcessInstance.activity_id == Activity.id)
                .where(
                    ProcessInstance.cycle_id == cycle.id,
                    ProcessInstance.process_id == "activity_report",
                    Activity.owner_id.is_not(None),
                )
                .group_by(Activity.owner_id)
            ).all()
        )
    )
    owners = session.execute(
        select(User.id, User.mail_delivery).where(User.id.in_(list(counts)), User.active).order_by(User.id)
    ).all()
    rows = [
        notices.row(
            user_id,
            delivery,
            "notice.cycle_opened",
            {
                "period": cycle.period,
                "deadline": cycle.deadline.isoformat(),
                "activities": {
                    "key": "notice.activities.one" if counts[user_id] == 1 else "notice.activities.many",
                    "params": {"count": counts[user_id]},
                },
                "path": "/inbox",
            },
            f"cycle-{cycle.id}",
        )
        for user_id, delivery in owners
    ]
    return len(notices.insert(session, rows))
