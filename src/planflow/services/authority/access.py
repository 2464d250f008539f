"""The one authority on who may do what. Every entry point (web, API, CLI, scheduler) asks here,
through the services, so none of them can decide differently.

Tasks: a task's lane names the role that works in it (LANES). Whether a person may act on an open
task is one SQL condition, `task_condition`: the inbox is that condition over all open tasks, and
the check before acting on one task is the same condition applied to that task, so "it is in my
inbox" and "I may act on it" cannot disagree. Assignment (a claim, an admin's reassignment) only
says whose turn it is: the right to act is checked every time, so a revoked role, an ended
substitution or a deactivated account stops the person at once.

Use cases that are not tasks (start a cycle, manage users…) are in USE_CASES: which roles may.

Substitutes: while a substitution is in force the substitute acts on behalf of the absent person,
with the absent person's rights; the audit trail names both.

Four eyes: nobody reviews what they reported themselves. A review of an activity's report (REVIEWS)
is not the right of the person acting when they own the activity or made the report; when it is a
lead of the area whose own report it is, the process leader may review it (workflows/README.md).

What a person may do, all told (the header's menu, GET /api/v1/me), is `abilities`; where their
work is (the page they land on after signing in), `Abilities.home`.

The plan as adopted (its areas, activities, offices and timelines) is a public document: anyone may
read it, signed in or not (planview.public_plan). Its traffic lights and everything reported are
for those signed in (READ_PLAN, READ_INTERNAL).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, literal, not_, or_, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from ... import clock
from ...models import (
    Activity,
    InterventionArea,
    OpenTask,
    ReviewOutcome,
    Role,
    RoleAssignment,
    StatusReport,
    Substitution,
    User,
)
from ..errors import Forbidden
from ..records.audit import Actor

# Lane -> the roles whose holders act in it. The activity owner's lane is the activity's owner;
# the focus-area lead's lane is scoped to the task's focus area. The steering group decides as a
# body; its chair (Destination Södertälje, who chairs and convenes it) records what it decided.
LANES: dict[str, tuple[Role, ...]] = {
    "activity_owner": (),
    "focus_area_lead": (Role.FOCUS_AREA_LEAD,),
    "process_leader": (Role.PROCESS_LEADER,),
    "steering_group": (Role.STEERING_CHAIR,),
    "board": (Role.BOARD,),
}
SCOPED_LANES = {"focus_area_lead"}
# The tasks in which a focus-area lead judges what an activity's owner reported: four eyes apply.
REVIEWS = ("review_report",)
# The owner's activities, under an alias so that a query joining Activity for its own columns (the
# inbox) does not correlate the subquery with it. Made once: an alias costs a copy of every column.
_OWNED = aliased(Activity, name="owned_activity")


class UseCase(enum.StrEnum):
    """What a person may do besides the tasks in their inbox."""

    START_CYCLE = "start_cycle"
    START_ANNUAL_REPORT = "start_annual_report"
    PROPOSE_ACTIVITY = "propose_activity"  # scoped: the focus area of the proposal
    MANAGE_PEOPLE = "manage_people"  # users, roles, substitutes, activity owners, reassigning tasks
    MANAGE_TOKENS = "manage_tokens"  # anyone's API tokens (everyone manages their own)
    READ_PLAN = "read_plan"  # the plan and its traffic lights: every signed-in user
    READ_INTERNAL = "read_internal"  # activity pages, reports, decisions, audit: municipal users
    GIVE_DIALOGUE_FEEDBACK = "give_dialogue_feedback"
    READ_DIALOGUE_FEEDBACK = "read_dialogue_feedback"  # everyone's, with who gave it (dialogueview)
    READ_STEERING_QUEUE = "read_steering_queue"
    # A member's (or the chair's) word on what awaits the group, before the chair records the
    # group's decision (services.chain.counsel): the group decides as a body.
    COMMENT_AS_MEMBER = "comment_as_member"
    ISSUE_REPORT = "issue_report"  # freeze a steering or annual report (services.issued)
    EDIT_PLAN = "edit_plan"  # titles, owners, offices and dates of activities (an Excel import)


# Roles of people from outside the municipality: they see the plan's status and their own
# feedback, nothing internal. Everyone else signed in is municipal staff (an activity owner may
# hold no role at all) and, for transparency across the organisation, reads everything internal.
OUTSIDE_ROLES = {Role.DIALOGUE}
OPEN_TO_EVERYONE = {UseCase.READ_PLAN}
OPEN_TO_MUNICIPAL = {UseCase.READ_INTERNAL}

USE_CASES: dict[UseCase, tuple[Role, ...]] = {
    UseCase.START_CYCLE: (Role.PROCESS_LEADER, Role.ADMIN),
    UseCase.START_ANNUAL_REPORT: (Role.PROCESS_LEADER, Role.ADMIN),
    UseCase.PROPOSE_ACTIVITY: (Role.FOCUS_AREA_LEAD, Role.WORKING_GROUP),
    UseCase.MANAGE_PEOPLE: (Role.ADMIN,),
    UseCase.MANAGE_TOKENS: (Role.ADMIN,),
    UseCase.READ_PLAN: (),
    UseCase.READ_INTERNAL: (),
    UseCase.GIVE_DIALOGUE_FEEDBACK: (Role.DIALOGUE,),
    # Whoever holds the business dialogue reads what its representatives gave (its task's case).
    UseCase.READ_DIALOGUE_FEEDBACK: (Role.PROCESS_LEADER, Role.ADMIN),
    UseCase.READ_STEERING_QUEUE: (
        Role.STEERING_GROUP,
        Role.STEERING_CHAIR,
        Role.PROCESS_LEADER,
        Role.BOARD,
        Role.ADMIN,
    ),
    UseCase.COMMENT_AS_MEMBER: (Role.STEERING_GROUP, Role.STEERING_CHAIR),
    UseCase.ISSUE_REPORT: (Role.PROCESS_LEADER, Role.ADMIN),
    UseCase.EDIT_PLAN: (Role.PROCESS_LEADER, Role.ADMIN),
}
SCOPED_USE_CASES = {UseCase.PROPOSE_ACTIVITY}
# What the local operator (a shell on the server: `planflow users …`) may do without an account.
# Editing the plan from a file is upkeep an operator may do; issuing a report needs a person.
# Reading internal records (`planflow audit verify`): the shell can read the database anyway.
OPERATOR_USE_CASES = {
    UseCase.MANAGE_PEOPLE,
    UseCase.MANAGE_TOKENS,
    UseCase.EDIT_PLAN,
    UseCase.READ_INTERNAL,
}


@dataclass(frozen=True)
class Grant:
    """A role as held by someone today (their own, or through a substitution)."""

    person_id: int
    role: Role
    focus_area_id: int | None


def represented(session: Session, user: User) -> list[User]:
    """The user, then every active person the user substitutes for today; nobody when the user is
    not active."""
    if not user.active:
        return []
    today = clock.today()
    absent = session.scalars(
        select(User)
        .join(Substitution, Substitution.absent_id == User.id)
        .where(
            Substitution.substitute_id == user.id,
            Substitution.starts_on <= today,
            or_(Substitution.ends_on.is_(None), Substitution.ends_on >= today),
            User.active,
        )
        .order_by(Substitution.id)
    ).all()
    return [user, *absent]


def _grants(session: Session, people: Sequence[User]) -> list[Grant]:
    """The roles of these people as the database says now (not as a loaded object remembers)."""
    if not people:
        return []
    rows = session.execute(
        select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.focus_area_id).where(
            RoleAssignment.user_id.in_([p.id for p in people])
        )
    ).all()
    return [Grant(user_id, role, focus_area_id) for user_id, role, focus_area_id in rows]


def task_branches(session: Session, people: Sequence[User]) -> list[ColumnElement[bool]]:
    """The open tasks that one of `people` may act on, as SQL conditions over OpenTask whose OR is
    the rule (`task_condition`): for each person, each lane whose right the person holds now (a
    lead's lane once per focus area), with the task unassigned or assigned to that same person.
    `people` are as `represented` gives them: the one acting first (whom four eyes concern).
    Each branch is one equality on an index, so the inbox can read it in order (services.tasks)."""
    return _branches(people, _grants(session, people))


def task_condition(session: Session, people: Sequence[User]) -> ColumnElement[bool]:
    """The open tasks that one of `people` may act on, as one SQL condition over OpenTask: the
    lane's right held now, and the task unassigned or assigned to that same person."""
    return _any(task_branches(session, people))


def _branches(
    people: Sequence[User], grants: Sequence[Grant], acting: User | None = None
) -> list[ColumnElement[bool]]:
    """The rule's branches for `people`, `acting` (by default the first of them) being who acts."""
    branches: list[ColumnElement[bool]] = []
    if not people:
        return branches
    # Four eyes: whoever acts (a substitute too) never reviews a report they made or whose
    # activity they own. A substitute of such a lead may review it for the lead.
    not_own = not_(own_report([(acting or people[0]).id]))
    for person in people:
        mine = or_(OpenTask.assignee_id.is_(None), OpenTask.assignee_id == person.id)
        roles = [g for g in grants if g.person_id == person.id]
        owns = OpenTask.activity_id.in_(select(_OWNED.id).where(_OWNED.owner_id == person.id))
        rights: list[ColumnElement[bool]] = [and_(OpenTask.lane == "activity_owner", owns)]
        for lane, lane_roles in LANES.items():
            held = [g for g in roles if g.role in lane_roles]
            if not held:
                continue
            if lane in SCOPED_LANES:
                areas = sorted({g.focus_area_id for g in held if g.focus_area_id is not None})
                rights.extend(
                    and_(OpenTask.lane == lane, OpenTask.focus_area_id == area, not_own) for area in areas
                )
            else:
                rights.append(OpenTask.lane == lane)
            if lane == "process_leader":  # a lead's own report is the process leader's to review
                rights.append(and_(OpenTask.lane == "focus_area_lead", _a_leads_own_report(), not_own))
        branches.extend(and_(right, mine) for right in rights)
    return branches


def own_report(user_ids: Sequence[int]) -> ColumnElement[bool]:
    """The review tasks (REVIEWS) that one of `user_ids` may not take: of an activity the person
    owns, or whose pending report the person made (`reporter_id`: on their own behalf, or the
    absent person a substitute reported for). An activity has one pending report at a time (a
    plan's cycles never run at once), so the activity names it."""
    owned = select(_OWNED.id).where(_OWNED.owner_id.in_(user_ids))
    reported = select(StatusReport.activity_id).where(
        StatusReport.review == ReviewOutcome.PENDING, StatusReport.reporter_id.in_(user_ids)
    )
    return and_(OpenTask.name.in_(REVIEWS), OpenTask.activity_id.in_(owned.union(reported)))


def _a_leads_own_report() -> ColumnElement[bool]:
    """The review tasks whose activity a lead of the activity's own focus area owns, or whose
    pending report such a lead made: that lead may not review it (four eyes), so the process
    leader may. Read as one set of activities, not task by task, so an inbox walk stays cheap."""
    activity, area = aliased(Activity, name="lead_activity"), aliased(InterventionArea, name="lead_area")

    def lead(user_id: Any) -> ColumnElement[bool]:
        return and_(
            RoleAssignment.user_id == user_id,
            RoleAssignment.role == Role.FOCUS_AREA_LEAD,
            RoleAssignment.focus_area_id == area.focus_area_id,
        )

    in_area = select(activity.id).join(area, area.id == activity.intervention_area_id)
    owned = in_area.join(RoleAssignment, lead(activity.owner_id))
    reported = (
        in_area.join(StatusReport, StatusReport.activity_id == activity.id)
        .join(RoleAssignment, lead(StatusReport.reporter_id))
        .where(StatusReport.review == ReviewOutcome.PENDING)
    )
    return and_(OpenTask.name.in_(REVIEWS), OpenTask.activity_id.in_(owned.union(reported)))


def _any(branches: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*branches) if branches else false()


def acting_for(session: Session, user: User, task_id: str) -> User | None:
    """The person on whose behalf `user` may act on the task now (the user itself first), or None.
    The same condition as the inbox, applied to one task."""
    found = standing(session, user)
    for person in found.people:
        condition = _any(_branches([person], found.grants, acting=user))
        allowed = session.scalar(select(OpenTask.id).where(OpenTask.id == task_id, condition))
        if allowed is not None:
            return person
    return None


def who_may_act(session: Session, tasks: ColumnElement[bool]) -> dict[str, list[int]]:
    """Who may act now on each open task that `tasks` (a condition over OpenTask) selects: the ids
    of the users in whose inbox it is, by the same rule (each user's `task_condition`), so a
    revoked role, an assignment to someone else, an ended substitution or four eyes count here
    as there. A substitute in force is there beside the person it stands in for. A task nobody
    may act on is left out. For whoever must be told about a task (reminders)."""
    # Whom the rule could admit: the tasks' activities' owners, their assignees, the holders of
    # a lane's role, and whoever stands in for one of them today. Each is then asked the rule.
    # Only the roles of the lanes the tasks are in (a lead's only in the tasks' areas) can admit
    # anyone: a new task's notice asks about a task or two, not about every role holder.
    lanes = session.execute(select(OpenTask.lane, OpenTask.focus_area_id).where(tasks).distinct()).all()
    if not lanes:
        return {}
    chosen = select(OpenTask.id).where(tasks)
    owners = select(Activity.owner_id).where(
        Activity.id.in_(select(OpenTask.activity_id).where(OpenTask.id.in_(chosen)))
    )
    assignees = select(OpenTask.assignee_id).where(OpenTask.id.in_(chosen))
    held: list[ColumnElement[bool]] = []
    for lane in {lane for lane, _ in lanes}:
        roles = list(LANES.get(lane, ()))
        if lane == "focus_area_lead":  # a lead's own report is the process leader's to review
            held.append(RoleAssignment.role == Role.PROCESS_LEADER)
        if not roles:
            continue
        if lane in SCOPED_LANES:
            areas = sorted({area for other, area in lanes if other == lane and area is not None})
            held.append(and_(RoleAssignment.role.in_(roles), RoleAssignment.focus_area_id.in_(areas)))
        else:
            held.append(RoleAssignment.role.in_(roles))
    holding = select(RoleAssignment.user_id).where(_any(held))
    ids = {i for i in session.scalars(owners.union(assignees, holding)) if i is not None}
    today = clock.today()
    standing_in = select(Substitution.substitute_id).where(
        Substitution.absent_id.in_(ids),
        Substitution.starts_on <= today,
        or_(Substitution.ends_on.is_(None), Substitution.ends_on >= today),
    )
    ids |= set(session.scalars(standing_in))
    users = session.scalars(select(User).where(User.id.in_(ids), User.active).order_by(User.id)).all()
    found: dict[str, list[int]] = {}
    standings = _standings(session, users)
    # Each user's rule over the chosen tasks, several users a statement (UNION ALL of one SELECT
    # each): a round trip per few users, not per user.
    for start in range(0, len(standings), WHO_PER_STATEMENT):
        part = standings[start : start + WHO_PER_STATEMENT]
        each = [
            select(literal(found_standing.user.id).label("user_id"), OpenTask.id.label("task_id")).where(
                tasks, found_standing.task_condition()
            )
            for found_standing in part
        ]
        for user_id, task_id in session.execute(union_all(*each) if len(each) > 1 else each[0]).all():
            found.setdefault(task_id, []).append(user_id)
    return {task_id: sorted(user_ids) for task_id, user_ids in found.items()}


# Users whose rule one statement of who_may_act reads (SQLite allows 500 SELECTs in a compound).
WHO_PER_STATEMENT = 50


def _standings(session: Session, users: Sequence[User]) -> list[Standing]:
    """Each active user's standing now, as `standing` reads it, for many users in two reads: the
    absent people each stands in for today, and every grant of them all."""
    if not users:
        return []
    today = clock.today()
    absent = aliased(User, name="absent")
    rows = session.execute(
        select(Substitution.substitute_id, absent)
        .join(absent, absent.id == Substitution.absent_id)
        .where(
            Substitution.substitute_id.in_([u.id for u in users]),
            Substitution.starts_on <= today,
            or_(Substitution.ends_on.is_(None), Substitution.ends_on >= today),
            absent.active,
        )
        .order_by(Substitution.id)
    ).all()
    people: dict[int, list[User]] = {user.id: [user] for user in users}
    for substitute_id, person in rows:
        people[substitute_id].append(person)
    everyone = {p.id: p for group in people.values() for p in group}
    grants = _grants(session, list(everyone.values()))
    standings = []
    for user in users:
        mine = {p.id for p in people[user.id]}
        standings.append(Standing(user, people[user.id], [g for g in grants if g.person_id in mine]))
    return standings


@dataclass(frozen=True)
class TaskFacts:
    """What says whether an open task is one person's or a group's: its lane and scope, whom it
    is assigned to, and, for a review, whose activity and report it is (four eyes)."""

    id: str
    name: str
    lane: str
    focus_area_id: int | None
    assignee_id: int | None
    owner_id: int | None  # the owner of the task's activity
    reporter_id: int | None  # who made the report a review is about


def shared_tasks(session: Session, tasks: Sequence[TaskFacts]) -> set[str]:
    """The ids of those `tasks` that are a group's, to be claimed by one of it: more than one
    person holds the right to act on each (task_people). Every other task is one person's, theirs
    without a claim: a task assigned to someone, an activity owner's, and one whose lane one person
    alone holds in its scope (the area's lead, the process leader, the steering group's chair, the
    board's secretary)."""
    return {task_id for task_id, people in task_people(session, tasks).items() if len(people) > 1}


def task_people(session: Session, tasks: Sequence[TaskFacts]) -> dict[str, set[int]]:
    """Whose each task is, by the rule of `task_branches`: the person it is assigned to; for an
    activity owner's task, the owner; else every active holder of its lane's role in its scope.
    A substitute stands in for one of them and is not counted. Four eyes count: a review is not the
    right of the activity's owner or the report's maker, and is the process leader's too when a
    lead of the area is either. One read of the lanes' holders, for a page of tasks."""
    lanes = {t.lane for t in tasks if t.assignee_id is None and LANES.get(t.lane)}
    grants: Sequence[Any] = []
    if lanes:
        roles = {role for lane in lanes for role in LANES[lane]} | {Role.PROCESS_LEADER}
        grants = session.execute(
            select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.focus_area_id)
            .join(User, User.id == RoleAssignment.user_id)
            .where(RoleAssignment.role.in_(sorted(roles)), User.active)
        ).all()

    def holders(lane: str, focus_area_id: int | None) -> set[int]:
        return {
            user_id
            for user_id, role, area in grants
            if role in LANES[lane] and (lane not in SCOPED_LANES or area == focus_area_id)
        }

    found: dict[str, set[int]] = {}
    for task in tasks:
        if task.assignee_id is not None:
            found[task.id] = {task.assignee_id}
        elif not LANES.get(task.lane):  # the activity owner's lane
            found[task.id] = {task.owner_id} if task.owner_id is not None else set()
        else:
            people = holders(task.lane, task.focus_area_id)
            if task.name in REVIEWS:
                own = {task.owner_id, task.reporter_id} - {None}
                if task.lane == "focus_area_lead" and people & own:
                    people |= holders("process_leader", None)
                people -= own
            found[task.id] = people
    return found


def task_actor(session: Session, user: User, task: OpenTask) -> Actor:
    """The Actor for `user` acting on `task`, or Forbidden naming the task and why."""
    principal = acting_for(session, user, task.id)
    if principal is None and task.name in REVIEWS:
        own = select(OpenTask.id).where(OpenTask.id == task.id, own_report([user.id]))
        if session.scalar(own) is not None:
            raise Forbidden("error.access.own_report", user=user.username, task={"key": f"task.{task.name}"})
    if principal is None:
        raise Forbidden(
            "error.access.task",
            user=user.username,
            task={"key": f"task.{task.name}"},
            reason={"key": f"access.lane.{task.lane}"},
        )
    role = task.lane
    if task.name in REVIEWS and task.lane == "focus_area_lead":
        held = _grants(session, [principal])
        if not any(g.role in LANES[role] and g.focus_area_id == task.focus_area_id for g in held):
            role = "process_leader"  # a lead's own report, reviewed by the process leader
    return Actor(user, principal if principal.id != user.id else None, role)


@dataclass(frozen=True)
class Standing:
    """A user's standing now, read once: the people it acts for (itself first) and their roles.
    Every use-case question (`may`, `scopes`) is answered from it."""

    user: User
    people: list[User]
    grants: list[Grant]

    def may(self, use_case: UseCase, focus_area_id: int | None = None) -> User | None:
        """The person on whose behalf the user may carry out `use_case` (itself first), or None."""
        found = self.allowing(use_case, focus_area_id)
        return found[0] if found else None

    def allowing(
        self, use_case: UseCase, focus_area_id: int | None = None
    ) -> tuple[User, Role | None] | None:
        """The person on whose behalf the user may carry out `use_case` (itself first) and the role
        of the grant that allows it (None for what every signed-in or municipal user may), or None.
        Roles are tried in USE_CASES' order, so an admin who is also process leader acts as the
        first role listed, whichever front end is used."""
        if not self.people:
            return None
        if use_case in OPEN_TO_EVERYONE:
            return self.user, None
        if use_case in OPEN_TO_MUNICIPAL:
            outsider = any(g.person_id == self.user.id and g.role in OUTSIDE_ROLES for g in self.grants)
            return None if outsider else (self.user, None)
        for person in self.people:
            for role in USE_CASES[use_case]:
                for grant in self.grants:
                    if grant.person_id != person.id or grant.role != role:
                        continue
                    if use_case in SCOPED_USE_CASES and grant.focus_area_id != focus_area_id:
                        continue
                    return person, role
        return None

    def task_branches(self) -> list[ColumnElement[bool]]:
        """`task_branches` for the people of this standing, from the roles read with it."""
        return _branches(self.people, self.grants)

    def task_condition(self) -> ColumnElement[bool]:
        """`task_condition` for the people of this standing, from the roles read with it."""
        return _any(self.task_branches())

    def scopes(self, use_case: UseCase) -> set[int]:
        """The focus areas in which the user may carry out a scoped `use_case` (on its own behalf
        or for someone it substitutes for): exactly the areas for which `may` answers someone."""
        roles = USE_CASES[use_case]
        return {g.focus_area_id for g in self.grants if g.role in roles and g.focus_area_id is not None}


def standing(session: Session, user: User | Standing) -> Standing:
    """The user's standing now (two reads), or the one already read and handed in."""
    if isinstance(user, Standing):
        return user
    people = represented(session, user)
    return Standing(user, people, _grants(session, people))


@dataclass(frozen=True)
class Abilities:
    """What a person may do now, all told: the use cases (a scoped one where it may be done in at
    least one focus area, with those areas) and the task lanes it works in. The header's menu and
    GET /api/v1/me both show this one answer."""

    use_cases: frozenset[UseCase]
    scopes: Mapping[UseCase, frozenset[int]]  # focus-area ids, for each scoped use case it may
    lanes: tuple[str, ...]  # in LANES' order

    def __contains__(self, use_case: object) -> bool:
        return use_case in self.use_cases

    @property
    def home(self) -> str:
        """Where the person's work is, the page to land on after signing in: "dialogue" for
        someone whose only work is giving the business dialogue's feedback (no task lane of their
        own or of anyone they stand in for, so never a task in the inbox), else "inbox"."""
        if UseCase.GIVE_DIALOGUE_FEEDBACK in self.use_cases and not self.lanes:
            return "dialogue"
        return "inbox"


def abilities(session: Session, user: User | Standing) -> Abilities:
    """What `user` (or the standing already read) may do now: each use case `Standing.may` allows,
    a scoped one (proposing an activity) where `Standing.scopes` names an area, and the lanes in
    which it (or someone it stands in for) works: the owner's lane when it owns an activity."""
    found = standing(session, user)
    scopes = {case: frozenset(found.scopes(case)) for case in SCOPED_USE_CASES}
    use_cases = frozenset(
        case
        for case in UseCase
        if (bool(scopes[case]) if case in SCOPED_USE_CASES else found.may(case) is not None)
    )
    ids = [p.id for p in found.people]
    owns = (
        bool(ids)
        and session.scalar(select(Activity.id).where(Activity.owner_id.in_(ids)).limit(1)) is not None
    )
    roles = {g.role for g in found.grants}
    lanes = tuple(
        lane
        for lane, lane_roles in LANES.items()
        if (owns if lane == "activity_owner" else bool(roles & set(lane_roles)))
    )
    return Abilities(use_cases, {case: areas for case, areas in scopes.items() if areas}, lanes)


def may(session: Session, user: User, use_case: UseCase, focus_area_id: int | None = None) -> User | None:
    """The person on whose behalf `user` may carry out `use_case` (itself first), or None."""
    return standing(session, user).may(use_case, focus_area_id)


def scopes(session: Session, user: User, use_case: UseCase) -> set[int]:
    """The focus areas in which `user` may carry out a scoped `use_case` now."""
    return standing(session, user).scopes(use_case)


def require(session: Session, actor: Actor, use_case: UseCase, focus_area_id: int | None = None) -> Actor:
    """The Actor to record `use_case` under, or Forbidden: the person it is done for and the role
    of the grant that allows it, never a role the caller names, so the page, the API and the
    command line record the same act alike. The local operator may administer people and tokens
    and nothing else; the system (timers, the schedule) does what it is built to."""
    if actor.user is None:
        if actor.is_system or use_case in OPERATOR_USE_CASES:
            return actor
        raise Forbidden("error.access.operator", use_case={"key": f"access.use_case.{use_case}"})
    found = standing(session, actor.user).allowing(use_case, focus_area_id)
    if found is None:
        raise Forbidden(
            "error.access.use_case",
            user=actor.user.username,
            use_case={"key": f"access.use_case.{use_case}"},
        )
    principal, role = found
    on_behalf_of = principal if principal.id != actor.user.id else None
    return Actor(actor.user, on_behalf_of, role.value if role else None)


def holders(session: Session, role: Role) -> list[User]:
    """The active users who hold `role` (anywhere), in a stable order."""
    return list(
        session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == role, User.active)
            .order_by(User.id)
        ).unique()
    )
