"""Signing in through a real OpenID Connect provider started by the test: the certified
`oidc-provider` from npm under Node (tests/oidc/provider.js), driven in Chromium. Its development
login form accepts any login name, which becomes the subject; the accounts' claims (email, name,
groups) come from a JSON file the test rewrites between sign-ins."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select as query

from planflow.db import Database
from planflow.models import AuditEvent
from tests.browser.conftest import LiveApp, serving
from tests.browser.test_journey import Visitor
from tests.services.test_identities import roles_of

PROVIDER_FOLDER = Path(__file__).resolve().parents[1] / "oidc"
SECRET = "planflow-test-client-secret"
GROUP_ROLES = {"planflow-process": ["process_leader"], "planflow-board": ["board"]}
# The provider's accounts: subject -> claims. lead2's address links the demo account lead2.
ACCOUNTS = {
    "u-lead2": {
        "email": "lead2@demo.planflow.invalid",
        "name": "Lena Andersson",
        "groups": ["planflow-process", "everyone"],
    },
    "stranger": {"email": "stranger@elsewhere.example", "name": "Okänd Person", "groups": ["planflow-board"]},
    # Entra ID's group overage: in too many groups to list them, it sends `hasgroups` instead.
    "u-lead3": {"email": "lead3@demo.planflow.invalid", "hasgroups": True},
}


class Provider:
    """The running provider: its issuer, its signing key (to forge tokens with), its accounts."""

    def __init__(self, issuer: str, key: RSAKey, accounts: Path) -> None:
        self.issuer, self.key, self.accounts = issuer, key, accounts

    def set_groups(self, subject: str, groups: list[str]) -> None:
        accounts = json.loads(self.accounts.read_text())
        accounts[subject]["groups"] = groups
        self.accounts.write_text(json.dumps(accounts))


class OidcLive(LiveApp):
    def __init__(self, url: str, db: Database, app: Any, provider: Provider) -> None:
        super().__init__(url, db)
        self.app, self.provider = app, provider


def _node_modules() -> None:
    """oidc-provider installed from tests/oidc/package-lock.json (npm ci) when it is not yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run the OpenID Connect provider (npm's oidc-provider)")
    if not (PROVIDER_FOLDER / "node_modules" / "oidc-provider").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_FOLDER, check=True, timeout=300)


def _start_provider(folder: Path, planflow: str, key: RSAKey) -> tuple[subprocess.Popen[str], str]:
    accounts, jwks = folder / "accounts.json", folder / "jwks.json"
    accounts.write_text(json.dumps(ACCOUNTS))
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    env = {
        **os.environ,
        "ACCOUNTS": str(accounts),
        "JWKS": str(jwks),
        "CLIENT_SECRET": SECRET,
        "REDIRECT_URI": f"{planflow}/login/oidc/test/callback",
        "POST_LOGOUT_REDIRECT_URI": f"{planflow}/login",
    }
    with (folder / "provider.log").open("w") as log:  # the child keeps its own copy of the file
        process = subprocess.Popen(
            ["node", str(PROVIDER_FOLDER / "provider.js")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    while True:
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = process.stdout.readline() if ready else ""
        if line.startswith("{"):
            return process, json.loads(line)["issuer"]
        if not ready or not line:
            process.kill()
            process.wait(5)
            process.stdout.close()
            raise RuntimeError(
                f"the OpenID Connect provider did not start: {(folder / 'provider.log').read_text()}"
            )


@pytest.fixture
def oidc_live(tmp_path: Path) -> Iterator[OidcLive]:
    """planflow on a seeded database with one provider, `test`, which runs beside it."""
    _node_modules()
    key = RSAKey.generate_key(
        2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"}, private=True
    )
    started: dict[str, Any] = {}

    def settings(url: str) -> dict[str, Any]:
        started["process"], issuer = _start_provider(tmp_path, url, key)
        started["issuer"] = issuer
        return {
            "BASE_URL": url,
            "OIDC_PROVIDERS": {
                "test": {
                    "issuer": issuer,
                    "client_id": "planflow",
                    "client_secret": SECRET,
                    "scopes": "openid email profile groups",
                    "label": "Kommunens konto",
                    "link_by_email": True,
                    "group_roles": GROUP_ROLES,
                }
            },
        }

    try:
        with serving(tmp_path, settings) as (url, db, app):
            yield OidcLive(url, db, app, Provider(started["issuer"], key, tmp_path / "accounts.json"))
    finally:
        if "process" in started:
            process = started["process"]
            process.terminate()
            process.wait(5)
            assert process.stdout is not None
            process.stdout.close()


def _at_provider(visitor: Visitor, live: OidcLive, subject: str) -> None:
    """From planflow's login page through the provider's login (and consent) form, back."""
    page = visitor.page
    page.get_by_role("link", name="Kommunens konto").click()
    page.wait_for_url(live.provider.issuer + "/**")
    page.fill("input[name=login]", subject)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(f"^({re.escape(live.url)}|{re.escape(live.provider.issuer)}/interaction)"))
    if page.url.startswith(live.provider.issuer):  # the provider asks for consent once per session
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(live.url + "/**")


def _events(db: Database, action: str) -> list[dict[str, Any]]:
    with db.sessions() as session:
        found = session.scalars(query(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        return [{"actor": event.actor, "subject": event.subject_id, **(event.data or {})} for event in found]


def test_sign_in_through_the_provider_maps_groups_to_roles_and_logs_out_there(
    browser: Any, oidc_live: OidcLive
) -> None:
    live = oidc_live
    visitor = Visitor(browser, live, {})
    visitor.page.route(re.compile(r"^https://fonts\."), lambda route: route.abort())  # the provider's CSS
    try:
        visitor.go("/login")
        visitor.check("login-with-provider")
        _at_provider(visitor, live, "u-lead2")
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

        # Logging out ends the provider's session too (RP-initiated logout), then comes back.
        visitor.page.get_by_role("button", name="Logga ut").click()
        visitor.page.wait_for_url(live.provider.issuer + "/**")
        visitor.page.get_by_role("button", name=re.compile("Yes, sign me out")).click()
        visitor.page.wait_for_url(live.url + "/login**")
        visitor.go("/inbox")
        assert "/login" in visitor.page.url

        # At the provider, the group changed: the next sign-in (a new login there, since the
        # provider's session ended) brings planflow's roles in line, and says so in the trail.
        live.provider.set_groups("u-lead2", ["planflow-board"])
        visitor.go("/login")
        _at_provider(visitor, live, "u-lead2")
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


def test_an_unknown_person_a_replayed_answer_and_unlisted_groups_are_refused(
    browser: Any, oidc_live: OidcLive
) -> None:
    live = oidc_live
    visitor = Visitor(browser, live, {})
    visitor.page.route(re.compile(r"^https://fonts\."), lambda route: route.abort())
    try:
        visitor.go("/login")
        _at_provider(visitor, live, "stranger")
        assert "/login/oidc/test/callback?" in visitor.page.url
        error = visitor.page.locator("#login-error")
        assert "Du är inloggad hos Kommunens konto men har inget konto i planflow" in error.inner_text()
        visitor.check("login-provider-refused")
        # The provider's answer again (its state was used up): refused before any token is fetched.
        answer = visitor.page.reload()
        assert answer is not None and answer.status == 400
        assert "kunde inte slutföras" in error.inner_text()
        visitor.go("/inbox")
        assert "/login" in visitor.page.url

    finally:
        visitor.close()
    # Groups not listed (overage) are not "no groups": refused, and lead3's roles stay. (Another
    # browser: this one is still signed in at the provider as the stranger.)
    visitor = Visitor(browser, live, {})
    visitor.page.route(re.compile(r"^https://fonts\."), lambda route: route.abort())
    try:
        visitor.go("/login")
        _at_provider(visitor, live, "u-lead3")
        assert "kunde inte slutföras" in visitor.page.locator("#login-error").inner_text()
        assert roles_of(live.db, "lead3") == {"focus_area_lead:3"}
    finally:
        visitor.close()


def _token(live: OidcLive, key: RSAKey | None = None, **changes: Any) -> dict[str, str]:
    """An ID token as the provider would sign it for planflow, with `changes` to its claims."""
    now = int(time.time())
    claims = {
        "iss": live.provider.issuer,
        "sub": "u-lead2",
        "aud": "planflow",
        "iat": now,
        "exp": now + 600,
        "nonce": "the-nonce",
        **changes,
    }
    signing = key or live.provider.key
    header = {"alg": "RS256", "kid": signing.kid}
    return {"id_token": jwt.encode(header, claims, signing), "access_token": "unused", "token_type": "Bearer"}


def test_a_forged_or_stale_id_token_is_refused(oidc_live: OidcLive) -> None:
    """Authlib checks the ID token against the real provider's discovery and JWKS: a token signed
    by another key, for another client, with another nonce or issuer, or expired, is refused; the
    provider's own key's token is accepted (so the check can fail)."""
    from joserfc.errors import JoseError

    live = oidc_live
    stranger_key = RSAKey.generate_key(2048, parameters={"kid": "test-key"}, private=True)
    with live.app.test_request_context():
        client = live.app.extensions["planflow.oidc"].client("test")
        claims = client.parse_id_token(_token(live), nonce="the-nonce")
        assert claims["sub"] == "u-lead2"
        forged = {
            "another key": _token(live, stranger_key),
            "another client": _token(live, aud="someone-else"),
            "another nonce": _token(live, nonce="replayed"),
            "another issuer": _token(live, iss="https://evil.example"),
            "expired": _token(live, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        }
        for what, token in forged.items():
            with pytest.raises(JoseError):
                client.parse_id_token(token, nonce="the-nonce")
                pytest.fail(f"{what}: accepted")
