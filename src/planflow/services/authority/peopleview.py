"""Read views of people: the administration's directory of users and roles, and who the caller
is with what it may do (GET /api/v1/me, beside the header's menu: both `access.abilities`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ... import clock
from ...models import (
    Activity,
    ActivityState,
    ApiToken,
    FocusArea,
    OpenTask,
    Plan,
    Role,
    RoleAssignment,
    Substitution,
    User,
)
from ..records.audit import Actor
from . import access
from .access import UseCase
from .people import ACTIVITY_OWNER, FOCUS_AREA_ROLES, RoleSpec, get_user


@dataclass(frozen=True)
class RoleView:
    """A role as held: given (with its focus area and plan when scoped), or an activity owned."""

    role: str  # a Role's value, or ACTIVITY_OWNER
    plan: str | None
    focus_area: int | None
    activity: str | None


@dataclass(frozen=True)
class UserView:
    """A user as the administration (page, API, command line) shows it."""

    username: str
    display_name: str
    email: str
    language: str
    office: str | None
    active: bool
    demo: bool
    roles: list[RoleView]


def directory(session: Session, actor: Actor) -> list[UserView]:
    """Every user with roles and scopes, for an administrator; owning activities shows as the
    activity_owner role."""
    access.require(session, actor, UseCase.MANAGE_PEOPLE)
    users = session.scalars(select(User).order_by(User.username)).all()
    roles = _roles(session, None)
    return [_user_view(user, roles.get(user.id, [])) for user in users]


def user_view(session: Session, user: User) -> UserView:
    """One user as `directory` shows it, its roles as the database holds them now."""
    return _user_view(user, _roles(session, user).get(user.id, []))


def _user_view(user: User, roles: list[RoleView]) -> UserView:
    return UserView(
        user.username,
        user.display_name,
        user.email,
        user.language,
        user.office,
        user.active,
        user.is_demo,
        roles,
    )


def _roles(session: Session, user: User | None) -> dict[int, list[RoleView]]:
    """The roles of every user (or of `user` alone) by user id, in two reads: the roles given,
    with their focus area and plan, then one activity_owner role per activity owned."""
    roles: dict[int, list[RoleView]] = {}
    given = (
        select(RoleAssignment.user_id, RoleAssignment.role, Plan.slug, FocusArea.number)
        .outerjoin(FocusArea, FocusArea.id == RoleAssignment.focus_area_id)
        .outerjoin(Plan, Plan.id == FocusArea.plan_id)
        .order_by(RoleAssignment.id)
    )
    if user is not None:
        given = given.where(RoleAssignment.user_id == user.id)
    for user_id, role, slug, number in session.execute(given):
        roles.setdefault(user_id, []).append(RoleView(role.value, slug, number, None))
    owned = select(Activity.owner_id, Activity.code, Plan.slug).join(Plan, Plan.id == Activity.plan_id)
    owned = owned.where(Activity.owner_id.is_not(None) if user is None else Activity.owner_id == user.id)
    for owner_id, code, slug in session.execute(owned.order_by(Activity.id)):
        assert owner_id is not None  # the query's own condition
        roles.setdefault(owner_id, []).append(RoleView(ACTIVITY_OWNER, slug, None, code))
    return roles


@dataclass(frozen=True, order=True)
class ScopeView:
    """A scoped use case and a focus area in which it may be done, named by plan and number."""

    use_case: str
    plan: str
    focus_area: int


@dataclass(frozen=True)
class MeView:
    """Who the caller is and what it may do: the user's view, the people it stands in for today,
    and `access.abilities` (the same answer the header's menu shows)."""

    username: str
    display_name: str
    email: str
    language: str
    office: str | None
    roles: list[RoleView]
    substituting_for: list[str]
    may: list[str]  # use cases, a scoped one when it may be done in at least one focus area
    scopes: list[ScopeView]  # where each scoped use case in `may` may be done
    lanes: list[str]  # the task lanes it works in


def me(session: Session, user: User) -> MeView:
    """Who the caller is: roles, the people it stands in for today, and what the authority lets it
    do besides its inbox."""
    standing = access.standing(session, user)  # read once: every use case is asked of it
    able = access.abilities(session, standing)
    ids = sorted({area for areas in able.scopes.values() for area in areas})
    names = (
        session.execute(
            select(FocusArea.id, Plan.slug, FocusArea.number)
            .join(Plan, Plan.id == FocusArea.plan_id)
            .where(FocusArea.id.in_(ids))
        ).all()
        if ids
        else []
    )
    scopes = sorted(
        ScopeView(case.value, slug, number)
        for case, areas in able.scopes.items()
        for area_id, slug, number in names
        if area_id in areas
    )
    return MeView(
        user.username,
        user.display_name,
        user.email,
        user.language,
        user.office,
        _roles(session, user).get(user.id, []),
        [p.username for p in standing.people[1:]],
        sorted(case.value for case in able.use_cases),
        scopes,
        list(able.lanes),
    )


@dataclass(frozen=True)
class SubstitutionView:
    """Who stands in for whom, from when until when (None: until further notice)."""

    id: int
    absent: str
    substitute: str
    starts_on: date
    ends_on: date | None


def substitutes(session: Session, actor: Actor) -> list[SubstitutionView]:
    """Every substitution, newest first, for an administrator."""
    access.require(session, actor, UseCase.MANAGE_PEOPLE)
    rows = session.scalars(
        select(Substitution)
        .options(selectinload(Substitution.absent), selectinload(Substitution.substitute))
        .order_by(Substitution.id.desc())
    ).all()
    return [substitution_view(s) for s in rows]


def substitution_view(substitution: Substitution) -> SubstitutionView:
    return SubstitutionView(
        substitution.id,
        substitution.absent.username,
        substitution.substitute.username,
        substitution.starts_on,
        substitution.ends_on,
    )


@dataclass(frozen=True)
class Holdings:
    """What a person still holds, for the administrator about to deactivate them: the activities
    they own (still open) and the tasks in their inbox now, which once they cannot sign in wait for
    someone else (a new owner, a substitute, a reassignment)."""

    username: str
    display_name: str
    active: bool
    owned_activities: int
    open_tasks: int
    owned: list[tuple[str, str, str]]  # (plan title, code, title) of the first OWNED_SHOWN owned


OWNED_SHOWN = 50  # named on the page; beyond, the count says how many more
# As the header counts an inbox: a bounded read, however full the inbox (tasks.INBOX_COUNT_CAP).
OPEN_TASKS_CAP = 1000


def holdings(session: Session, actor: Actor, username: str) -> Holdings:
    """What `username` holds now, for an administrator: owned open activities, and their inbox's
    tasks counted by the inbox's own condition (access.Standing.task_condition)."""
    access.require(session, actor, UseCase.MANAGE_PEOPLE)
    user = get_user(session, username)
    owned = session.scalar(
        select(func.count())
        .select_from(Activity)
        .where(Activity.owner_id == user.id, Activity.state != ActivityState.CLOSED)
    )
    waiting = select(OpenTask.id).where(access.standing(session, user).task_condition()).limit(OPEN_TASKS_CAP)
    open_tasks = session.scalar(select(func.count()).select_from(waiting.subquery()))
    named = session.execute(
        select(Plan.title, Activity.code, Activity.title)
        .join(Plan, Plan.id == Activity.plan_id)
        .where(Activity.owner_id == user.id, Activity.state != ActivityState.CLOSED)
        .order_by(Plan.id, Activity.id)
        .limit(OWNED_SHOWN)
    ).all()
    owned_rows = [(plan, code, title) for plan, code, title in named]
    return Holdings(user.username, user.display_name, user.active, owned or 0, open_tasks or 0, owned_rows)


@dataclass(frozen=True)
class RoleChoice:
    """A role an administrator can grant, as `RoleSpec.parse` reads it (`spec`), with what the page
    names it by: the role, and for a focus-area role the plan and the focus area's number and title."""

    spec: str
    role: str  # a Role's value
    plan: str | None
    plan_title: str | None
    focus_area: int | None
    focus_area_title: str | None


def role_choices(session: Session, actor: Actor) -> list[RoleChoice]:
    """Every role that can be granted: each unscoped role once, each focus-area role once per focus
    area of every plan (the scope written `plan/number`, so no plan is taken for another)."""
    access.require(session, actor, UseCase.MANAGE_PEOPLE)
    areas = session.execute(
        select(Plan.slug, Plan.title, FocusArea.number, FocusArea.title)
        .join(Plan, Plan.id == FocusArea.plan_id)
        .order_by(Plan.id, FocusArea.number)
    ).all()
    choices = []
    for role in Role:
        if role in FOCUS_AREA_ROLES:
            for slug, plan_title, number, title in areas:
                spec = RoleSpec(role, focus_area=number, plan=slug)
                choices.append(RoleChoice(str(spec), role.value, slug, plan_title, number, title))
        else:
            choices.append(RoleChoice(str(RoleSpec(role)), role.value, None, None, None, None))
    return choices


@dataclass(frozen=True)
class ActivityChoice:
    """An activity whose owner can be set: its plan, code and title, and its owner's username."""

    plan: str
    plan_title: str
    code: str
    title: str
    owner: str | None


def activity_choices(session: Session, actor: Actor) -> list[ActivityChoice]:
    """Every activity not closed, in every plan, by plan and code order."""
    access.require(session, actor, UseCase.MANAGE_PEOPLE)
    rows = session.execute(
        select(Plan.slug, Plan.title, Activity.code, Activity.title, User.username)
        .join(Plan, Plan.id == Activity.plan_id)
        .outerjoin(User, User.id == Activity.owner_id)
        .where(Activity.state != ActivityState.CLOSED)
        .order_by(Plan.id, Activity.id)
    ).all()
    return [ActivityChoice(*row) for row in rows]


@dataclass(frozen=True)
class OpenTaskChoice:
    """An open task an administrator can reassign: its id (the form's value, never typed), the
    task's kind (`task.<name>` words), the activity's code and title or the focus area's number
    when it has one, and who holds it now."""

    id: str
    name: str
    activity: str | None
    activity_title: str | None
    focus_area: int | None
    assignee: str | None
    due_on: date | None


# The reassign list is bounded: a municipality has a few hundred open tasks at a time.
OPEN_TASK_CHOICES_CAP = 1000


def open_task_choices(session: Session, actor: Actor) -> list[OpenTaskChoice]:
    """Open tasks, by activity code, then kind, for the reassign form."""
    access.require(session, actor, UseCase.MANAGE_PEOPLE)
    rows = session.execute(
        select(
            OpenTask.id,
            OpenTask.name,
            Activity.code,
            Activity.title,
            FocusArea.number,
            User.username,
            OpenTask.due_on,
        )
        .outerjoin(Activity, Activity.id == OpenTask.activity_id)
        .outerjoin(FocusArea, FocusArea.id == OpenTask.focus_area_id)
        .outerjoin(User, User.id == OpenTask.assignee_id)
        .order_by(Activity.id, OpenTask.name, OpenTask.created_at)
        .limit(OPEN_TASK_CHOICES_CAP)
    ).all()
    return [OpenTaskChoice(*row) for row in rows]


@dataclass(frozen=True)
class TokenView:
    """A live API token, never the token itself: whose, when made, until when, last used."""

    id: int
    username: str
    display_name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


def tokens(session: Session, actor: Actor) -> list[TokenView]:
    """Every API token not revoked and not expired, newest first, for an administrator."""
    access.require(session, actor, UseCase.MANAGE_PEOPLE)
    now = clock.now()
    rows = session.execute(
        select(
            ApiToken.id,
            User.username,
            User.display_name,
            ApiToken.created_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
        .order_by(ApiToken.id.desc())
    ).all()
    return [TokenView(*row) for row in rows]


def current_substitutes(session: Session, actor: Actor) -> list[SubstitutionView]:
    """The substitutions in force today or later (an ended one is history, in the audit trail)."""
    today = clock.today()
    return [s for s in substitutes(session, actor) if s.ends_on is None or s.ends_on >= today]
