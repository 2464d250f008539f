"""Who a person signed in at an identity provider is: found by issuer and subject, linked by email
only where allowed, refused or created when unknown, roles from groups brought in line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from sqlalchemy import select

from planflow.db import Database
from planflow.models import AuditEvent, User, UserIdentity
from planflow.services.authority import identities, people
from planflow.services.authority.identities import Provider
from planflow.services.authority.logins import LoginOutcome
from planflow.services.errors import InvalidInput
from planflow.services.records.audit import OPERATOR_ACTOR

ENTRA = Provider(
    name="entra",
    issuer="https://login.example/tenant/v2.0",
    label="Entra ID",
    group_roles={"g-leaders": ("process_leader",), "g-lead-2": ("focus_area_lead:2",)},
)
LEAD2_MAIL = "lead2@demo.planflow.invalid"


def sign_in(
    db: Database,
    provider: Provider = ENTRA,
    subject: str = "sub-1",
    email: str | None = LEAD2_MAIL,
    name: str | None = "Fokusområdesansvarig 2 (demo)",
    groups: Sequence[str] = (),
) -> tuple[str | None, str | None]:
    """(username, refusal key) of one sign-in, committed as the web does."""
    with db.transaction() as session:
        outcome: LoginOutcome = identities.identify(
            session, provider, subject, email, name, groups, "10.0.0.1"
        )
        return (
            outcome.user.username if outcome.user else None,
            outcome.refusal.key if outcome.refusal else None,
        )


def roles_of(db: Database, username: str) -> set[str]:
    with db.sessions() as session:
        user = people.get_user(session, username)
        return {identities._spec_text(row) for row in user.roles}


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        )


def test_unknown_person_is_refused_even_with_a_known_email_and_name(seeded: Database) -> None:
    assert sign_in(seeded) == (None, "login.provider.unknown")
    with seeded.sessions() as session:
        assert session.scalar(select(UserIdentity)) is None


def test_email_links_an_account_only_where_allowed_then_the_subject_decides(seeded: Database) -> None:
    linking = replace(ENTRA, link_by_email=True)
    assert sign_in(seeded, linking) == ("lead2", None)
    assert [e.data for e in events(seeded, "user.identity_linked")] == [
        {"provider": "entra", "issuer": ENTRA.issuer, "by": "email"}
    ]
    # Later the subject finds the account, whatever the email and name say now, and even where
    # linking by email is off again.
    assert sign_in(seeded, ENTRA, email="someone.else@example.org", name="Admin") == ("lead2", None)
    # Another subject with lead2's name is somebody else.
    assert sign_in(seeded, ENTRA, subject="sub-2", email=None) == (None, "login.provider.unknown")
    # The same subject at another issuer is somebody else too.
    other = replace(ENTRA, issuer="https://idp.example/other", link_by_email=False)
    assert sign_in(seeded, other) == (None, "login.provider.unknown")


def test_an_email_two_accounts_share_links_neither(seeded: Database) -> None:
    with seeded.transaction() as session:
        people.add_user(session, OPERATOR_ACTOR, "lead2.twin", "Twin", LEAD2_MAIL.upper())
    assert sign_in(seeded, replace(ENTRA, link_by_email=True)) == (None, "login.provider.unknown")


def test_unknown_person_gets_an_account_without_roles_where_allowed(seeded: Database) -> None:
    creating = replace(ENTRA, create_unknown=True, group_roles={})
    username, _ = sign_in(seeded, creating, subject="new-1", email="Eva.Ny@kommun.example", name="Eva Ny")
    assert username == "eva.ny"
    assert roles_of(seeded, "eva.ny") == set()
    with seeded.sessions() as session:
        user = people.get_user(session, "eva.ny")
        assert (user.display_name, user.email, user.password_hash) == (
            "Eva Ny",
            "Eva.Ny@kommun.example",
            None,
        )
    # A second newcomer with the same mailbox name gets a username of their own.
    assert sign_in(seeded, creating, subject="new-2", email="eva.ny@other.example") == ("eva.ny-2", None)
    assert [e.actor for e in events(seeded, "user.added")][-2:] == ["provider:entra", "provider:entra"]


def test_groups_bring_roles_in_line_and_roles_given_in_planflow_stay(seeded: Database) -> None:
    linking = replace(ENTRA, link_by_email=True)
    # lead2 holds focus_area_lead:2 from planflow; the group mapping gives it too, and more.
    assert sign_in(seeded, linking, groups=["g-leaders", "g-lead-2", "unmapped"]) == ("lead2", None)
    assert roles_of(seeded, "lead2") == {"focus_area_lead:2", "process_leader"}
    assert [e.data for e in events(seeded, "user.roles_from_provider")] == [
        {"provider": "entra", "added": ["process_leader"], "removed": []}
    ]
    # The same groups again: nothing changes, nothing is recorded.
    sign_in(seeded, linking, groups=["g-lead-2", "g-leaders"])
    assert len(events(seeded, "user.roles_from_provider")) == 1
    # Both groups gone: the provider's role goes, planflow's stays.
    sign_in(seeded, linking, groups=[])
    assert roles_of(seeded, "lead2") == {"focus_area_lead:2"}
    assert events(seeded, "user.roles_from_provider")[-1].data == {
        "provider": "entra",
        "added": [],
        "removed": ["process_leader"],
    }


def test_a_deactivated_account_is_refused(seeded: Database) -> None:
    linking = replace(ENTRA, link_by_email=True)
    assert sign_in(seeded, linking) == ("lead2", None)
    with seeded.transaction() as session:
        people.set_active(session, OPERATOR_ACTOR, "lead2", False)
    assert sign_in(seeded, linking, groups=["g-leaders"]) == (None, "login.provider.inactive")
    assert roles_of(seeded, "lead2") == {"focus_area_lead:2"}


def test_a_mapping_to_a_missing_focus_area_refuses_and_changes_nothing(seeded: Database) -> None:
    broken = replace(ENTRA, link_by_email=True, group_roles={"g": ("focus_area_lead:99",)})
    assert sign_in(seeded, broken, groups=["g"]) == (None, "error.role.no_focus_area")
    with seeded.sessions() as session:
        assert session.scalar(select(UserIdentity)) is None


@pytest.mark.parametrize("subject", ["", "x" * 256, "sub\x00"])
def test_a_subject_out_of_bounds_is_refused(seeded: Database, subject: str) -> None:
    creating = replace(ENTRA, create_unknown=True)
    assert sign_in(seeded, creating, subject=subject) == (None, "login.provider.failed")
    with seeded.sessions() as session:
        assert session.scalar(select(User).where(User.username == "lead2-2")) is None


def test_a_group_cannot_make_anyone_an_activity_owner() -> None:
    with pytest.raises(InvalidInput) as refused:
        identities.check_group_roles({"g": ["activity_owner:1.1.1"]})
    assert refused.value.code == "error.role.owner_from_provider"
    assert identities.check_group_roles({"g": ["board"]}) == {"g": ("board",)}
