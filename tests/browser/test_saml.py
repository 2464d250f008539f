"""Signing in through a real SAML 2 IdP started by the test (pysaml2's, tests/saml_idp.py), driven
in Chromium. The IdP and planflow are on different sites, as they are in production: the IdP on
http://127.0.0.1, planflow on http://localhost (a browser treats localhost as secure, so planflow
runs with production's Secure cookies), so the IdP's POST to the ACS is a cross-site POST that
does not carry planflow's SameSite=Lax session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as query

from planflow.db import Database
from planflow.models import AuditEvent
from tests.browser.conftest import LiveApp, serving
from tests.browser.test_journey import Visitor
from tests.saml_idp import LocalIdP
from tests.services.test_identities import roles_of

pytestmark = pytest.mark.browser
LABEL = "Kommunens e-legitimation"
GROUP_ROLES = {"planners": ["process_leader"], "board": ["board"]}
# The IdP's people: NameID -> attributes. lead2's address links the demo account lead2.
PEOPLE = {
    "u-lead2": {
        "mail": ["lead2@demo.planflow.invalid"],
        "displayName": ["Lena Andersson"],
        "groups": ["planners", "everyone"],
    },
    "stranger": {"mail": ["stranger@elsewhere.example"], "displayName": ["Okänd"], "groups": ["board"]},
}


class SamlLive(LiveApp):
    def __init__(self, url: str, db: Database, idp: LocalIdP) -> None:
        super().__init__(url, db)
        self.idp = idp


@pytest.fixture
def saml_live(tmp_path: Path) -> Iterator[SamlLive]:
    """planflow on a seeded database with one SAML provider, `test`, whose IdP runs beside it."""
    idp = LocalIdP(tmp_path / "idp")
    settings = {
        "SECURE_COOKIES": True,  # as in production: the IdP's POST is cross-site (localhost ≠ 127.0.0.1)
        "SAML_PROVIDERS": [
            {
                "name": "test",
                "label": LABEL,
                "idp_metadata": str(idp.metadata_file),
                "group_roles": GROUP_ROLES,
                "link_by_email": True,
            }
        ],
    }
    try:
        with serving(tmp_path, lambda url: {"BASE_URL": url, **settings}, host="localhost") as (url, db, _):
            idp.trust(f"{url}/saml/test/metadata")  # from its published address, as a federation would
            idp.people.update(
                {name: {k: list(v) for k, v in attributes.items()} for name, attributes in PEOPLE.items()}
            )
            yield SamlLive(url, db, idp)
    finally:
        idp.close()


def _at_idp(visitor: Visitor, live: SamlLive, username: str) -> None:
    """From planflow's login page to the IdP's login form, and back with its signed answer."""
    page = visitor.page
    page.get_by_role("link", name=LABEL).click()
    page.wait_for_url(live.idp.url + "/sso?**")
    page.get_by_label("Username").fill(username)
    page.get_by_role("button", name="Sign in at the IdP").click()
    page.wait_for_url(live.url + "/**")  # the IdP's page posts the answer to the ACS by itself


def _events(db: Database, action: str) -> list[dict[str, Any]]:
    with db.sessions() as session:
        found = session.scalars(query(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        return [{"actor": event.actor, "subject": event.subject_id, **(event.data or {})} for event in found]


def test_saml_sign_in_maps_groups_to_roles_logs_out_at_the_idp_and_refuses_a_stranger(
    browser: Any, saml_live: SamlLive
) -> None:
    live = saml_live
    visitor = Visitor(browser, live, {})
    try:
        visitor.go("/login")
        visitor.check("login-with-saml")
        _at_idp(visitor, live, "u-lead2")
        visitor.page.wait_for_url(re.compile(r"/inbox$"))
        assert "Välkommen, Fokusområdesansvarig 2 (demo)." in visitor.page.content()
        # lead2's own focus-area role stays; the group gave process_leader.
        assert roles_of(live.db, "lead2") == {"focus_area_lead:2", "process_leader"}
        assert _events(live.db, "user.roles_from_provider") == [
            {
                "actor": "provider:test",
                "subject": "lead2",
                "provider": "test",
                "added": ["process_leader"],
                "removed": [],
            }
        ]
        cookies = {c["name"] for c in visitor.context.cookies()}
        assert "planflow_saml_request" not in cookies  # the ACS used it up

        # Logging out ends the session at the IdP too (single logout), then comes back to /login.
        visitor.page.get_by_role("button", name="Logga ut").click()
        visitor.page.wait_for_url(live.url + "/login")
        assert live.idp.logged_out == ["u-lead2"]
        visitor.go("/inbox")
        assert "/login" in visitor.page.url

        # At the IdP, the groups changed: the next sign-in brings planflow's roles in line.
        live.idp.people["u-lead2"]["groups"] = ["board"]
        visitor.go("/login")
        _at_idp(visitor, live, "u-lead2")
        visitor.page.wait_for_url(re.compile(r"/inbox$"))
        assert roles_of(live.db, "lead2") == {"focus_area_lead:2", "board"}
        assert _events(live.db, "user.roles_from_provider")[-1] == {
            "actor": "provider:test",
            "subject": "lead2",
            "provider": "test",
            "added": ["board"],
            "removed": ["process_leader"],
        }
        assert len(_events(live.db, "user.identity_linked")) == 1
    finally:
        visitor.close()

    # Someone the IdP knows but planflow does not: refused, with the reason on the login page.
    visitor = Visitor(browser, live, {})
    try:
        visitor.go("/login")
        _at_idp(visitor, live, "stranger")
        assert visitor.page.url == live.url + "/saml/test/acs"
        error = visitor.page.locator("#login-error")
        assert f"Du är inloggad hos {LABEL} men har inget konto i planflow" in error.inner_text()
        visitor.check("login-saml-refused")
        visitor.go("/inbox")
        assert "/login" in visitor.page.url
    finally:
        visitor.close()
