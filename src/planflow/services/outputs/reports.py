"""The reports' content, gathered from the database: what the steering group reads for a period and
what the municipal board reads for a year, built in a few queries as the frozen dataclasses of
planflow.documents.content (which the composers and writers read and never query)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock
from ...documents.content import (
    COUNT_KEYS,
    ActivityLine,
    AnnualReportContent,
    AreaLines,
    CompletedActivity,
    DeviationLine,
    Dialogue,
    Feedback,
    LeftOpen,
    NewActivity,
    PeriodCounts,
    PlanHeading,
    ProposalLine,
    SteeringReport,
    YearActivity,
    YearArea,
)
from ...models import (
    Activity,
    ActivityProposal,
    ActivityState,
    AnnualReport,
    AreaReview,
    BusinessDialogue,
    Decision,
    Deviation,
    DialogueFeedback,
    FocusArea,
    InterventionArea,
    Plan,
    ProposalState,
    ReportingCycle,
    ReviewOutcome,
    StatusReport,
    SteeringMeeting,
    User,
)
from ..chain import cycles

_RANK = {"green": 0, "yellow": 1, "red": 2}


def _heading(plan: Plan) -> PlanHeading:
    return PlanHeading(plan.slug, plan.title, plan.organisation)


def _counts(statuses: list[str | None]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for status in statuses:
        counts[status or "unreported"] += 1
    return counts


def _change(status: str | None, previous: str | None) -> str:
    if status is None:
        return "unreported"
    if previous is None:
        return "new"
    if status == previous:
        return "unchanged"
    return "better" if _RANK[status] < _RANK[previous] else "worse"


def _accepted(session: Session, cycle_ids: list[int]) -> dict[int, StatusReport]:
    """The last accepted report of each activity in these cycles (later cycles win)."""
    if not cycle_ids:
        return {}
    reports = session.scalars(
        select(StatusReport)
        .where(StatusReport.cycle_id.in_(cycle_ids), StatusReport.review == ReviewOutcome.ACCEPTED)
        .order_by(StatusReport.reported_at, StatusReport.id)
    )
    return {report.activity_id: report for report in reports}


def _activities(session: Session, plan_id: int) -> list[tuple[Activity, int]]:
    """Every activity of a plan with its focus area's number, in plan order."""
    rows = session.execute(
        select(Activity, FocusArea.number)
        .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .where(Activity.plan_id == plan_id)
        .order_by(FocusArea.number, InterventionArea.number, Activity.number)
    ).all()
    return [(activity, number) for activity, number in rows]


def _names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.display_name)).all())


def _cycles_in_order(session: Session, plan_id: int) -> list[ReportingCycle]:
    found = session.scalars(select(ReportingCycle).where(ReportingCycle.plan_id == plan_id)).all()
    return sorted(found, key=lambda c: cycles.period_bounds(c.period))


def steering_report(session: Session, plan: Plan, period: str) -> SteeringReport:
    """The status report to the steering group for one period of a plan."""
    cycle = cycles.get_cycle(session, period, plan.slug)
    first_day, last_day = cycles.period_bounds(period)
    earlier = [c for c in _cycles_in_order(session, plan.id) if cycles.period_bounds(c.period)[1] < first_day]
    names = _names(session)
    areas = _period_areas(session, plan, cycle, earlier, names)
    dialogue = session.scalar(select(BusinessDialogue).where(BusinessDialogue.cycle_id == cycle.id))
    feedback = session.scalars(
        select(DialogueFeedback).where(DialogueFeedback.cycle_id == cycle.id).order_by(DialogueFeedback.id)
    ).all()
    meeting = session.scalar(select(SteeringMeeting).where(SteeringMeeting.cycle_id == cycle.id))
    left_open = _left_open(session, meeting)
    return SteeringReport(
        plan=_heading(plan),
        period=period,
        first_day=first_day,
        last_day=last_day,
        previous_period=earlier[-1].period if earlier else None,
        generated_at=clock.now(),
        areas=areas,
        totals=_counts([line.status for area in areas for line in area.activities]),
        deviations=_deviation_lines(
            session,
            select(Deviation).where(Deviation.cycle_id == cycle.id),
            {int(item["deviation"]) for item in meeting.left_open} if meeting else set(),
        ),
        dialogue=_dialogue(dialogue, feedback),
        proposals=_proposal_lines(session, plan, first_day, last_day, names),
        meeting_notes=meeting.notes if meeting else None,
        priorities=meeting.priorities if meeting else None,
        left_open=left_open,
        case_number=cycle.case_number,
    )


def _left_open(session: Session, meeting: SteeringMeeting | None) -> list[LeftOpen]:
    """The deviations the meeting's minutes list as left open to the next meeting, as they stood."""
    if meeting is None or not meeting.left_open:
        return []
    ids = [int(item["deviation"]) for item in meeting.left_open]
    titles = dict(
        session.execute(
            select(Deviation.id, Activity.title)
            .join(Activity, Activity.id == Deviation.activity_id)
            .where(Deviation.id.in_(ids))
        ).all()
    )
    return [
        LeftOpen(str(item["activity"]), titles.get(int(item["deviation"]), ""), str(item["stands"]))
        for item in meeting.left_open
    ]


def _period_areas(
    session: Session, plan: Plan, cycle: ReportingCycle, earlier: list[ReportingCycle], names: dict[int, str]
) -> list[AreaLines]:
    """Each focus area's activities in the period: their status now, the one before, the change."""
    first_day, last_day = cycles.period_bounds(cycle.period)
    now_reports = _accepted(session, [cycle.id])
    before = _accepted(session, [c.id for c in earlier])
    reported = set(session.scalars(select(StatusReport.activity_id).where(StatusReport.cycle_id == cycle.id)))
    summaries = {
        review.focus_area.number: review.summary
        for review in session.scalars(select(AreaReview).where(AreaReview.cycle_id == cycle.id))
    }
    by_area: dict[int, list[ActivityLine]] = {}
    for activity, area_number in _activities(session, plan.id):
        if activity.id in reported or _runs_in(activity, first_day, last_day):
            line = _activity_line(activity, now_reports.get(activity.id), before.get(activity.id), names)
            by_area.setdefault(area_number, []).append(line)
    return [
        AreaLines(
            fa.number,
            fa.title,
            summaries.get(fa.number),
            by_area.get(fa.number, []),
            _counts([line.status for line in by_area.get(fa.number, [])]),
        )
        for fa in plan.focus_areas
    ]


def _runs_in(activity: Activity, first_day: date, last_day: date) -> bool:
    """Whether an active activity's timeline meets the period (one that reported is in it anyway)."""
    return (
        activity.state is ActivityState.ACTIVE
        and (activity.starts_on is None or activity.starts_on <= last_day)
        and (activity.ends_on is None or activity.ends_on >= first_day)
    )


def _activity_line(
    activity: Activity, report: StatusReport | None, old: StatusReport | None, names: dict[int, str]
) -> ActivityLine:
    status = report.status.value if report else None
    previous = old.status.value if old else None
    return ActivityLine(
        code=activity.code,
        title=activity.title,
        owner=names.get(activity.owner_id) if activity.owner_id else None,
        office=activity.office,
        status=status,
        previous=previous,
        change=_change(status, previous),
        comment=report.comment if report else None,
        closed=activity.state is ActivityState.CLOSED,
    )


def _dialogue(dialogue: BusinessDialogue | None, feedback: Sequence[DialogueFeedback]) -> Dialogue | None:
    heard = [Feedback(f.author.display_name, f.feedback, _day(f.given_at)) for f in feedback]
    if dialogue is None:
        return Dialogue([], None, None, None, heard) if heard else None
    return Dialogue(list(dialogue.forums), dialogue.held_on, dialogue.heard, dialogue.ideas, heard)


def _deviation_lines(
    session: Session, query: Any, left_open: set[int] | None = None, until: datetime | None = None
) -> list[DeviationLine]:
    """The deviations `query` selects, each with the group's latest decision (of those taken before
    `until`, when given: a year's report says what was decided in the year); those in `left_open`
    (left open by the period's meeting) marked so."""
    lines = []
    periods = dict(session.execute(select(ReportingCycle.id, ReportingCycle.period)).all())
    names = _names(session)
    for deviation in session.scalars(query.order_by(Deviation.opened_at, Deviation.id)):
        activity = deviation.activity
        decision = _latest(session, "deviation", deviation.id, until)
        lines.append(
            DeviationLine(
                activity_code=activity.code,
                activity_title=activity.title,
                focus_area=activity.intervention_area.focus_area.number,
                period=periods.get(deviation.cycle_id) if deviation.cycle_id else None,
                level=deviation.level.value,
                cause=deviation.cause,
                recommendation=deviation.recommendation,
                state=deviation.state.value,
                escalated=deviation.escalated_at is not None,
                decision=decision.decision if decision else None,
                rationale=decision.rationale if decision else None,
                decided_on=_day(decision.decided_at) if decision else None,
                decided_by=names.get(decision.decided_by_id) if decision else None,
                left_open=deviation.id in (left_open or set()),
                case_number=decision.case_number if decision else None,
            )
        )
    return lines


def _proposal_lines(
    session: Session, plan: Plan, first_day: date, last_day: date, names: dict[int, str]
) -> list[ProposalLine]:
    """Proposals for new activities made in the period, and those still on their way."""
    start, end = _day_start(first_day), _day_start(last_day, 1)
    pending = (ProposalState.DRAFTING, ProposalState.PROPOSED, ProposalState.CHECKED)
    rows = session.execute(
        select(ActivityProposal, FocusArea.number)
        .join(FocusArea, FocusArea.id == ActivityProposal.focus_area_id)
        .where(FocusArea.plan_id == plan.id)
        .order_by(ActivityProposal.created_at, ActivityProposal.id)
    ).all()
    lines = []
    for proposal, area_number in rows:
        made_in_period = start <= proposal.created_at < end
        if not made_in_period and proposal.state not in pending:
            continue
        decision = _latest(session, "proposal", proposal.id)
        area = (
            session.get(InterventionArea, proposal.intervention_area_id)
            if proposal.intervention_area_id
            else None
        )
        activity = session.get(Activity, proposal.activity_id) if proposal.activity_id else None
        lines.append(
            ProposalLine(
                title=proposal.title,
                focus_area=area_number,
                intervention_area=area.code if area else None,
                state=proposal.state.value,
                proposed_by=names.get(proposal.proposed_by_id, "-"),
                why=proposal.why,
                decision=decision.decision if decision else None,
                rationale=decision.rationale if decision else None,
                activity_code=activity.code if activity else None,
            )
        )
    return lines


def _latest(
    session: Session, subject_type: str, subject_id: int, until: datetime | None = None
) -> Decision | None:
    """The latest decision on a subject (of those taken before `until`, when given)."""
    query = select(Decision).where(Decision.subject_type == subject_type, Decision.subject_id == subject_id)
    if until is not None:
        query = query.where(Decision.decided_at < until)
    return session.scalar(query.order_by(Decision.id.desc()).limit(1))


def _day_start(day: date, plus_days: int = 0) -> datetime:
    """Midnight at the start of a day (plus some days) in the installation's zone."""
    return datetime(day.year, day.month, day.day, tzinfo=clock.zone()) + timedelta(days=plus_days)


def _day(moment: datetime) -> date:
    """The date a moment falls on where the documents are read (the installation's zone)."""
    return clock.local(moment).date()


def annual_report_content(session: Session, plan: Plan, year: int) -> AnnualReportContent:
    """The year's report to the municipal board: status per focus area (the last accepted status of
    the year), the status counts period by period, the year's deviations and the steering group's
    decisions, the activities completed and the activities added. The year is the installation's
    local year (clock.year_span): a decision at 23:30 on New Year's Eve belongs to it, and one taken
    after it (a deviation decided again, an activity added or closed in January) does not, whenever
    the report is built. This is what compiling the report freezes (annual.compiled_content)."""
    span = clock.year_span(year)
    year_cycles = [
        c for c in _cycles_in_order(session, plan.id) if cycles.period_bounds(c.period)[0].year == year
    ]
    final = _accepted(session, [c.id for c in year_cycles])
    names = _names(session)
    later = _decided_later(session, plan, span[1])
    activities = [(a, n) for a, n in _activities(session, plan.id) if a.id not in later["added"]]
    areas = _year_areas(plan, activities, final, names, later["closed"])
    periods = [
        PeriodCounts(c.period, _counts([r.status.value for r in _accepted(session, [c.id]).values()]))
        for c in year_cycles
    ]
    deviations = _deviation_lines(
        session,
        select(Deviation).where(
            Deviation.activity_id.in_({activity.id for activity, _ in activities}),
            Deviation.opened_at >= span[0],
            Deviation.opened_at < span[1],
        ),
        until=span[1],
    )
    new_activities = _new_activities(session, plan, span, names)
    decided = [d for d in deviations if d.decision and d.decision != "return"]
    report_row = session.scalar(
        select(AnnualReport).where(AnnualReport.plan_id == plan.id, AnnualReport.year == year)
    )
    return AnnualReportContent(
        plan=_heading(plan),
        year=year,
        generated_at=clock.now(),
        summary=report_row.summary if report_row else None,
        state=report_row.state.value if report_row else None,
        areas=areas,
        totals=_counts([a.status for area in areas for a in area.activities]),
        periods=periods,
        deviations=deviations,
        completed=_completed(session, activities, final, year, span),
        new_activities=new_activities,
        decisions=len(decided) + len(new_activities),
        board_decided_on=report_row.board_decided_on if report_row else None,
        board_paragraph=report_row.board_paragraph if report_row else None,
        case_number=report_row.case_number if report_row else None,
    )


def _decided_later(session: Session, plan: Plan, end: datetime) -> dict[str, set[int]]:
    """The activities the steering group added (approved proposals) or closed after `end`: a year's
    report shows the plan as the year left it, whenever it is compiled."""
    added = session.scalars(
        select(ActivityProposal.activity_id)
        .join(
            Decision,
            (Decision.subject_type == "proposal") & (Decision.subject_id == ActivityProposal.id),
        )
        .join(FocusArea, FocusArea.id == ActivityProposal.focus_area_id)
        .where(
            FocusArea.plan_id == plan.id,
            Decision.decision == "approve",
            Decision.decided_at >= end,
            ActivityProposal.activity_id.is_not(None),
        )
    )
    closed = session.scalars(
        select(Deviation.activity_id)
        .join(Decision, (Decision.subject_type == "deviation") & (Decision.subject_id == Deviation.id))
        .join(Activity, Activity.id == Deviation.activity_id)
        .where(Activity.plan_id == plan.id, Decision.decision == "close", Decision.decided_at >= end)
    )
    return {"added": {a for a in added if a is not None}, "closed": set(closed)}


def _year_areas(
    plan: Plan,
    activities: list[tuple[Activity, int]],
    final: dict[int, StatusReport],
    names: dict[int, str],
    closed_later: set[int],
) -> list[YearArea]:
    by_area: dict[int, list[YearActivity]] = {}
    for activity, area_number in activities:
        report = final.get(activity.id)
        by_area.setdefault(area_number, []).append(
            YearActivity(
                code=activity.code,
                title=activity.title,
                owner=names.get(activity.owner_id) if activity.owner_id else None,
                status=report.status.value if report else None,
                closed=activity.state is ActivityState.CLOSED and activity.id not in closed_later,
            )
        )
    return [
        YearArea(
            fa.number,
            fa.title,
            by_area.get(fa.number, []),
            _counts([a.status for a in by_area.get(fa.number, [])]),
        )
        for fa in plan.focus_areas
    ]


def _completed(
    session: Session,
    activities: list[tuple[Activity, int]],
    final: dict[int, StatusReport],
    year: int,
    span: tuple[datetime, datetime],
) -> list[CompletedActivity]:
    """The activities the steering group closed in the year, and those whose timeline ended in it."""
    closing = session.execute(
        select(Decision, Deviation.activity_id)
        .join(Deviation, (Decision.subject_type == "deviation") & (Decision.subject_id == Deviation.id))
        .where(Decision.decision == "close", Decision.decided_at >= span[0], Decision.decided_at < span[1])
        .order_by(Decision.decided_at, Decision.id)
    ).all()
    closed_on = {activity_id: _day(decision.decided_at) for decision, activity_id in closing}
    completed: list[CompletedActivity] = []
    for activity, _ in activities:
        report = final.get(activity.id)
        status = report.status.value if report else None
        if activity.id in closed_on and activity.state is ActivityState.CLOSED:
            completed.append(
                CompletedActivity(activity.code, activity.title, "closed", closed_on[activity.id], status)
            )
        elif activity.ends_on is not None and activity.ends_on.year == year:
            completed.append(
                CompletedActivity(activity.code, activity.title, "timeline_ended", activity.ends_on, status)
            )
    return completed


def _new_activities(
    session: Session, plan: Plan, span: tuple[datetime, datetime], names: dict[int, str]
) -> list[NewActivity]:
    """The activities added by the steering group's approval of a proposal in the year."""
    approved = session.execute(
        select(Decision, ActivityProposal, FocusArea.number)
        .join(
            ActivityProposal,
            (Decision.subject_type == "proposal") & (Decision.subject_id == ActivityProposal.id),
        )
        .join(FocusArea, FocusArea.id == ActivityProposal.focus_area_id)
        .where(
            FocusArea.plan_id == plan.id,
            Decision.decision == "approve",
            Decision.decided_at >= span[0],
            Decision.decided_at < span[1],
            ActivityProposal.activity_id.is_not(None),
        )
        .order_by(Decision.decided_at, Decision.id)
    ).all()
    added = []
    for decision, proposal, area_number in approved:
        activity = session.get(Activity, proposal.activity_id)
        assert activity is not None
        added.append(
            NewActivity(
                code=activity.code,
                title=activity.title,
                focus_area=area_number,
                owner=names.get(activity.owner_id) if activity.owner_id else None,
                decided_on=_day(decision.decided_at),
                rationale=decision.rationale,
            )
        )
    return added
