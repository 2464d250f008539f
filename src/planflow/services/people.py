"""Users, their roles, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import generate_password_hash

from .. import clock
from ..models import Activity, ApiToken, FocusArea, Role, RoleAssignment, Substitution, User
from . import access, audit
from .errors import Forbidden, InvalidInput, NotFound

USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
LANGUAGES = ("sv", "en")
# Roles that only make sense within one focus area.
FOCUS_AREA_ROLES = {Role.FOCUS_AREA_LEAD, Role.WORKING_GROUP}


@dataclass(frozen=True)
class RoleSpec:
    """A role to grant, with an optional scope: a focus area number or an activity code."""

    role: Role
    focus_area: int | None = None
    activity: str | None = None

    @classmethod
    def parse(cls, text: str) -> RoleSpec:
        """Parse `role`, `role:<focus area number>` or `role:<activity code>`."""
        name, _, scope = text.partition(":")
        try:
            role = Role(name)
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(f"unknown role {name!r} (known: {known})") from None
        if not scope:
            if role in FOCUS_AREA_ROLES:
                raise InvalidInput(f"role {name} needs a focus area, e.g. {name}:3")
            return cls(role)
        if scope.isdigit():
            return cls(role, focus_area=int(scope))
        if re.fullmatch(r"\d+\.\d+\.\d+", scope):
            return cls(role, activity=scope)
        raise InvalidInput(f"scope {scope!r} is neither a focus area number nor an activity code")


def add_user(
    session: Session,
    username: str,
    display_name: str,
    email: str,
    roles: Sequence[RoleSpec] = (),
    password: str | None = None,
    language: str = "sv",
    office: str | None = None,
    is_demo: bool = False,
) -> User:
    """Create a user with its roles; refuses a taken username or malformed fields."""
    if not USERNAME.match(username):
        raise InvalidInput(f"username {username!r}: use 2–64 of a-z, 0-9, '.', '_', '-'")
    if not display_name.strip():
        raise InvalidInput("display name must not be empty")
    if not EMAIL.match(email):
        raise InvalidInput(f"email {email!r} is not an email address")
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(f"username {username!r} is taken")
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email,
        language=language,
        office=office,
        password_hash=generate_password_hash(password) if password else None,
        is_demo=is_demo,
        created_at=clock.now(),
    )
    session.add(user)
    for spec in roles:
        grant_role(session, user, spec)
    session.flush()
    return user


def grant_role(session: Session, user: User, spec: RoleSpec) -> RoleAssignment:
    """Give `user` a role, resolving its scope; granting the same role twice is a no-op."""
    focus_area_id = activity_id = None
    if spec.focus_area is not None:
        focus_area_id = session.scalar(select(FocusArea.id).where(FocusArea.number == spec.focus_area))
        if focus_area_id is None:
            raise InvalidInput(f"there is no focus area {spec.focus_area}")
    if spec.activity is not None:
        activity_id = session.scalar(select(Activity.id).where(Activity.code == spec.activity))
        if activity_id is None:
            raise InvalidInput(f"there is no activity {spec.activity}")
    for existing in user.roles:
        if (existing.role, existing.focus_area_id, existing.activity_id) == (
            spec.role,
            focus_area_id,
            activity_id,
        ):
            return existing
    assignment = RoleAssignment(role=spec.role, focus_area_id=focus_area_id, activity_id=activity_id)
    user.roles.append(assignment)
    return assignment


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def set_password(session: Session, username: str, password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters")
    get_user(session, username).password_hash = generate_password_hash(password)


def list_users(session: Session) -> list[dict[str, Any]]:
    """Every user with its roles and scopes; owning activities shows as the activity_owner role."""
    users = session.scalars(
        select(User)
        .options(
            selectinload(User.roles).selectinload(RoleAssignment.focus_area),
            selectinload(User.roles).selectinload(RoleAssignment.activity),
        )
        .order_by(User.username)
    ).all()
    owned: dict[int | None, list[str]] = {}
    for owner_id, code in session.execute(
        select(Activity.owner_id, Activity.code).where(Activity.owner_id.is_not(None)).order_by(Activity.id)
    ):
        owned.setdefault(owner_id, []).append(code)
    result = []
    for user in users:
        roles: list[dict[str, Any]] = [
            {
                "role": a.role.value,
                "focus_area": a.focus_area.number if a.focus_area else None,
                "activity": a.activity.code if a.activity else None,
            }
            for a in user.roles
        ]
        roles += [
            {"role": "activity_owner", "focus_area": None, "activity": code}
            for code in owned.get(user.id, [])
        ]
        result.append(
            {
                "username": user.username,
                "display_name": user.display_name,
                "email": user.email,
                "language": user.language,
                "office": user.office,
                "active": user.active,
                "demo": user.is_demo,
                "roles": roles,
            }
        )
    return result


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, username: str) -> str:
    """Make a new API bearer token for a user; only its hash is stored, so it is shown once."""
    user = get_user(session, username)
    token = "pf_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=clock.now()))
    session.flush()
    return token


def revoke_tokens(session: Session, username: str) -> int:
    """Revoke every live token of a user; returns how many."""
    user = get_user(session, username)
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = clock.now()
    return len(tokens)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    return session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None), User.active)
    )


def add_substitute(
    session: Session, admin: User, absent: str, substitute: str, starts_on: date, ends_on: date | None
) -> Substitution:
    """An admin names someone to act on behalf of an absent person for a while."""
    if not access.has_role(admin, Role.ADMIN):
        raise Forbidden("only an admin names substitutes")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(
            "the substitution ends before it starts", {"ends_on": "must not be before starts_on"}
        )
    absent_user, substitute_user = get_user(session, absent), get_user(session, substitute)
    if absent_user.id == substitute_user.id:
        raise InvalidInput("a person cannot substitute for themselves")
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
        audit.Actor(admin, None, "admin"),
        "substitute.named",
        "user",
        absent,
        {"substitute": substitute, "starts_on": starts_on, "ends_on": ends_on},
    )
    return substitution
