"""Who a person signed in by an identity provider is, and the roles their groups give them.

TEMPORARY (SAML branch): helper `oidc` writes the real module with this same interface — matching
by (issuer, subject) kept in the database, email linking when allowed, creating unknown people by
setting — and it replaces this file at merge. Until then a subject is matched to the user whose
username equals it (`_user_named_as_subject`), which is enough to develop and test SAML sign-in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...i18n import Message
from ...models import User
from ..records.audit import SYSTEM_ACTOR
from . import people
from .logins import LoginOutcome


@dataclass(frozen=True)
class Provider:
    """An identity provider as planflow trusts it: its name in addresses, its issuer (entity id),
    the label on its button, whether an email links an existing account, whether an unknown
    person is created (without roles), and the roles each of its groups gives."""

    name: str
    issuer: str
    label: str
    link_by_email: bool = False
    create_unknown: bool = False
    group_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _user_named_as_subject(session: Session, subject: str) -> User | None:
    """TEMPORARY: the user whose username is the subject (the oidc helper's module keeps a real
    (issuer, subject) link instead)."""
    return session.scalar(select(User).where(User.username == subject.strip().lower()[:64]))


def identify(
    session: Session,
    provider: Provider,
    subject: str,
    email: str | None,
    name: str | None,
    groups: Iterable[str],
    address: str,
) -> LoginOutcome:
    """The planflow user a provider vouched for, with the roles its groups give applied; or a
    refusal (an unknown or deactivated person)."""
    user = _user_named_as_subject(session, subject)
    if user is None or not user.active:
        return LoginOutcome(None, Message("login.sso.unknown"))
    _apply_group_roles(session, provider, user, set(groups))
    return LoginOutcome(user)


def _apply_group_roles(session: Session, provider: Provider, user: User, groups: set[str]) -> None:
    """Grant the roles the person's groups give; take back a role the mapping could give that no
    group of theirs gives now. Roles outside the mapping (given in planflow) stay. Granting and
    revoking are audited by people.grant_role and people.revoke_role."""
    wanted = {spec for group, specs in provider.group_roles.items() if group in groups for spec in specs}
    mapped = {spec for specs in provider.group_roles.values() for spec in specs}
    for text in sorted(wanted):
        people.grant_role(session, SYSTEM_ACTOR, user, people.RoleSpec.parse(text))
    for text in sorted(mapped - wanted):
        spec = people.RoleSpec.parse(text)
        if spec.role is not None:  # an activity's ownership is handed over, never just taken
            people.revoke_role(session, SYSTEM_ACTOR, user.username, spec)
