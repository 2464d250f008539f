"""Proposed activities as the proposal pages show them: the intervention areas a person may propose
in, and a plan's proposals with where each stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ...models import Activity, ActivityProposal, FocusArea, InterventionArea, OpenTask, ProcessInstance, User
from ..authority import access
from ..authority.access import UseCase
from ..plan import plans
from ..records.audit import Actor


@dataclass(frozen=True)
class AreaChoice:
    """An intervention area someone may propose a new activity in."""

    code: str  # 3.4: what the proposal form takes
    title: str
    focus_area: int
    focus_area_title: str


@dataclass(frozen=True)
class ProposalRow:
    id: int
    focus_area: int
    focus_area_title: str
    title: str | None  # None until the lead has filled in the proposal
    intervention_area: str | None
    state: str
    proposed_by: str
    owner: str | None
    created_at: datetime
    instance_id: int | None  # the proposal's process, to follow it step by step
    activity_code: str | None  # once approved: the activity it became
    my_task_id: str | None  # an open task of the proposal the reader may act on (a returned one)


def areas_open_to(session: Session, user: User, plan_slug: str | None = None) -> list[AreaChoice]:
    """The plan's intervention areas in the focus areas where `user` may propose, in plan order."""
    plan = plans.get_plan(session, plan_slug)
    focus_areas = access.scopes(session, user, UseCase.PROPOSE_ACTIVITY)
    if not focus_areas:
        return []
    rows = session.execute(
        select(InterventionArea, FocusArea)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .where(FocusArea.plan_id == plan.id, FocusArea.id.in_(focus_areas))
        .order_by(FocusArea.number, InterventionArea.number)
    ).all()
    return [
        AreaChoice(f"{focus_area.number}.{area.number}", area.title, focus_area.number, focus_area.title)
        for area, focus_area in rows
    ]


def proposals(session: Session, user: User, plan_slug: str | None = None) -> list[ProposalRow]:
    """Every proposal of the plan, newest first, with the open task `user` may act on, if any: for
    someone who may read the municipality's own records."""
    access.require(session, Actor(user), UseCase.READ_INTERNAL)
    plan = plans.get_plan(session, plan_slug)
    proposer, owner = aliased(User), aliased(User)
    rows = session.execute(
        select(
            ActivityProposal,
            FocusArea.number,
            FocusArea.title,
            InterventionArea.number,
            proposer.display_name,
            owner.display_name,
            Activity.code,
        )
        .join(FocusArea, FocusArea.id == ActivityProposal.focus_area_id)
        .join(proposer, proposer.id == ActivityProposal.proposed_by_id)
        .outerjoin(owner, owner.id == ActivityProposal.owner_id)
        .outerjoin(InterventionArea, InterventionArea.id == ActivityProposal.intervention_area_id)
        .outerjoin(Activity, Activity.id == ActivityProposal.activity_id)
        .where(FocusArea.plan_id == plan.id)
        .order_by(ActivityProposal.created_at.desc(), ActivityProposal.id.desc())
    ).all()
    instances = _processes(session, [row[0].id for row in rows])
    mine = _tasks_for(session, user, list(instances.values()))
    result = []
    for proposal, fa_number, fa_title, ia_number, proposed_by, owner_name, activity_code in rows:
        instance_id = instances.get(proposal.id)
        result.append(
            ProposalRow(
                id=proposal.id,
                focus_area=fa_number,
                focus_area_title=fa_title,
                title=proposal.title,
                intervention_area=f"{fa_number}.{ia_number}" if ia_number is not None else None,
                state=proposal.state.value,
                proposed_by=proposed_by,
                owner=owner_name,
                created_at=proposal.created_at,
                instance_id=instance_id,
                activity_code=activity_code,
                my_task_id=mine.get(instance_id) if instance_id is not None else None,
            )
        )
    return result


def _processes(session: Session, proposal_ids: list[int]) -> dict[int, int]:
    """Each proposal's process instance, by the proposal's id."""
    rows = session.execute(
        select(ProcessInstance.subject_id, ProcessInstance.id).where(
            ProcessInstance.subject_type == "proposal", ProcessInstance.subject_id.in_(proposal_ids)
        )
    )
    return {subject_id: instance_id for subject_id, instance_id in rows if subject_id is not None}


def _tasks_for(session: Session, user: User, instance_ids: list[int]) -> dict[int, str]:
    """The open task `user` may act on in each of these instances that has one, by instance."""
    rows = session.execute(
        select(OpenTask.instance_id, OpenTask.id).where(
            OpenTask.instance_id.in_(instance_ids),
            access.task_condition(session, access.represented(session, user)),
        )
    )
    return {instance_id: task_id for instance_id, task_id in rows}
