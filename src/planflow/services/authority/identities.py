"""Who a person signed in at an identity provider is in planflow, and the roles their groups give.

One rule for every provider kind (OpenID Connect now, SAML beside it): the person is found by the
provider's issuer and their stable subject there (`sub`, or a NameID), never by a display name. An
email claim links an existing account only where the administrator allowed it for that provider
and exactly one account has that address. Someone unknown is refused, or, by setting, given a new
account without roles. Roles the provider's groups map to are brought in line at every sign-in;
roles given in planflow are never touched, because each role row remembers which provider gave it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import clock
from ...engine.forms import CONTROL, ON_A_LINE
from ...i18n import Message
from ...models import FocusArea, Role, RoleAssignment, User, UserIdentity
from ..errors import InvalidInput
from ..plan import plans
from ..records import audit
from ..records.audit import Actor
from .logins import LoginOutcome
from .people import USERNAME, RoleSpec

# Bounds on what a provider sends: the columns' widths; a longer value is refused, never cut (two
# subjects cut to the same prefix would be one person).
LONGEST_SUBJECT = 255
LONGEST_NAME = 200
LONGEST_EMAIL = 254
MOST_GROUPS = 500
_NOT_IN_USERNAME = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class Provider:
    """An identity provider as the administrator configured it."""

    name: str  # the configuration's key, e.g. "entra"
    issuer: str  # the OpenID Connect issuer, or the SAML IdP's entity id
    label: str  # the sign-in button's text
    link_by_email: bool = False
    create_unknown: bool = False
    # A group at the provider -> the role specs (`planflow users` syntax) it gives.
    group_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def check_group_roles(group_roles: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The mapping with every role spec parsed once (InvalidInput on the first bad one): a role
    given by a group is a role row, so an activity's ownership cannot be one."""
    checked = {}
    for group, specs in group_roles.items():
        for text in specs:
            if RoleSpec.parse(text).role is None:
                raise InvalidInput("error.role.owner_from_provider", role=text)
        checked[str(group)] = tuple(specs)
    return checked


def identify(
    session: Session,
    provider: Provider,
    subject: str,
    email: str | None,
    name: str | None,
    groups: Sequence[str],
    address: str,
) -> LoginOutcome:
    """The planflow user a person signed in at `provider` is (their roles from groups brought in
    line, audited), or why they may not sign in. The caller has verified the assertion or token."""
    refused = LoginOutcome(None, Message("login.provider.failed", {"provider": provider.label}))
    if not subject or len(subject) > LONGEST_SUBJECT or CONTROL.search(subject):
        return refused
    email = _bounded(email, LONGEST_EMAIL)
    name = _bounded(name, LONGEST_NAME)
    if len(groups) > MOST_GROUPS:
        return refused
    try:
        wanted = _roles_wanted(session, provider, groups)
    except InvalidInput as exc:  # the mapping names a focus area the plan lacks: say so, change nothing
        return LoginOutcome(None, exc.message)
    now = clock.now()
    identity = session.scalar(
        select(UserIdentity).where(UserIdentity.issuer == provider.issuer, UserIdentity.subject == subject)
    )
    if identity is not None:
        user = identity.user
        if not user.active:
            return LoginOutcome(None, Message("login.provider.inactive"))
        identity.last_seen_at = now
    else:
        found = _by_email(session, email) if provider.link_by_email else None
        if found is None and not provider.create_unknown:
            return LoginOutcome(None, Message("login.provider.unknown", {"provider": provider.label}))
        if found is not None and not found.active:
            return LoginOutcome(None, Message("login.provider.inactive"))
        user = found or _new_user(session, provider, subject, email, name)
        session.add(
            UserIdentity(
                user_id=user.id, issuer=provider.issuer, subject=subject, created_at=now, last_seen_at=now
            )
        )
        audit.record(
            session,
            _provider_actor(provider),
            "user.identity_linked",
            "user",
            user.username,
            {"provider": provider.name, "issuer": provider.issuer, "by": "email" if found else "created"},
        )
    _bring_roles_in_line(session, provider, user, wanted)
    return LoginOutcome(user)


def _bounded(value: str | None, limit: int) -> str | None:
    """A claim stripped; None when absent, too long or not on one line (it is not used then)."""
    value = (value or "").strip()
    return value if value and len(value) <= limit and not ON_A_LINE.search(value) else None


def _provider_actor(provider: Provider) -> Actor:
    """The audit's actor for what a provider's sign-in decides: the provider, not a person."""
    return Actor(None, label=f"provider:{provider.name}"[:64])


def _by_email(session: Session, email: str | None) -> User | None:
    """The one account with exactly this address (letters' case aside), or None if none or several."""
    if not email:
        return None
    found = session.scalars(select(User).where(func.lower(User.email) == email.lower()).limit(2)).all()
    return found[0] if len(found) == 1 else None


def _new_user(
    session: Session, provider: Provider, subject: str, email: str | None, name: str | None
) -> User:
    """An account, without roles, for someone the provider vouches for (audited)."""
    base = _NOT_IN_USERNAME.sub("", (email or "").split("@")[0].lower())[:56] or "user"
    base = base if USERNAME.match(base) else f"user-{base}"[:56]
    username, number = base, 1
    while session.scalar(select(User.id).where(User.username == username)) is not None:
        number += 1
        username = f"{base}-{number}"
    user = User(
        username=username,
        display_name=name or email or username,
        email=email or "",
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        _provider_actor(provider),
        "user.added",
        "user",
        username,
        {"display_name": user.display_name, "email": user.email, "provider": provider.name},
    )
    return user


def _roles_wanted(
    session: Session, provider: Provider, groups: Sequence[str]
) -> dict[tuple[Role, int | None], str]:
    """The roles `groups` map to, by (role, focus area id), each with its spec as written."""
    wanted: dict[tuple[Role, int | None], str] = {}
    for group in groups:
        for text in provider.group_roles.get(group, ()):
            spec = RoleSpec.parse(text)
            assert spec.role is not None  # check_group_roles refused ownership at start-up
            wanted.setdefault((spec.role, _focus_area_id(session, spec)), str(spec))
    return wanted


def _bring_roles_in_line(
    session: Session, provider: Provider, user: User, wanted: Mapping[tuple[Role, int | None], str]
) -> None:
    """Give the roles wanted and take back those this provider gave that are no longer wanted; one
    audit event when anything changed. A role the person already holds from planflow is left as
    it is, and stays when the group goes."""
    held = {(row.role, row.focus_area_id): row for row in user.roles if row.activity_id is None}
    added = []
    for (role, focus_area_id), text in wanted.items():
        if (role, focus_area_id) not in held:
            session.add(
                RoleAssignment(
                    user_id=user.id,
                    role=role,
                    focus_area_id=focus_area_id,
                    granted_by_provider=provider.issuer,
                )
            )
            added.append(text)
    removed = []
    for key, row in held.items():
        if row.granted_by_provider == provider.issuer and key not in wanted:
            removed.append(_spec_text(row))
            session.delete(row)
    if added or removed:
        session.flush()
        session.expire(user, ["roles"])
        audit.record(
            session,
            _provider_actor(provider),
            "user.roles_from_provider",
            "user",
            user.username,
            {"provider": provider.name, "added": added, "removed": removed},
        )


def _focus_area_id(session: Session, spec: RoleSpec) -> int | None:
    if spec.focus_area is None:
        return None
    plan = plans.get_plan(session, spec.plan)
    found = session.scalar(
        select(FocusArea.id).where(FocusArea.plan_id == plan.id, FocusArea.number == spec.focus_area)
    )
    if found is None:
        raise InvalidInput("error.role.no_focus_area", number=spec.focus_area, plan=plan.title)
    return found


def _spec_text(row: RoleAssignment) -> str:
    number = row.focus_area.number if row.focus_area is not None else None
    return str(RoleSpec(row.role, focus_area=number))
