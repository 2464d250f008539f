"""Users, their roles, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from ... import clock
from ...engine.forms import CONTROL, ON_A_LINE
from ...i18n import LANGUAGES, Message
from ...models import ApiToken, FocusArea, Role, RoleAssignment, Substitution, User
from ..errors import Conflict, InvalidInput, NotFound, quote
from ..plan import activity_edits, plans
from ..records import audit
from ..records.audit import Actor
from . import access, logins, sessions
from .access import UseCase

USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
ACTIVITY_OWNER = "activity_owner"  # not a Role row: it is Activity.owner
# Roles that only make sense within one focus area.
FOCUS_AREA_ROLES = {Role.FOCUS_AREA_LEAD, Role.WORKING_GROUP}
SCOPE = re.compile(r"^(?:(?P<plan>[a-z0-9][a-z0-9-]{1,63})/)?(?P<where>\d{1,4}|\d{1,4}\.\d{1,4}\.\d{1,4})$")


@dataclass(frozen=True)
class RoleSpec:
    """A role to grant, with an optional scope: a focus area number or an activity code, in the
    default plan or, written `plan-slug/3`, in another. `activity_owner:1.1.1` makes the user the
    activity's owner."""

    role: Role | None  # None: activity ownership
    focus_area: int | None = None
    activity: str | None = None
    plan: str | None = None

    @classmethod
    def parse(cls, text: str) -> RoleSpec:
        """Parse `role`, `role:<focus area number>`, `role:<activity code>`, each scope optionally
        as `<plan slug>/<scope>`."""
        name, _, scope = text.partition(":")
        known = ", ".join([*(r.value for r in Role), ACTIVITY_OWNER])
        role: Role | None
        if name == ACTIVITY_OWNER:
            role = None
        else:
            try:
                role = Role(name)
            except ValueError:
                raise InvalidInput("error.role.unknown", role=quote(name), known=known) from None
        if not scope:
            if role is None or role in FOCUS_AREA_ROLES:
                raise InvalidInput("error.role.needs_scope", role=name)
            return cls(role)
        match = SCOPE.match(scope)
        if match is None:
            raise InvalidInput("error.role.scope", scope=quote(scope))
        where, plan = match.group("where"), match.group("plan")
        if "." in where:
            if role is not None:
                raise InvalidInput("error.role.scope_kind", role=name, scope=quote(scope))
            return cls(None, activity=where, plan=plan)
        if role not in FOCUS_AREA_ROLES:
            raise InvalidInput("error.role.scope_kind", role=name, scope=quote(scope))
        return cls(role, focus_area=int(where), plan=plan)

    def __str__(self) -> str:
        name = self.role.value if self.role else ACTIVITY_OWNER
        where = self.activity or (str(self.focus_area) if self.focus_area is not None else None)
        if where is None:
            return name
        return f"{name}:{self.plan}/{where}" if self.plan else f"{name}:{where}"


def role_choices(session: Session) -> list[str]:
    """The role specs an administrator can grant in the default plan, as `RoleSpec.parse` reads
    them: each role, a focus-area role once per focus area (an activity's owner is set by code)."""
    try:
        plan_id: int | None = plans.get_plan(session).id
    except NotFound:  # no plan loaded yet: the roles without a scope
        plan_id = None
    numbers = session.scalars(
        select(FocusArea.number).where(FocusArea.plan_id == plan_id).order_by(FocusArea.number)
    ).all()
    choices = []
    for role in Role:
        if role in FOCUS_AREA_ROLES:
            choices += [str(RoleSpec(role, focus_area=number)) for number in numbers]
        else:
            choices.append(str(RoleSpec(role)))
    return choices


def add_user(
    session: Session,
    actor: Actor,
    username: str,
    display_name: str,
    email: str,
    roles: Sequence[RoleSpec] = (),
    password: str | None = None,
    language: str = "sv",
    office: str | None = None,
    is_demo: bool = False,
) -> User:
    """Create a user with its roles (an admin's act, audited); refuses a taken username or
    malformed fields."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    fields: dict[str, Message] = {}
    if not USERNAME.match(username):
        fields["username"] = Message("form.username")
    elif username in (audit.SYSTEM, audit.OPERATOR):  # the audit trail's names for no account
        fields["username"] = Message("form.username_reserved")
    if ON_A_LINE.search(display_name):  # one line: a mail's To, a log line, a list's row
        fields["display_name"] = Message("form.control_characters")
    elif not display_name.strip() or len(display_name) > 200:
        fields["display_name"] = Message("form.text", {"max": 200})
    if not EMAIL.match(email) or CONTROL.search(email):
        fields["email"] = Message("form.email")
    if language not in LANGUAGES:
        fields["language"] = Message("form.one_of", {"choices": ", ".join(LANGUAGES)})
    refusal = logins.password_refusal(password) if password else None
    if refusal is not None:
        fields["password"] = refusal
    if fields:
        raise InvalidInput("error.input.invalid", fields=fields)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("error.user.taken", username=username)
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email,
        language=language,
        office=office,
        password_hash=logins.new_password_hash(password) if password else None,
        is_demo=is_demo,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.added",
        "user",
        username,
        {
            "display_name": user.display_name,
            "email": email,
            "language": language,
            "password_set": bool(password),
        },
    )
    for spec in roles:
        grant_role(session, actor, user, spec)
    session.flush()
    return user


def grant_role(session: Session, actor: Actor, user: User, spec: RoleSpec) -> None:
    """Give `user` a role, resolving its scope (an admin's act, audited); granting the same role
    twice is a no-op."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    if spec.role is None:
        assert spec.activity is not None
        set_activity_owner(session, actor, spec.activity, user.username, spec.plan)
        return
    focus_area_id = None
    if spec.focus_area is not None:
        plan = plans.get_plan(session, spec.plan)
        focus_area_id = session.scalar(
            select(FocusArea.id).where(FocusArea.plan_id == plan.id, FocusArea.number == spec.focus_area)
        )
        if focus_area_id is None:
            raise InvalidInput("error.role.no_focus_area", number=spec.focus_area, plan=plan.title)
    held = session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == spec.role,
            RoleAssignment.focus_area_id.is_(None)
            if focus_area_id is None
            else RoleAssignment.focus_area_id == focus_area_id,
        )
    )
    if held is not None:
        return
    session.add(RoleAssignment(user_id=user.id, role=spec.role, focus_area_id=focus_area_id))
    session.flush()
    session.expire(user, ["roles"])
    audit.record(session, actor, "role.granted", "user", user.username, {"role": str(spec)})


def revoke_role(session: Session, actor: Actor, username: str, spec: RoleSpec) -> int:
    """Take a role from a user (an admin's act, audited); returns how many assignments ended."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    if spec.role is None:
        raise InvalidInput("error.role.owner_revoke")
    user = get_user(session, username)
    assignments = [
        a
        for a in session.scalars(
            select(RoleAssignment)
            .options(selectinload(RoleAssignment.focus_area))
            .where(RoleAssignment.user_id == user.id, RoleAssignment.role == spec.role)
        )
        if spec.focus_area is None or (a.focus_area is not None and a.focus_area.number == spec.focus_area)
    ]
    for assignment in assignments:
        session.delete(assignment)
    session.flush()
    session.expire(user, ["roles"])
    if assignments:
        audit.record(session, actor, "role.revoked", "user", username, {"role": str(spec)})
        if not user.roles:  # nothing left to do here: the person's sessions end with the last role
            sessions.end_all(session, user, "roles_revoked")
    return len(assignments)


def set_active(session: Session, actor: Actor, username: str, active: bool) -> User:
    """Let a user sign in and act, or stop them at once (an admin's act, audited); returns the
    user, whose name the confirmation says."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    user = get_user(session, username)
    if user.active != active:
        user.active = active
        audit.record(session, actor, "user.activated" if active else "user.deactivated", "user", username)
    if not active:
        sessions.end_all(session, user, "deactivated")
    return user


@dataclass(frozen=True)
class OwnerView:
    """An activity's owner as set: the plan, the activity's code, the owner's username."""

    plan: str
    code: str
    owner: str


def set_activity_owner(
    session: Session,
    actor: Actor,
    code: str,
    username: str,
    plan_slug: str | None = None,
    seen: str | None = None,
) -> OwnerView:
    """Make `username` the owner of an activity: an edit of the plan by the one rule of
    `activity_edits.change_activity` (UseCase.EDIT_PLAN; the office is the activity's own and stays; one
    event, `activity.updated`; the version `seen` checked when the caller has one). The owner's
    open tasks follow: the activity owner's lane is whoever owns the activity now."""
    activity_edits.change_activity(session, actor, plan_slug, code, {"owner": username}, seen)
    return OwnerView(plans.get_plan(session, plan_slug).slug, code, username)


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("error.user.not_found", username=quote(username))
    return user


def _self_or(session: Session, actor: Actor, username: str, use_case: UseCase) -> tuple[Actor, User]:
    """Everyone manages their own password and tokens; an admin manages anyone's."""
    user = get_user(session, username)
    if actor.user is not None and actor.user.id == user.id and user.active:
        return actor, user
    return access.require(session, actor, use_case), user


def set_password(session: Session, actor: Actor, username: str, password: str) -> None:
    """Set a login password (audited, the password never), refused unless long enough and not a
    common one (logins.new_password_hash). Every session of the person ends: whoever knew the old
    password is signed out too (a caller that keeps the person signed in starts a new session)."""
    actor, user = _self_or(session, actor, username, UseCase.MANAGE_PEOPLE)
    user.password_hash = logins.new_password_hash(password)
    ended = sessions.end_all(session, user, "password_changed")
    audit.record(session, actor, "user.password_set", "user", username, {"sessions_ended": ended})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, actor: Actor, username: str, expires_in_days: int | None = None) -> str:
    """Make a new API bearer token for a user (audited), valid until revoked or, with
    `expires_in_days`, until then; only its hash is stored, so it is shown once."""
    actor, user = _self_or(session, actor, username, UseCase.MANAGE_TOKENS)
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise InvalidInput(
            "error.input.invalid",
            fields={"expires_in_days": Message("form.out_of_range", {"limit": "1–3650"})},
        )
    now = clock.now()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days is not None else None
    token = "pf_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=token_hash(token), created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "token.issued", "user", username, {"token_id": row.id, "expires_at": expires_at}
    )
    return token


def revoke_tokens(session: Session, actor: Actor, username: str) -> int:
    """Revoke every live token of a user (audited); returns how many."""
    actor, user = _self_or(session, actor, username, UseCase.MANAGE_TOKENS)
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = clock.now()
    if tokens:
        audit.record(session, actor, "token.revoked", "user", username, {"token_ids": [t.id for t in tokens]})
    return len(tokens)


def live_token(token: str) -> list[ColumnElement[bool]]:
    """The conditions under which `token` opens requests: known, not revoked, not expired, and
    its user active."""
    return [
        ApiToken.token_hash == token_hash(token),
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > clock.now()),
        User.active.is_(True),
    ]


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    return session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id).where(*live_token(token)))


def add_substitute(
    session: Session, actor: Actor, absent: str, substitute: str, starts_on: date, ends_on: date | None
) -> Substitution:
    """An admin names someone to act on behalf of an absent person for a while (audited)."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput("error.input.invalid", fields={"ends_on": Message("form.before_start")})
    absent_user, substitute_user = get_user(session, absent), get_user(session, substitute)
    if absent_user.id == substitute_user.id:
        raise InvalidInput("error.substitute.self")
    substitution = Substitution(
        absent_id=absent_user.id,
        substitute_id=substitute_user.id,
        starts_on=starts_on,
        ends_on=ends_on,
        created_at=clock.now(),
    )
    session.add(substitution)
    session.flush()
    audit.record(
        session,
        actor,
        "substitute.named",
        "user",
        absent,
        {"substitute": substitute, "starts_on": starts_on, "ends_on": ends_on},
    )
    return substitution


def active_user(session: Session, user_id: int) -> User | None:
    """The user with this id while the account is active, else None: whom a signed-in session or
    a token stands for now (a deactivated account stops at its next request)."""
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def end_substitution(session: Session, actor: Actor, substitution_id: int) -> Substitution:
    """End a substitution at once (an admin's act, audited): its last day becomes yesterday, or the
    day before its start when it had not begun. Ending an ended one changes nothing."""
    actor = access.require(session, actor, UseCase.MANAGE_PEOPLE)
    substitution = session.get(Substitution, substitution_id)
    if substitution is None:
        raise NotFound("error.substitute.not_found", id=substitution_id)
    yesterday = clock.today() - timedelta(days=1)
    if substitution.ends_on is not None and substitution.ends_on <= yesterday:
        return substitution
    substitution.ends_on = max(yesterday, substitution.starts_on - timedelta(days=1))
    audit.record(
        session,
        actor,
        "substitute.ended",
        "user",
        substitution.absent.username,
        {"substitution_id": substitution.id, "substitute": substitution.substitute.username},
    )
    return substitution


def revoke_token(session: Session, actor: Actor, token_id: int) -> bool:
    """Revoke one API token by its id (an admin's act, audited); False when it was revoked already."""
    actor = access.require(session, actor, UseCase.MANAGE_TOKENS)
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("error.token.not_found", id=token_id)
    if token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    owner = session.get(User, token.user_id)
    assert owner is not None  # a foreign key
    audit.record(session, actor, "token.revoked", "user", owner.username, {"token_ids": [token.id]})
    return True
