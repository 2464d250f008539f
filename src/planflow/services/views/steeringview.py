"""What awaits the steering group, as one body: every deviation whose decision the group owes, every
proposed activity awaiting its decision, the annual report awaiting its approval, each with the
words its members have said on it so far; and the deviations the group returned to the process
leader, being reworked. The steering page, GET /api/v1/steering/awaiting and a member's inbox all
read this one answer; whoever may read the steering group's queue may read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ...models import (
    ActivityProposal,
    AnnualReport,
    FocusArea,
    InterventionArea,
    OpenTask,
    Plan,
    ProcessInstance,
    Status,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..chain import counsel, deviations
from ..chain.counsel import CommentView
from ..errors import Forbidden
from ..plan import plans


@dataclass(frozen=True)
class DeviationAwaiting:
    """A deviation whose decision the group owes: the case, the recommendation, the members' words."""

    deviation_id: int
    task_id: str  # the chair records the decision through it
    activity_code: str
    activity_title: str
    level: Status
    cause: str
    recommendation: str | None
    period: str | None
    opened_at: datetime
    escalated_at: datetime | None
    comments: list[CommentView]
    may_record: bool  # the reader may record the decision now (the chair, or a substitute)


@dataclass(frozen=True)
class ProposalAwaiting:
    """A proposed activity the process leader has forwarded to the group: the proposal in full."""

    proposal_id: int
    task_id: str
    title: str | None
    focus_area: int
    intervention_area: str | None  # its code, 3.4
    intervention_area_title: str | None
    owner: str | None  # the proposed owner's name
    starts_on: date | None
    ends_on: date | None
    why: str | None
    proposed_by: str  # name
    proposed_at: datetime
    comments: list[CommentView]
    may_record: bool


@dataclass(frozen=True)
class AnnualReportAwaiting:
    """A year's report to the board, compiled and awaiting the group's approval."""

    annual_report_id: int
    task_id: str
    year: int
    summary: str | None
    compiled_at: datetime | None
    comments: list[CommentView]
    may_record: bool


@dataclass(frozen=True)
class DeviationReturned:
    """A deviation the group returned to the process leader: its recommendation is being reworked
    and comes back for a decision. The words said before the return are kept with that decision."""

    deviation_id: int
    activity_code: str
    activity_title: str
    level: Status
    state: str  # open (with the process leader) | recommended (with the focus-area lead)
    period: str | None
    returned_because: str | None  # the group's rationale for returning it
    comments: list[CommentView]


@dataclass(frozen=True)
class AwaitingGroup:
    """Everything awaiting the steering group of a plan, and what it returned."""

    plan: str
    deviations: list[DeviationAwaiting]  # the queue's order: escalated, red, oldest first
    proposals: list[ProposalAwaiting]  # oldest first
    annual_reports: list[AnnualReportAwaiting]
    returned: list[DeviationReturned]
    may_comment: bool  # the reader may leave a word (a member, the chair, or a substitute)

    @property
    def count(self) -> int:
        """How many things await the group's decision."""
        return len(self.deviations) + len(self.proposals) + len(self.annual_reports)


def awaiting_group(
    session: Session, user: User | access.Standing, plan_slug: str | None = None
) -> AwaitingGroup:
    """What awaits the steering group of the plan (plans.get_plan resolves `plan_slug`), for
    someone who may read its queue; Forbidden to anyone else."""
    standing = access.standing(session, user)
    if standing.may(UseCase.READ_STEERING_QUEUE) is None:
        raise Forbidden(
            "error.access.use_case",
            user=standing.user.username,
            use_case={"key": f"access.use_case.{UseCase.READ_STEERING_QUEUE}"},
        )
    plan = plans.get_plan(session, plan_slug)
    return _awaiting(session, standing, plan)


@dataclass(frozen=True)
class GroupWaits:
    """How much awaits the steering group in one plan: what a member's empty inbox says."""

    plan: str
    plan_title: str
    deviations: int
    proposals: int
    annual_reports: int


def group_waits(session: Session, user: User | access.Standing) -> list[GroupWaits]:
    """For a member of the steering group (one who may comment), how much awaits the group in
    each plan where something does; nothing for anyone else."""
    standing = access.standing(session, user)
    if standing.may(UseCase.COMMENT_AS_MEMBER) is None:
        return []
    found = []
    for plan in session.scalars(select(Plan).order_by(Plan.id)):
        waiting = _awaiting(session, standing, plan)
        if waiting.count:
            found.append(
                GroupWaits(
                    plan.slug,
                    plan.title,
                    len(waiting.deviations),
                    len(waiting.proposals),
                    len(waiting.annual_reports),
                )
            )
    return found


def _awaiting(session: Session, standing: access.Standing, plan: Plan) -> AwaitingGroup:
    still_open = deviations.unsettled(session, plan.id)
    waiting = [d for d in still_open if d.task_id is not None]
    returned = [d for d in still_open if d.stands == "returned"]
    said = counsel.comments_on_many(session, "deviation", [d.deviation_id for d in still_open])
    proposals = _proposals(session, plan)
    reports = _annual_reports(session, plan)
    task_ids = [d.task_id for d in waiting if d.task_id] + [p[1] for p in proposals] + [r[1] for r in reports]
    mine = _may_record(session, standing, task_ids)
    said_on_proposals = counsel.comments_on_many(session, "proposal", [p[0].id for p in proposals])
    said_on_reports = counsel.comments_on_many(session, "annual_report", [r[0].id for r in reports])
    return AwaitingGroup(
        plan=plan.slug,
        deviations=[
            DeviationAwaiting(
                deviation_id=d.deviation_id,
                task_id=d.task_id,
                activity_code=d.activity_code,
                activity_title=d.activity_title,
                level=d.level,
                cause=d.cause,
                recommendation=d.recommendation,
                period=d.period,
                opened_at=d.opened_at,
                escalated_at=d.escalated_at,
                comments=said.get(d.deviation_id, []),
                may_record=d.task_id in mine,
            )
            for d in waiting
            if d.task_id is not None
        ],
        proposals=[
            ProposalAwaiting(
                proposal_id=p.id,
                task_id=task_id,
                title=p.title,
                focus_area=fa_number,
                intervention_area=f"{fa_number}.{ia_number}" if ia_number is not None else None,
                intervention_area_title=ia_title,
                owner=owner_name,
                starts_on=p.starts_on,
                ends_on=p.ends_on,
                why=p.why,
                proposed_by=proposer_name,
                proposed_at=p.created_at,
                comments=said_on_proposals.get(p.id, []),
                may_record=task_id in mine,
            )
            for p, task_id, fa_number, ia_number, ia_title, owner_name, proposer_name in proposals
        ],
        annual_reports=[
            AnnualReportAwaiting(
                annual_report_id=r.id,
                task_id=task_id,
                year=r.year,
                summary=r.summary,
                compiled_at=r.compiled_at,
                comments=said_on_reports.get(r.id, []),
                may_record=task_id in mine,
            )
            for r, task_id in reports
        ],
        returned=[
            DeviationReturned(
                deviation_id=d.deviation_id,
                activity_code=d.activity_code,
                activity_title=d.activity_title,
                level=d.level,
                state=d.state.value,
                period=d.period,
                returned_because=d.returned_because,
                comments=said.get(d.deviation_id, []),
            )
            for d in returned
        ],
        may_comment=standing.may(UseCase.COMMENT_AS_MEMBER) is not None,
    )


def _proposals(
    session: Session, plan: Plan
) -> list[tuple[ActivityProposal, str, int, int | None, str | None, str | None, str]]:
    """The plan's proposals whose decision task is open, oldest first, with what a reader needs."""
    owner, proposer = aliased(User, name="owner"), aliased(User, name="proposer")
    rows = session.execute(
        select(
            ActivityProposal,
            OpenTask.id,
            FocusArea.number,
            InterventionArea.number,
            InterventionArea.title,
            owner.display_name,
            proposer.display_name,
        )
        .join(
            ProcessInstance,
            (ProcessInstance.subject_type == "proposal")
            & (ProcessInstance.subject_id == ActivityProposal.id),
        )
        .join(OpenTask, OpenTask.instance_id == ProcessInstance.id)
        .join(FocusArea, FocusArea.id == ActivityProposal.focus_area_id)
        .outerjoin(InterventionArea, InterventionArea.id == ActivityProposal.intervention_area_id)
        .outerjoin(owner, owner.id == ActivityProposal.owner_id)
        .join(proposer, proposer.id == ActivityProposal.proposed_by_id)
        .where(OpenTask.name == counsel.DECIDED_THROUGH["proposal"], FocusArea.plan_id == plan.id)
        .order_by(ActivityProposal.created_at, ActivityProposal.id)
    ).all()
    return [(p, task, fa, ia, ia_title, owner_name, by) for p, task, fa, ia, ia_title, owner_name, by in rows]


def _annual_reports(session: Session, plan: Plan) -> list[tuple[AnnualReport, str]]:
    """The plan's annual reports whose approval task is open, by year."""
    rows = session.execute(
        select(AnnualReport, OpenTask.id)
        .join(
            ProcessInstance,
            (ProcessInstance.subject_type == "annual_report")
            & (ProcessInstance.subject_id == AnnualReport.id),
        )
        .join(OpenTask, OpenTask.instance_id == ProcessInstance.id)
        .where(OpenTask.name == counsel.DECIDED_THROUGH["annual_report"], AnnualReport.plan_id == plan.id)
        .order_by(AnnualReport.year)
    ).all()
    return [(report, task_id) for report, task_id in rows]


def _may_record(session: Session, standing: access.Standing, task_ids: list[str]) -> set[str]:
    """Which of these decision tasks the reader may act on now: the inbox's own rule."""
    if not task_ids:
        return set()
    return set(
        session.scalars(select(OpenTask.id).where(OpenTask.id.in_(task_ids), standing.task_condition()))
    )
