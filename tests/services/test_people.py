"""Users, roles and tokens as services."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from planflow.db import Database
from planflow.models import Role, User
from planflow.services.authority import people
from planflow.services.errors import Forbidden, InvalidInput
from planflow.services.records.audit import OPERATOR_ACTOR, Actor


def test_token_identifies_its_user_until_revoked(seeded: Database) -> None:
    with seeded.transaction() as session:
        token = people.issue_token(session, OPERATOR_ACTOR, "lead2")
    with seeded.transaction() as session:
        user = people.user_for_token(session, token)
        assert user is not None and user.username == "lead2"
        assert user is not None
        assert people.user_for_token(session, token + "x") is None
        assert people.revoke_tokens(session, Actor(user), "lead2") == 1
    with seeded.transaction() as session:
        assert people.user_for_token(session, token) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("focus_area_lead", "error.role.needs_scope"),
        ("activity_owner", "error.role.needs_scope"),
        ("process_leader:x", "error.role.scope"),
        ("process_leader:3", "error.role.scope_kind"),
        ("wizard", "error.role.unknown"),
    ],
)
def test_malformed_role_specs_are_refused(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        people.RoleSpec.parse(text)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("activity_owner:1.1.1", people.RoleSpec(None, activity="1.1.1")),
        ("focus_area_lead:other-plan/3", people.RoleSpec(Role.FOCUS_AREA_LEAD, 3, plan="other-plan")),
        ("admin", people.RoleSpec(Role.ADMIN)),
    ],
)
def test_role_specs_name_plans_and_activities(text: str, spec: people.RoleSpec) -> None:
    assert people.RoleSpec.parse(text) == spec and str(spec) == text


def test_role_scoped_to_a_missing_focus_area_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        people.add_user(
            session,
            OPERATOR_ACTOR,
            "eva",
            "Eva",
            "eva@example.org",
            [people.RoleSpec.parse("focus_area_lead:9")],
        )
    assert refused.value.code == "error.role.no_focus_area"


def test_only_an_admin_or_the_operator_administers_people(session: Session) -> None:
    lead = Actor(people.get_user(session, "lead1"))
    with pytest.raises(Forbidden):
        people.add_user(session, lead, "eva", "Eva", "eva@example.org")
    with pytest.raises(Forbidden):
        people.set_activity_owner(session, lead, "1.1.1", "lead1")
    with pytest.raises(Forbidden):
        people.issue_token(session, lead, "lead2")
    assert people.issue_token(session, lead, "lead1").startswith("pf_")  # one's own token
    people.add_user(session, Actor(people.get_user(session, "admin")), "eva", "Eva", "eva@example.org")


@pytest.mark.parametrize("username", ["system", "operator"])
def test_the_audit_trails_own_names_are_not_usernames(session: Session, username: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        people.add_user(session, OPERATOR_ACTOR, username, "Någon", "n@example.org")
    assert refused.value.fields["username"].key == "form.username_reserved"
    assert session.scalar(select(User).where(User.username == username)) is None
