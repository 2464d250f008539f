"""The rules about records and their events: every status report, review, deviation, escalation
and decision has the one audit event its handler writes with it, and no such event lacks its
record; every cycle has its own process and no cycle is left half-opened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from ....models import (
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
    ProcessInstance,
    ReportingCycle,
    ReviewOutcome,
    Status,
    StatusReport,
)
from .reading import Problem, batches, event_counts, event_total, instances_per, sample


def reports(session: Session) -> Iterator[Problem]:
    """Each status report has one status.reported event, and one status.accepted or
    status.returned event as its review says (none while pending); at most one report per
    activity and cycle waits for review; a report's task is no longer open."""
    events: dict[str, Counter[int]] = {}
    for action in ("status.reported", "status.accepted", "status.returned"):
        counts: Counter[int] = Counter()
        query = select(AuditEvent.seq, AuditEvent.data).where(AuditEvent.action == action)
        for batch in batches(session, query, AuditEvent.seq):
            counts.update(int(data["report"]) for _, data in batch if "report" in data)
        events[action] = counts
    query = select(StatusReport.id, StatusReport.review)
    for batch in batches(session, query, StatusReport.id):
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
    for cycle_id, activity_id, count in sample(doubled, session):
        yield Problem(
            "report.pending",
            f"activity {activity_id} in cycle {cycle_id}",
            f"{count} reports wait for review",
        )
    still_open = select(StatusReport.id, StatusReport.task_id).join(
        OpenTask, OpenTask.id == StatusReport.task_id
    )
    for report_id, task_id in sample(still_open, session):
        yield Problem("report.task", f"status report {report_id}", f"its task {task_id} is still open")


def deviations(session: Session) -> Iterator[Problem]:
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
    for (report_id,) in sample(missing, session):
        yield Problem(
            "deviation.missing", f"status report {report_id}", "accepted yellow or red, no deviation"
        )
    stray = (
        select(Deviation.id, StatusReport.id)
        .join(StatusReport, StatusReport.id == Deviation.status_report_id)
        .where(~deviating)
    )
    for deviation_id, report_id in sample(stray, session):
        yield Problem(
            "deviation.stray",
            f"deviation {deviation_id}",
            f"its report {report_id} is not an accepted deviation",
        )
    seen = Counter[str]()
    query = select(Deviation.id, Deviation.escalated_at)
    for batch in batches(session, query, Deviation.id):
        ids = [row.id for row in batch]
        opened = event_counts(session, "deviation.opened", "deviation", ids)
        escalated = event_counts(session, "deviation.escalated", "deviation", ids)
        runs = instances_per(
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
        if (total := event_total(session, action)) != seen[action]:
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


def decisions(session: Session) -> Iterator[Problem]:
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
        for batch in batches(session, query, Decision.subject_id):
            events = event_counts(session, action, subject_type, [row[0] for row in batch])
            for subject_id, count in batch:
                matched += events[subject_id]
                if events[subject_id] != count:
                    yield Problem(
                        "decision.events",
                        f"{subject_type} {subject_id}",
                        f"{count} decisions, {events[subject_id]} {action} events",
                    )
        if (total := event_total(session, action)) != matched:
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


def cycles(session: Session, opening_allowed: bool) -> Iterator[Problem]:
    """Each cycle has one reporting_cycle process and its cycle.started event, and its
    cycle.opened event once it is open; an opening cycle has no report beyond where its opener
    got to; no activity reports twice in one cycle; once a cycle is open, every focus area whose
    reports are all accepted has its reconciliation."""
    yield from _cycle_processes(session, opening_allowed)
    yield from _cycle_events(session)
    yield from _reported_twice(session)
    yield from _reconciliations(session)


def _cycle_processes(session: Session, opening_allowed: bool) -> Iterator[Problem]:
    """Each cycle has one reporting_cycle process; a cycle still opening is one problem unless
    `opening_allowed`, and reports started beyond where its opener got to another."""
    query = select(ReportingCycle.id, ReportingCycle.state, ReportingCycle.opened_through)
    for batch in batches(session, query, ReportingCycle.id):
        ids = [row.id for row in batch]
        runs = instances_per(
            session, ProcessInstance.cycle_id, ProcessInstance.process_id == "reporting_cycle", ids
        )
        for cycle_id, state, opened_through in batch:
            if runs[cycle_id] != 1:
                yield Problem(
                    "cycle.process", f"cycle {cycle_id}", f"{runs[cycle_id]} reporting_cycle processes"
                )
            if state is CycleState.OPENING:
                yield from _opening(session, cycle_id, opened_through, opening_allowed)


def _opening(
    session: Session, cycle_id: int, opened_through: int | None, opening_allowed: bool
) -> Iterator[Problem]:
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


def _cycle_events(session: Session) -> Iterator[Problem]:
    """One cycle.started event per cycle of a period, one cycle.opened event per cycle opened."""
    cycles_per_period = select(ReportingCycle.period, func.count()).group_by(ReportingCycle.period)
    opened = cycles_per_period.where(ReportingCycle.state != CycleState.OPENING)
    for action, query in (("cycle.started", cycles_per_period), ("cycle.opened", opened)):
        want: Counter[str] = Counter(dict(session.execute(query).all()))
        have: Counter[str] = Counter(
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


def _reported_twice(session: Session) -> Iterator[Problem]:
    """No activity has two report processes in one cycle."""
    twice = (
        select(ProcessInstance.cycle_id, ProcessInstance.activity_id, func.count())
        .where(ProcessInstance.process_id == "activity_report")
        .group_by(ProcessInstance.cycle_id, ProcessInstance.activity_id)
        .having(func.count() > 1)
    )
    for cycle_id, activity_id, count in sample(twice, session):
        yield Problem(
            "cycle.reports", f"cycle {cycle_id}", f"activity {activity_id} has {count} report processes"
        )


def _reconciliations(session: Session) -> Iterator[Problem]:
    """In an open cycle, a focus area with no report process still running has its reconciliation,
    and each reconciliation its area_reconciliation process (a cancelled cycle's processes ended
    where they stood: it owes no reconciliation)."""
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
        .where(ReportingCycle.state.not_in([CycleState.OPENING, CycleState.CANCELLED]), ~running, ~reconciled)
    )
    for cycle_id, area in sample(missed, session):
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
    for (review_id,) in sample(unprocessed, session):
        yield Problem("cycle.reconciliation", f"area review {review_id}", "no area_reconciliation process")
