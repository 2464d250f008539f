"""Who may act on what: lanes map to roles, roles may be scoped, substitutes act on behalf."""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from .. import clock
from ..models import Activity, OpenTask, Role, RoleAssignment, Substitution, User

# Lanes whose tasks anyone holding the role may take, wherever they are.
GLOBAL_LANES = {
    "process_leader": (Role.PROCESS_LEADER,),
    "steering_group": (Role.STEERING_GROUP, Role.STEERING_CHAIR),
    "board": (Role.BOARD,),
}


def has_role(user: User, *roles: Role) -> bool:
    return any(a.role in roles for a in user.roles)


def represented(session: Session, user: User) -> list[User]:
    """The user, then everyone the user substitutes for today."""
    today = clock.now().date()
    absent = session.scalars(
        select(User)
        .join(Substitution, Substitution.absent_id == User.id)
        .where(
            Substitution.substitute_id == user.id,
            Substitution.starts_on <= today,
            or_(Substitution.ends_on.is_(None), Substitution.ends_on >= today),
        )
    ).all()
    return [user, *absent]


def _may_act_as(session: Session, person: User, task: OpenTask) -> bool:
    if task.assignee_id is not None:
        return task.assignee_id == person.id
    if task.lane == "activity_owner":
        owner = session.scalar(select(Activity.owner_id).where(Activity.id == task.activity_id))
        return owner == person.id
    if task.lane == "focus_area_lead":
        return any(
            a.role is Role.FOCUS_AREA_LEAD and a.focus_area_id == task.focus_area_id for a in person.roles
        )
    return has_role(person, *GLOBAL_LANES.get(task.lane, ()))


def acting_for(session: Session, user: User, task: OpenTask) -> User | None:
    """The person on whose behalf `user` may act on `task` (the user itself first), or None."""
    if not user.active:
        return None
    for person in represented(session, user):
        if _may_act_as(session, person, task):
            return person
    return None


def inbox_filter(session: Session, user: User) -> ColumnElement[bool]:
    """The open tasks a user (or someone the user substitutes for) may act on, as one condition."""
    people = represented(session, user)
    ids = [p.id for p in people]
    lead_areas = [
        a.focus_area_id for p in people for a in p.roles if a.role is Role.FOCUS_AREA_LEAD and a.focus_area_id
    ]
    lanes = [lane for lane, roles in GLOBAL_LANES.items() if any(has_role(p, *roles) for p in people)]
    group = and_(
        OpenTask.assignee_id.is_(None),
        or_(
            OpenTask.lane.in_(lanes) if lanes else false(),
            and_(OpenTask.lane == "focus_area_lead", OpenTask.focus_area_id.in_(lead_areas))
            if lead_areas
            else false(),
        ),
    )
    return or_(OpenTask.assignee_id.in_(ids), group)


def holders(session: Session, role: Role) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == role, User.active)
            .order_by(User.id)
        ).unique()
    )
