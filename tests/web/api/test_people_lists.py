"""The admin API's people operations added in issue 20, answered by the same services as the
admin page: the roles that can be granted (named), the API tokens in force and one revoked, a
substitution ended, a password link mailed (never answered)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from planflow.models import Notice, User
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR

from .conftest import Api


def test_roles_are_named_and_granted_by_their_spec(api: Api) -> None:
    roles = api("GET", "/roles", "admin").get_json()["items"]
    lead = next(r for r in roles if r["role"] == "focus_area_lead" and r["focus_area"] == 1)
    assert lead["focus_area_title"].startswith("Ett företagsklimat") and lead["plan_title"]
    assert api("POST", "/users/erik.berg/roles", "admin", {"role": lead["spec"]}).status_code == 204


def test_tokens_are_listed_and_one_is_revoked(api: Api) -> None:
    api.token("lead1")
    listed = api("GET", "/tokens", "admin").get_json()["items"]
    mine = [t for t in listed if t["username"] == "lead1"]
    assert len(mine) == 1 and not any("pf_" in str(v) for t in listed for v in t.values())
    assert api("DELETE", f"/tokens/{mine[0]['id']}", "admin").get_json() == {"revoked": 1}
    assert api("DELETE", f"/tokens/{mine[0]['id']}", "admin").get_json() == {"revoked": 0}
    assert api("GET", "/me", "lead1").status_code == 401  # revoked: it opens nothing
    assert all(t["id"] != mine[0]["id"] for t in api("GET", "/tokens", "admin").get_json()["items"])


def test_a_substitution_is_ended(api: Api) -> None:
    with api.db.transaction() as session:
        made = people.add_substitute(session, OPERATOR_ACTOR, "lead1", "anna.nilsson", date(2026, 1, 1), None)
        made_id = made.id
    ended = api("DELETE", f"/substitutes/{made_id}", "admin").get_json()
    assert ended["ends_on"] == "2026-11-01"  # yesterday as of the API tests' day
    assert api("DELETE", "/substitutes/999999", "admin").status_code == 404


def test_a_password_link_is_mailed_and_an_unknown_kind_refused(api: Api) -> None:
    assert api("POST", "/users/lead1/password-link", "admin", {"kind": "invite"}).status_code == 204
    assert api("POST", "/users/lead1/password-link", "admin", {"kind": "root"}).status_code == 400
    with api.db.reading() as session:
        templates = session.scalars(
            select(Notice.template).join(User, User.id == Notice.recipient_id).where(User.username == "lead1")
        ).all()
    assert templates.count("notice.account_invite") == 1
