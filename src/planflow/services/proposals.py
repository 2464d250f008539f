"""New activities: a focus-area lead proposes, the process leader checks, the steering group
decides; an approved activity joins the plan and the next cycle."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import clock
from ..engine import FormError
from ..models import Activity, ActivityProposal, FocusArea, InterventionArea, OpenTask, Role, User
from . import access, audit, instances
from .audit import Actor
from .errors import Forbidden, InvalidInput
from .steps import Step, complete, on_complete, on_passed, start_process


def propose_activity(session: Session, user: User, data: Any) -> ActivityProposal:
    """A focus-area lead proposes a new activity in its own area; the proposal goes to the
    process leader at once."""
    form = instances.library().forms.get("propose_activity")
    try:
        clean = form.validate(data)
    except FormError as exc:
        raise InvalidInput(str(exc), exc.errors) from None
    area = _intervention_area(session, clean["intervention_area"])
    people = access.represented(session, user)
    principal = next(
        (
            p
            for p in people
            if any(a.role is Role.FOCUS_AREA_LEAD and a.focus_area_id == area.focus_area_id for a in p.roles)
        ),
        None,
    )
    if principal is None:
        raise Forbidden(f"{user.username} does not lead focus area {area.focus_area.number}")
    proposal = ActivityProposal(
        focus_area_id=area.focus_area_id,
        proposed_by_id=principal.id,
        state="drafting",
        created_at=clock.now(),
    )
    session.add(proposal)
    session.flush()
    actor = Actor(user, principal if principal.id != user.id else None, "focus_area_lead")
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


def _intervention_area(session: Session, code: str) -> InterventionArea:
    fa_number, _, ia_number = code.partition(".")
    area = session.scalar(
        select(InterventionArea)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .where(FocusArea.number == int(fa_number), InterventionArea.number == int(ia_number))
    )
    if area is None:
        raise InvalidInput(f"there is no intervention area {code}", {"intervention_area": "no such area"})
    return area


@on_complete("propose_activity")
def _proposed(session: Session, step: Step, data: dict[str, Any]) -> None:
    proposal = step.subject(session, ActivityProposal)
    area = _intervention_area(session, data["intervention_area"])
    if area.focus_area_id != proposal.focus_area_id:
        raise InvalidInput(
            "a lead proposes activities in its own focus area",
            {"intervention_area": f"is not in focus area {step.instance.focus_area_id}"},
        )
    owner = session.scalar(select(User).where(User.username == data["owner"], User.active))
    if owner is None:
        raise InvalidInput(f"there is no active user {data['owner']!r}", {"owner": "no such user"})
    starts_on, ends_on = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    if ends_on < starts_on:
        raise InvalidInput("the activity ends before it starts", {"end": "must not be before start"})
    proposal.title, proposal.intervention_area_id, proposal.owner_id = data["title"], area.id, owner.id
    proposal.starts_on, proposal.ends_on, proposal.why = starts_on, ends_on, data["why"]
    proposal.state = "proposed"
    audit.record(session, step.actor, "proposal.submitted", "proposal", proposal.id, data, data["why"])


@on_complete("check_proposal")
def _checked(session: Session, step: Step, data: dict[str, Any]) -> None:
    proposal = step.subject(session, ActivityProposal)
    proposal.state = "checked" if data["outcome"] == "forward" else "drafting"
    action = "proposal.forwarded" if data["outcome"] == "forward" else "proposal.returned"
    audit.record(session, step.actor, action, "proposal", proposal.id, data, data.get("comment"))


@on_complete("decide_proposal")
def _decided(session: Session, step: Step, data: dict[str, Any]) -> None:
    proposal = step.subject(session, ActivityProposal)
    decision = data["decision"]
    step.decide(session, "proposal", proposal.id, decision, data["rationale"])
    proposal.state = {"approve": "approved", "reject": "rejected"}.get(decision, "drafting")
    audit.record(
        session,
        step.actor,
        "proposal.decided",
        "proposal",
        proposal.id,
        {"decision": decision},
        data["rationale"],
    )


@on_passed("activity_added")
def _activity_added(session: Session, step: Step) -> None:
    """The approved activity joins the plan with the next number in its intervention area."""
    proposal = step.subject(session, ActivityProposal)
    area = session.get(InterventionArea, proposal.intervention_area_id)
    assert area is not None and proposal.title is not None
    number = (
        session.scalar(select(func.max(Activity.number)).where(Activity.intervention_area_id == area.id)) or 0
    ) + 1
    owner = session.get(User, proposal.owner_id)
    activity = Activity(
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
