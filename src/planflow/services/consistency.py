"""Whether the stored records agree with one another: the audit chain verifies; every process
instance's open tasks and pending timers are what its stored state says; every status report,
review, deviation, escalation and decision has the one audit event its handler writes with it, and
no such event lacks its record; every cycle has its own process and no cycle is left half-opened.

Every use case changes these together in one transaction, so a crash or a kill at any moment must
leave all of them true: the crash test runs `check` after every kill, and a load test or an
operator may run it on a live database. It reads only, in bounded queries (BATCH rows at a time,
by key); what it keeps between batches is counts by id.

Give it one snapshot: Database.reading() on SQLite; on PostgreSQL a REPEATABLE READ transaction
(`session.connection(execution_options={"isolation_level": "REPEATABLE READ"})` before the first
read) when others write meanwhile, or a writer's half-seen work is reported as a problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from ..engine import StateError
from ..models import (
    AnnualReport,
    AreaReview,
    AuditEvent,
    CycleState,
    DecidingBody,
    Decision,
    Deviation,
    FocusArea,
    InstanceState,
    OpenTask,
    PendingTimer,
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    Status,
    StatusReport,
)
from . import audit, instances

# Any select, whatever its row (SQLAlchemy's Select is generic over the row's columns).
Rows = Select[*tuple[Any, ...]]
BATCH = 500  # rows per query
LOAD_BATCH = 50  # stored states deserialized at a time (each may be tens of kB)


@dataclass(frozen=True)
class Problem:
    """One rule that does not hold: which (`rule`), about what (`subject`), and how."""

    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.subject}: {self.detail}"


@dataclass
class Memo:
    """What earlier checks of the same database found, so that the next reads only what changed:
    the chain as verified through (seq, hash), and for each instance version the tasks and timers
    its state holds (a state changes only with its version). Never give one database's memo to
    a check of another."""

    chain: tuple[int, str] = (0, audit.GENESIS)
    runs: dict[int, tuple[int, frozenset[str], frozenset[str]]] = field(default_factory=dict)


def check(session: Session, memo: Memo | None = None, opening_allowed: bool = False) -> list[Problem]:
    """Every rule that does not hold now, in the order of the rules above ([] when all hold).

    A cycle still opening is a problem unless `opening_allowed` (say so while an opener may be at
    work; a crashed opener's cycle is finished by running cycles.open_all again). With a `memo`,
    the chain is verified from where the last check left it and only instances whose version
    moved are deserialized; the memo is brought up to date."""
    problems: list[Problem] = []
    problems += _chain(session, memo)
    problems += _projections(session, memo)
    problems += _reports(session)
    problems += _deviations(session)
    problems += _decisions(session)
    problems += _cycles(session, opening_allowed)
    return problems


# ---- reading in batches ------------------------------------------------------------------------


def _batches(session: Session, query: Rows, key: Any) -> Iterator[list[Any]]:
    """The rows of `query` in batches of BATCH, walking `key` (a unique column it selects first)."""
    last = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = session.execute(page.order_by(key).limit(BATCH)).all()
        if rows:
            yield list(rows)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def _event_counts(session: Session, action: str, subject_type: str, subjects: list[int]) -> Counter[int]:
    """How many `action` events there are about each of `subjects` (ids of `subject_type`)."""
    rows = session.execute(
        select(AuditEvent.subject_id, func.count())
        .where(
            AuditEvent.action == action,
            AuditEvent.subject_type == subject_type,
            AuditEvent.subject_id.in_([str(s) for s in subjects]),
        )
        .group_by(AuditEvent.subject_id)
    ).all()
    return Counter({int(subject): count for subject, count in rows})


def _instances_per(session: Session, key: Any, kind: Any, ids: list[int]) -> Counter[int]:
    """How many process instances of a `kind` each of `ids` has, keyed by the column `key`."""
    rows = session.execute(select(key, func.count()).where(kind, key.in_(ids)).group_by(key)).all()
    return Counter({subject: count for subject, count in rows})


def _total(session: Session, action: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0
    )


def _sample(query: Rows, session: Session, limit: int = 10) -> list[Any]:
    return list(session.execute(query.limit(limit)).all())


# ---- the rules ---------------------------------------------------------------------------------


def _chain(session: Session, memo: Memo | None) -> list[Problem]:
    after, after_hash = memo.chain if memo is not None else (0, audit.GENESIS)
    result = audit.verify(session, after, after_hash)
    if not result.intact:
        return [Problem("audit.chain", f"event {result.first_bad}", result.problem or "")]
    if memo is not None:
        last = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        if last is not None:
            memo.chain = (last.seq, last.hash)
    return []


def _projections(session: Session, memo: Memo | None) -> Iterator[Problem]:
    """Open tasks and pending timers, instance by instance, against the state they project: a
    running instance's ready user tasks and armed timers; nothing for a completed one."""
    query = select(ProcessInstance.id, ProcessInstance.version, ProcessInstance.status)
    for batch in _batches(session, query, ProcessInstance.id):
        ids = [row.id for row in batch]
        have_tasks = _grouped(session, select(OpenTask.instance_id, OpenTask.id), OpenTask.instance_id, ids)
        have_timers = _grouped(
            session, select(PendingTimer.instance_id, PendingTimer.task_id), PendingTimer.instance_id, ids
        )
        expected: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        stale = []
        for row in batch:
            known = memo.runs.get(row.id) if memo is not None else None
            if row.status is InstanceState.COMPLETED:
                expected[row.id] = (frozenset(), frozenset())
            elif known is not None and known[0] == row.version:
                expected[row.id] = known[1:]
            else:
                stale.append(row.id)
        for start in range(0, len(stale), LOAD_BATCH):
            loaded = session.scalars(
                select(ProcessInstance).where(ProcessInstance.id.in_(stale[start : start + LOAD_BATCH]))
            ).all()
            for instance in loaded:
                try:
                    run = instances.load(session, instance)
                except StateError as exc:
                    yield Problem("instance.state", f"instance {instance.id}", str(exc))
                    continue
                finally:
                    session.expunge(instance)  # its state is read: do not keep it for the session's life
                if run.completed:
                    yield Problem(
                        "instance.status",
                        f"instance {instance.id}",
                        "its state has ended; it is marked running",
                    )
                tasks = frozenset(task.id for task in run.human_tasks())
                timers = frozenset(timer.task_id for timer in run.timers())
                expected[instance.id] = (tasks, timers)
                if memo is not None:
                    memo.runs[instance.id] = (instance.version, tasks, timers)
        for instance_id, (tasks, timers) in expected.items():
            for rule, have, want in (
                ("projection.open_tasks", have_tasks.get(instance_id, frozenset()), tasks),
                ("projection.pending_timers", have_timers.get(instance_id, frozenset()), timers),
            ):
                if have != want:
                    yield Problem(
                        rule,
                        f"instance {instance_id}",
                        f"rows {sorted(have - want)} are not in its state; {sorted(want - have)} have no row",
                    )


def _grouped(session: Session, query: Rows, key: Any, ids: list[int]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = {}
    for owner, item in session.execute(query.where(key.in_(ids))):
        found.setdefault(owner, set()).add(item)
    return {owner: frozenset(items) for owner, items in found.items()}


def _reports(session: Session) -> Iterator[Problem]:
    """Each status report has one status.reported event, and one status.accepted or
    status.returned event as its review says (none while pending); at most one report per
    activity and cycle waits for review; a report's task is no longer open."""
    events: dict[str, Counter[int]] = {}
    for action in ("status.reported", "status.accepted", "status.returned"):
        counts: Counter[int] = Counter()
        query = select(AuditEvent.seq, AuditEvent.data).where(AuditEvent.action == action)
        for batch in _batches(session, query, AuditEvent.seq):
            counts.update(int(data["report"]) for _, data in batch if "report" in data)
        events[action] = counts
    query = select(StatusReport.id, StatusReport.review)
    for batch in _batches(session, query, StatusReport.id):
        for report_id, review in batch:
            want = {
                "status.reported": 1,
                "status.accepted": int(review is ReviewOutcome.ACCEPTED),
                "status.returned": int(review is ReviewOutcome.RETURNED),
            }
            for action, count in want.items():
                have = events[action].pop(report_id, 0)
                if have != count:
                    yield Problem(
                        "report.events",
                        f"status report {report_id}",
                        f"{have} {action} events, not {count} (review: {review})",
                    )
    for action, left in events.items():
        for report_id, count in left.items():
            yield Problem(
                "report.events", f"status report {report_id}", f"{count} {action} events, no report"
            )
    doubled = (
        select(StatusReport.cycle_id, StatusReport.activity_id, func.count())
        .where(StatusReport.review == ReviewOutcome.PENDING)
        .group_by(StatusReport.cycle_id, StatusReport.activity_id)
        .having(func.count() > 1)
    )
    for cycle_id, activity_id, count in _sample(doubled, session):
        yield Problem(
            "report.pending",
            f"activity {activity_id} in cycle {cycle_id}",
            f"{count} reports wait for review",
        )
    still_open = select(StatusReport.id, StatusReport.task_id).join(
        OpenTask, OpenTask.id == StatusReport.task_id
    )
    for report_id, task_id in _sample(still_open, session):
        yield Problem("report.task", f"status report {report_id}", f"its task {task_id} is still open")


def _deviations(session: Session) -> Iterator[Problem]:
    """An accepted yellow or red report has one deviation and nothing else has one; each
    deviation has its deviation.opened event, its own process, and a deviation.escalated event
    exactly when it was escalated."""
    deviating = and_(
        StatusReport.review == ReviewOutcome.ACCEPTED, StatusReport.status.in_([Status.YELLOW, Status.RED])
    )
    missing = (
        select(StatusReport.id)
        .outerjoin(Deviation, Deviation.status_report_id == StatusReport.id)
        .where(deviating, Deviation.id.is_(None))
    )
    for (report_id,) in _sample(missing, session):
        yield Problem(
            "deviation.missing", f"status report {report_id}", "accepted yellow or red, no deviation"
        )
    stray = (
        select(Deviation.id, StatusReport.id)
        .join(StatusReport, StatusReport.id == Deviation.status_report_id)
        .where(~deviating)
    )
    for deviation_id, report_id in _sample(stray, session):
        yield Problem(
            "deviation.stray",
            f"deviation {deviation_id}",
            f"its report {report_id} is not an accepted deviation",
        )
    seen = Counter[str]()
    query = select(Deviation.id, Deviation.escalated_at)
    for batch in _batches(session, query, Deviation.id):
        ids = [row.id for row in batch]
        opened = _event_counts(session, "deviation.opened", "deviation", ids)
        escalated = _event_counts(session, "deviation.escalated", "deviation", ids)
        runs = _instances_per(
            session, ProcessInstance.subject_id, ProcessInstance.subject_type == "deviation", ids
        )
        for deviation_id, escalated_at in batch:
            want_escalated = int(escalated_at is not None)
            for what, have, want in (
                ("deviation.opened events", opened[deviation_id], 1),
                ("deviation.escalated events", escalated[deviation_id], want_escalated),
                ("deviation processes", runs[deviation_id], 1),
            ):
                if have != want:
                    yield Problem(
                        "deviation.records", f"deviation {deviation_id}", f"{have} {what}, not {want}"
                    )
        seen.update(
            {"deviation.opened": sum(opened.values()), "deviation.escalated": sum(escalated.values())}
        )
    for action in ("deviation.opened", "deviation.escalated"):
        if (total := _total(session, action)) != seen[action]:
            yield Problem("deviation.records", action, f"{total - seen[action]} events about no deviation")


# A decision's audit event, by what it is about: a completed decision task records both.
DECISION_EVENTS = {
    ("deviation", DecidingBody.STEERING_GROUP): ("deviation.decided",),
    ("proposal", DecidingBody.STEERING_GROUP): ("proposal.decided",),
}
# The annual report's events name its year, not its id: they are counted by year.
ANNUAL_EVENTS = {
    DecidingBody.STEERING_GROUP: ("annual_report.approved", "annual_report.returned"),
    DecidingBody.BOARD: ("annual_report.noted",),
}


def _decisions(session: Session) -> Iterator[Problem]:
    """Each decision on a deviation or a proposal has its one audit event (and each such event its
    decision); the steering group's and the board's decisions on annual reports match their
    events year by year."""
    for (subject_type, body), (action,) in DECISION_EVENTS.items():
        matched = 0
        query = (
            select(Decision.subject_id, func.count())
            .where(Decision.subject_type == subject_type, Decision.body == body)
            .group_by(Decision.subject_id)
        )
        for batch in _batches(session, query, Decision.subject_id):
            events = _event_counts(session, action, subject_type, [row[0] for row in batch])
            for subject_id, count in batch:
                matched += events[subject_id]
                if events[subject_id] != count:
                    yield Problem(
                        "decision.events",
                        f"{subject_type} {subject_id}",
                        f"{count} decisions, {events[subject_id]} {action} events",
                    )
        if (total := _total(session, action)) != matched:
            yield Problem("decision.events", action, f"{total - matched} events about no decision")
    for body, actions in ANNUAL_EVENTS.items():
        decided = Counter(
            dict(
                session.execute(
                    select(AnnualReport.year, func.count())
                    .join(Decision, Decision.subject_id == AnnualReport.id)
                    .where(Decision.subject_type == "annual_report", Decision.body == body)
                    .group_by(AnnualReport.year)
                ).all()
            )
        )
        recorded = Counter(
            {
                int(year): count
                for year, count in session.execute(
                    select(AuditEvent.subject_id, func.count())
                    .where(AuditEvent.action.in_(actions))
                    .group_by(AuditEvent.subject_id)
                ).all()
            }
        )
        for year in sorted(decided.keys() | recorded.keys()):
            if decided[year] != recorded[year]:
                yield Problem(
                    "decision.events",
                    f"annual report {year}",
                    f"{decided[year]} {body} decisions, {recorded[year]} {'/'.join(actions)} events",
                )


def _cycles(session: Session, opening_allowed: bool) -> Iterator[Problem]:
    """Each cycle has one reporting_cycle process and its cycle.started event, and its
    cycle.opened event once it is open; an opening cycle has no report beyond where its opener
    got to; no activity reports twice in one cycle; once a cycle is open, every focus area whose
    reports are all accepted has its reconciliation."""
    by_period: Counter[str] = Counter()
    open_by_period: Counter[str] = Counter()
    query = select(
        ReportingCycle.id, ReportingCycle.period, ReportingCycle.state, ReportingCycle.opened_through
    )
    for batch in _batches(session, query, ReportingCycle.id):
        ids = [row.id for row in batch]
        runs = _instances_per(
            session, ProcessInstance.cycle_id, ProcessInstance.process_id == "reporting_cycle", ids
        )
        for cycle_id, period, state, opened_through in batch:
            by_period[period] += 1
            open_by_period[period] += state is not CycleState.OPENING
            if runs[cycle_id] != 1:
                yield Problem(
                    "cycle.process", f"cycle {cycle_id}", f"{runs[cycle_id]} reporting_cycle processes"
                )
            if state is not CycleState.OPENING:
                continue
            if not opening_allowed:
                yield Problem(
                    "cycle.opening",
                    f"cycle {cycle_id}",
                    f"still opening (reports started through activity {opened_through}): "
                    "nobody finished it (cycles.open_all resumes it)",
                )
            beyond = session.scalar(
                select(func.count())
                .select_from(ProcessInstance)
                .where(
                    ProcessInstance.process_id == "activity_report",
                    ProcessInstance.cycle_id == cycle_id,
                    ProcessInstance.activity_id > (opened_through or 0),
                )
            )
            if beyond:
                yield Problem(
                    "cycle.opening",
                    f"cycle {cycle_id}",
                    f"{beyond} reports started beyond activity {opened_through}, where its opener got to",
                )
    for action, want in (("cycle.started", by_period), ("cycle.opened", open_by_period)):
        have = Counter(
            dict(
                session.execute(
                    select(AuditEvent.subject_id, func.count())
                    .where(AuditEvent.action == action, AuditEvent.subject_type == "cycle")
                    .group_by(AuditEvent.subject_id)
                ).all()
            )
        )
        for period in sorted(want.keys() | have.keys()):
            if have[period] != want[period]:
                yield Problem(
                    "cycle.events", f"period {period}", f"{have[period]} {action} events, not {want[period]}"
                )
    twice = (
        select(ProcessInstance.cycle_id, ProcessInstance.activity_id, func.count())
        .where(ProcessInstance.process_id == "activity_report")
        .group_by(ProcessInstance.cycle_id, ProcessInstance.activity_id)
        .having(func.count() > 1)
    )
    for cycle_id, activity_id, count in _sample(twice, session):
        yield Problem(
            "cycle.reports", f"cycle {cycle_id}", f"activity {activity_id} has {count} report processes"
        )
    running = (
        select(ProcessInstance.id)
        .where(
            ProcessInstance.process_id == "activity_report",
            ProcessInstance.cycle_id == ReportingCycle.id,
            ProcessInstance.focus_area_id == FocusArea.id,
            ProcessInstance.status == InstanceState.RUNNING,
        )
        .exists()
    )
    reconciled = exists().where(
        AreaReview.cycle_id == ReportingCycle.id, AreaReview.focus_area_id == FocusArea.id
    )
    missed = (
        select(ReportingCycle.id, FocusArea.number)
        .join(FocusArea, FocusArea.plan_id == ReportingCycle.plan_id)
        .where(ReportingCycle.state != CycleState.OPENING, ~running, ~reconciled)
    )
    for cycle_id, area in _sample(missed, session):
        yield Problem(
            "cycle.reconciliation",
            f"cycle {cycle_id}",
            f"focus area {area}: all reports accepted, no reconciliation",
        )
    unprocessed = select(AreaReview.id).where(
        ~select(ProcessInstance.id)
        .where(ProcessInstance.subject_type == "area_review", ProcessInstance.subject_id == AreaReview.id)
        .exists()
    )
    for (review_id,) in _sample(unprocessed, session):
        yield Problem("cycle.reconciliation", f"area review {review_id}", "no area_reconciliation process")
