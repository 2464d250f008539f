"""The cases of a proposed activity's tasks: the lead's proposal (when returned), the process
leader's check and the steering group's decision, each with the proposal in full."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....models import ActivityProposal, FocusArea, InterventionArea, Plan, User
from .. import history
from .builders import Task, builds, name_of
from .model import Case, FormValue, ProposalSection
from .returns import PROPOSAL_RETURNS, audit_returns, last


def _proposal(session: Session, task: Task, case: Case) -> tuple[Case, ActivityProposal | None]:
    proposal = session.get(ActivityProposal, task.subject_id)
    if proposal is None:
        return case, None
    focus_area, plan = session.execute(
        select(FocusArea, Plan.slug)
        .join(Plan, Plan.id == FocusArea.plan_id)
        .where(FocusArea.id == proposal.focus_area_id)
    ).one()
    area = (
        session.get(InterventionArea, proposal.intervention_area_id)
        if proposal.intervention_area_id
        else None
    )
    section = ProposalSection(
        id=proposal.id,
        title=proposal.title,
        focus_area=focus_area.number,
        intervention_area=f"{focus_area.number}.{area.number}" if area else None,
        intervention_area_title=area.title if area else None,
        owner_name=name_of(session, proposal.owner_id),
        starts_on=proposal.starts_on,
        ends_on=proposal.ends_on,
        why=proposal.why,
        state=proposal.state.value,
        proposed_by=name_of(session, proposal.proposed_by_id) or "",
        created_at=proposal.created_at,
        returns=tuple(audit_returns(session, PROPOSAL_RETURNS, "proposal", proposal.id)),
        decisions=tuple(history.decisions_on(session, "proposal", [proposal.id])),
    )
    case = replace(case, plan=plan, subject_code=section.intervention_area, subject_title=proposal.title)
    return replace(case, proposal=section), proposal


@builds("propose_activity")
def propose_activity(session: Session, task: Task, case: Case) -> Case:
    """A returned proposal: who returned it, why, and the form filled with what was proposed."""
    case, proposal = _proposal(session, task, case)
    if case.proposal is None or proposal is None:
        return case
    returned = last(list(case.proposal.returns))
    if returned is None:
        return case
    owner = session.scalar(select(User.username).where(User.id == proposal.owner_id))
    fields = {
        "title": proposal.title,
        "intervention_area": case.proposal.intervention_area,
        "owner": owner,
        "start": proposal.starts_on.isoformat() if proposal.starts_on else None,
        "end": proposal.ends_on.isoformat() if proposal.ends_on else None,
        "why": proposal.why,
    }
    sent = tuple(FormValue(name, value) for name, value in fields.items() if value)
    return replace(case, returned=returned, sent_before=sent)


@builds("check_proposal", "decide_proposal")
def judge_proposal(session: Session, task: Task, case: Case) -> Case:
    """The proposal in full: title, intervention area, owner, dates, why, who proposed it, its
    returns and the decisions taken on it."""
    case, _ = _proposal(session, task, case)
    return case
