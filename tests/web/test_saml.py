"""SAML 2 sign-in against a real IdP (pysaml2's, tests/saml_idp.py) started by the test: the
signed response it posts is handed to planflow's ACS by the Flask test client."""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import migrate
from planflow.app import create_app
from planflow.db import get_db
from planflow.models import AuditEvent, RoleAssignment, User
from planflow.services.authority import people
from planflow.services.plan import demo, plans
from planflow.services.records.audit import OPERATOR_ACTOR
from planflow.web.saml import OUTSTANDING
from tests.saml_idp import LocalIdP

FIELD = re.compile(r'name="(SAMLResponse|RelayState)" value="([^"]*)"')
GROUP_ROLES = {"planners": ["process_leader"], "steering": ["steering_group"]}


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[LocalIdP]:
    idp = LocalIdP(tmp_path / "idp")
    yield idp
    idp.close()


@pytest.fixture
def saml_app(idp: LocalIdP, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    provider = {
        "name": "test",
        "label": "Test IdP",
        "idp_metadata": str(idp.metadata_file),
        "group_roles": GROUP_ROLES,
        # Anna's account exists before her first sign-in: her mail links it, then her NameID does.
        "link_by_email": True,
    }
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "SAML_PROVIDERS": [provider],
            "BASE_URL": "http://localhost",
            "SECURE_COOKIES": True,  # as in production: the request cookie must cross sites
        },
        str(tmp_path),
    )
    with app.app_context():
        db = get_db()
        migrate.upgrade(db.engine)
    with db.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())
        demo.create_demo_data(session)
        people.add_user(session, OPERATOR_ACTOR, "anna.sso", "Anna Sso", "anna@example.se")
    idp.trust_xml(app.test_client().get("/saml/test/metadata").get_data(as_text=True))
    idp.people["anna.sso"] = {
        "mail": ["anna@example.se"],
        "displayName": ["Anna Sso"],
        "groups": ["planners"],
    }
    idp.people["stranger"] = {"mail": ["x@example.se"], "displayName": ["Stranger"], "groups": ["planners"]}
    yield app
    db.dispose()


def signed_response(client: FlaskClient, idp: LocalIdP, username: str) -> dict[str, str]:
    """Start sign-in at planflow, sign in at the IdP: the form the IdP's page would post."""
    location = client.get("/login/saml/test").headers["Location"]
    assert location.startswith(idp.url + "/sso?")
    with urllib.request.urlopen(location, timeout=10) as answer:
        key = re.search(r'name="key" value="([^"]+)"', answer.read().decode()).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode({"key": key, "username": username}).encode()
    with urllib.request.urlopen(f"{idp.url}/login", body, timeout=10) as answer:
        return dict(FIELD.findall(answer.read().decode()))


def roles_of(app: Flask, username: str) -> set[str]:
    with app.app_context(), get_db().sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return {
            str(a.role)
            for a in session.scalars(select(RoleAssignment).where(RoleAssignment.user_id == user.id))
        }


def test_sign_in_maps_groups_to_roles_and_a_second_changes_them(saml_app: Flask, idp: LocalIdP) -> None:
    client = saml_app.test_client()
    response = client.post("/saml/test/acs", data=signed_response(client, idp, "anna.sso"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 200
    assert roles_of(saml_app, "anna.sso") == {"process_leader"}
    idp.people["anna.sso"]["groups"] = ["steering"]
    other = saml_app.test_client()
    assert other.post("/saml/test/acs", data=signed_response(other, idp, "anna.sso")).status_code == 302
    assert roles_of(saml_app, "anna.sso") == {"steering_group"}


def test_an_unknown_person_is_refused(saml_app: Flask, idp: LocalIdP) -> None:
    client = saml_app.test_client()
    response = client.post("/saml/test/acs", data=signed_response(client, idp, "stranger"))
    assert response.status_code == 401
    assert "inget konto i planflow" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_a_tampered_assertion_is_refused(saml_app: Flask, idp: LocalIdP) -> None:
    client = saml_app.test_client()
    form = signed_response(client, idp, "anna.sso")
    xml = base64.b64decode(form["SAMLResponse"]).decode()
    assert ">planners<" in xml
    form["SAMLResponse"] = base64.b64encode(xml.replace(">planners<", ">steering<").encode()).decode()
    response = client.post("/saml/test/acs", data=form)
    assert response.status_code == 401
    assert roles_of(saml_app, "anna.sso") == set()
    with saml_app.app_context(), get_db().sessions() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.saml.refused")).all()
    assert [e.data["reason"] for e in refused] == ["SignatureError"]


def test_an_expired_assertion_is_refused(saml_app: Flask, idp: LocalIdP) -> None:
    idp.lifetime = {"minutes": -5}  # past the 60 s of skew allowed
    client = saml_app.test_client()
    assert client.post("/saml/test/acs", data=signed_response(client, idp, "anna.sso")).status_code == 401
    assert client.get("/inbox").status_code == 302


def test_a_replayed_response_is_refused_even_with_the_cookie_from_before(
    saml_app: Flask, idp: LocalIdP
) -> None:
    client = saml_app.test_client()
    form = signed_response(client, idp, "anna.sso")
    cookie_before = client.get_cookie(OUTSTANDING, path="/saml/")
    assert cookie_before is not None
    assert client.post("/saml/test/acs", data=form).status_code == 302
    assert client.get_cookie(OUTSTANDING, path="/saml/") is None  # the ACS used it up
    thief = saml_app.test_client()
    thief.set_cookie(OUTSTANDING, cookie_before.value, path="/saml/")  # the request ID still in it
    response = thief.post("/saml/test/acs", data=form)
    assert response.status_code == 401
    assert "redan använts" in response.get_data(as_text=True)


def test_the_idps_cross_site_post_needs_only_the_request_cookie(saml_app: Flask, idp: LocalIdP) -> None:
    """A browser does not send the SameSite=Lax session cookie with the IdP's POST from another
    site: the request it answers is known from planflow's own request cookie alone, which is set
    to cross sites (SameSite=None; Secure) in production."""
    client = saml_app.test_client()
    form = signed_response(client, idp, "anna.sso")
    cookie = client.get_cookie(OUTSTANDING, path="/saml/")
    assert cookie is not None
    cross_site = saml_app.test_client()  # no session cookie at all, as the browser would post it
    cross_site.set_cookie(OUTSTANDING, cookie.value, path="/saml/")
    response = cross_site.post("/saml/test/acs", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert cross_site.get("/inbox").status_code == 200
    assert roles_of(saml_app, "anna.sso") == {"process_leader"}


def test_the_request_cookie_crosses_sites_only_on_https(saml_app: Flask) -> None:
    """In production (https) SameSite=None and Secure; on plain http a browser refuses SameSite=None
    without Secure, so Lax, for the IdP on the same site in local development."""
    set_cookie = saml_app.test_client().get("/login/saml/test").headers.get_all("Set-Cookie")
    request_cookie = [c for c in set_cookie if c.startswith(OUTSTANDING + "=")]
    assert len(request_cookie) == 1, set_cookie
    attributes = {a.strip().split("=")[0].lower(): a.strip() for a in request_cookie[0].split(";")}
    assert attributes["samesite"] == "SameSite=None"
    assert {"secure", "httponly"} <= attributes.keys()
    assert attributes["path"] == "Path=/saml/" and attributes["max-age"] == "Max-Age=600"
    saml_app.config["SECURE_COOKIES"] = False
    set_cookie = saml_app.test_client().get("/login/saml/test").headers.get_all("Set-Cookie")
    request_cookie = [c for c in set_cookie if c.startswith(OUTSTANDING + "=")]
    assert "SameSite=Lax" in request_cookie[0] and "Secure" not in request_cookie[0]


def test_a_response_to_a_request_not_in_the_cookie_is_refused(saml_app: Flask, idp: LocalIdP) -> None:
    client = saml_app.test_client()
    form = signed_response(client, idp, "anna.sso")
    client.get("/login/saml/test")  # a new start replaces the request `form` answers
    assert client.post("/saml/test/acs", data=form).status_code == 401
    other = saml_app.test_client()  # another browser's cookie, for a request of its own
    other.get("/login/saml/test")
    stolen = other.get_cookie(OUTSTANDING, path="/saml/")
    assert stolen is not None
    thief = saml_app.test_client()
    thief.set_cookie(OUTSTANDING, stolen.value, path="/saml/")
    assert (
        thief.post(
            "/saml/test/acs", data=signed_response(saml_app.test_client(), idp, "anna.sso")
        ).status_code
        == 401
    )
    forged = saml_app.test_client()  # its own request's cookie, altered: its signature fails
    form = signed_response(forged, idp, "anna.sso")
    own = forged.get_cookie(OUTSTANDING, path="/saml/")
    assert own is not None
    forged.set_cookie(
        OUTSTANDING, own.value[:-4] + ("AAAA" if own.value[-4:] != "AAAA" else "BBBB"), path="/saml/"
    )
    assert forged.post("/saml/test/acs", data=form).status_code == 401
    assert roles_of(saml_app, "anna.sso") == set()


def test_metadata_names_the_acs_and_single_logout_reaches_the_idp(saml_app: Flask, idp: LocalIdP) -> None:
    metadata = saml_app.test_client().get("/saml/test/metadata")
    assert metadata.mimetype == "application/samlmetadata+xml"
    text = metadata.get_data(as_text=True)
    assert 'Location="http://localhost/saml/test/acs"' in text and 'WantAssertionsSigned="true"' in text
    client = saml_app.test_client()
    assert client.post("/saml/test/acs", data=signed_response(client, idp, "anna.sso")).status_code == 302
    inbox = client.get("/inbox")
    # The logout form's answer goes on to the IdP: CSP's form-action lets that origin in, no other.
    assert f"form-action 'self' {idp.url};" in inbox.headers["Content-Security-Policy"]
    page = inbox.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    location = client.post("/logout", data={"csrf_token": token}).headers["Location"]  # here, then at the IdP
    assert location.startswith(idp.url + "/slo?SAMLRequest=")
    assert client.get("/inbox").status_code == 302  # signed out here at once
    try:
        NO_REDIRECTS.open(location, timeout=10)
    except urllib.error.HTTPError as answer:
        assert answer.code == 303
        assert answer.headers["Location"].startswith("http://localhost/saml/test/slo?SAMLResponse=")
    else:
        pytest.fail("the IdP did not send the browser back")
    assert idp.logged_out == ["anna.sso"]


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


NO_REDIRECTS = urllib.request.build_opener(_Stay)
