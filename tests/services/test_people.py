"""Users, roles and tokens as services."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from planflow.db import Database
from planflow.services import people
from planflow.services.errors import InvalidInput


def test_token_identifies_its_user_until_revoked(seeded: Database) -> None:
    with seeded.transaction() as session:
        token = people.issue_token(session, "lead2")
    with seeded.transaction() as session:
        user = people.user_for_token(session, token)
        assert user is not None and user.username == "lead2"
        assert people.user_for_token(session, token + "x") is None
        assert people.revoke_tokens(session, "lead2") == 1
    with seeded.transaction() as session:
        assert people.user_for_token(session, token) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("focus_area_lead", "needs a focus area"),
        ("process_leader:x", "neither a focus area number nor an activity code"),
        ("wizard", "unknown role 'wizard'"),
    ],
)
def test_malformed_role_specs_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        people.RoleSpec.parse(text)


def test_role_scoped_to_a_missing_focus_area_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="no focus area 9"):
        people.add_user(
            session, "eva", "Eva", "eva@example.org", [people.RoleSpec.parse("focus_area_lead:9")]
        )
