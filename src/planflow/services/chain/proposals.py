"""New activities: a focus-area lead proposes, the process leader checks, the steering group
decides; an approved activity joins the plan and the next cycle."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import clock
from ...engine import FormError
from ...i18n import Message
from ...models import (
    Activity,
    ActivityProposal,
    DecidingBody,
    FocusArea,
    InterventionArea,
    OpenTask,
    ProposalState,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import InvalidInput, quote
from ..plan import plans
from ..records import audit
from ..records.audit import Actor
from . import instances
from .steps import Step, complete, on_complete, on_passed, start_process


def propose_activity(
    session: Session, user: User, data: Any, plan_slug: str | None = None
) -> ActivityProposal:
    """A focus-area lead (or a member of the area's working group) proposes a new activity in its
    own area; the proposal goes to the process leader at once."""
    form = instances.library().forms.get("propose_activity")
    try:
        clean = form.validate(data)
    except FormError as exc:
        raise InvalidInput("error.form.invalid", fields=exc.errors) from None
    plan = plans.get_plan(session, plan_slug)
    area = _intervention_area(session, plan.id, clean["intervention_area"])
    actor = access.require(session, Actor(user), UseCase.PROPOSE_ACTIVITY, area.focus_area_id)
    proposal = ActivityProposal(
        focus_area_id=area.focus_area_id,
        proposed_by_id=(actor.principal or user).id,
        state=ProposalState.DRAFTING,
        created_at=clock.now(),
    )
    session.add(proposal)
    session.flush()
    instance = start_process(
        session,
        actor,
        "activity_proposal",
        instances.Subject(focus_area_id=area.focus_area_id, subject_type="proposal", subject_id=proposal.id),
        {"focus_area": area.focus_area.number},
    )
    task = session.scalars(
        select(OpenTask).where(OpenTask.instance_id == instance.id, OpenTask.name == "propose_activity")
    ).one()
    complete(session, actor, task, clean, form.fields)
    return proposal


def _intervention_area(session: Session, plan_id: int, code: str) -> InterventionArea:
    fa_number, _, ia_number = code.partition(".")
    area = session.scalar(
        select(InterventionArea)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .where(
            FocusArea.plan_id == plan_id,
            FocusArea.number == int(fa_number),
            InterventionArea.number == int(ia_number),
        )
    )
    if area is None:
        raise InvalidInput(
            "error.proposal.no_area",
            fields={"intervention_area": Message("form.no_such_area")},
            area=quote(code),
        )
    return area


@on_complete("propose_activity")
def _proposed(session: Session, step: Step, data: dict[str, Any]) -> None:
    proposal = step.subject(session, ActivityProposal)
    focus_area = session.get(FocusArea, proposal.focus_area_id)
    assert focus_area is not None
    area = _intervention_area(session, focus_area.plan_id, data["intervention_area"])
    if area.focus_area_id != proposal.focus_area_id:
        raise InvalidInput(
            "error.proposal.other_area",
            fields={"intervention_area": Message("form.not_in_focus_area", {"area": focus_area.number})},
        )
    owner = session.scalar(select(User).where(User.username == data["owner"], User.active))
    if owner is None:
        raise InvalidInput(
            "error.user.not_found",
            fields={"owner": Message("form.no_such_user")},
            username=quote(data["owner"]),
        )
    starts_on, ends_on = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    if ends_on < starts_on:
        raise InvalidInput("error.proposal.dates", fields={"end": Message("form.before_start")})
    proposal.title, proposal.intervention_area_id, proposal.owner_id = data["title"], area.id, owner.id
    proposal.starts_on, proposal.ends_on, proposal.why = starts_on, ends_on, data["why"]
    proposal.state = ProposalState.PROPOSED
    audit.record(session, step.actor, "proposal.submitted", "proposal", proposal.id, data, data["why"])


@on_complete("check_proposal")
def _checked(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The process leader's answer is audited with the event its gateway leads to."""


@on_passed("proposal_returned")
def _returned(session: Session, step: Step) -> None:
    proposal = step.subject(session, ActivityProposal)
    proposal.state = ProposalState.DRAFTING
    step.send_back(step.data.get("comment"))
    audit.record(
        session, step.actor, "proposal.returned", "proposal", proposal.id, {}, step.data.get("comment")
    )


@on_passed("proposal_forwarded")
def _forwarded(session: Session, step: Step) -> None:
    proposal = step.subject(session, ActivityProposal)
    proposal.state = ProposalState.CHECKED
    audit.record(
        session, step.actor, "proposal.forwarded", "proposal", proposal.id, {}, step.data.get("comment")
    )


@on_complete("decide_proposal")
def _decided(session: Session, step: Step, data: dict[str, Any]) -> None:
    proposal = step.subject(session, ActivityProposal)
    decision = step.decide(
        session, DecidingBody.STEERING_GROUP, "proposal", proposal.id, data["decision"], data["rationale"]
    )
    audit.record(
        session,
        step.actor,
        "proposal.decided",
        "proposal",
        proposal.id,
        {
            "decision": data["decision"],
            "body": DecidingBody.STEERING_GROUP,
            "decided_at": decision.decided_at.isoformat(),
        },
        data["rationale"],
    )


@on_passed("proposal_sent_back")
def _sent_back(session: Session, step: Step) -> None:
    """Back to the lead, with the group's rationale as the reason the case shows."""
    proposal = step.subject(session, ActivityProposal)
    proposal.state = ProposalState.DRAFTING
    audit.record(
        session, step.actor, "proposal.sent_back", "proposal", proposal.id, {}, step.data.get("rationale")
    )
    step.send_back(step.data.get("rationale"))


@on_passed("proposal_rejected")
def _rejected(session: Session, step: Step) -> None:
    step.subject(session, ActivityProposal).state = ProposalState.REJECTED


@on_passed("activity_added")
def _activity_added(session: Session, step: Step) -> None:
    """The approved activity joins the plan with the next number in its intervention area."""
    proposal = step.subject(session, ActivityProposal)
    proposal.state = ProposalState.APPROVED
    area = session.get(InterventionArea, proposal.intervention_area_id)
    assert area is not None and proposal.title is not None
    number = (
        session.scalar(select(func.max(Activity.number)).where(Activity.intervention_area_id == area.id)) or 0
    ) + 1
    owner = session.get(User, proposal.owner_id)
    activity = Activity(
        plan_id=area.focus_area.plan_id,
        intervention_area_id=area.id,
        number=number,
        code=f"{area.code}.{number}",
        title=proposal.title,
        description=proposal.why,
        owner_id=proposal.owner_id,
        office=owner.office if owner else None,
        starts_on=proposal.starts_on,
        ends_on=proposal.ends_on,
    )
    session.add(activity)
    session.flush()
    proposal.activity_id = activity.id
    audit.record(
        session,
        step.actor,
        "activity.added",
        "activity",
        activity.code,
        {"title": activity.title, "proposal": proposal.id, "owner": owner.username if owner else None},
    )
