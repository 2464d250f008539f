"""OpenID Connect settings and the pages around them, without a provider running: the settings
read from JSON or a TOML file and refused when wrong, one button per provider, the password form
hidden by setting, and an answer that does not belong to a sign-in begun here refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from planflow import config
from planflow.app import create_app
from planflow.db import Database
from tests.web.conftest import login

ENTRA = {
    "issuer": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0/",
    "client_id": "11111111-1111-1111-1111-111111111111",
    "client_secret": "not-a-real-secret",
    "label": "Södertälje kommuns konto",
    "group_roles": {"aaaa-group-id": ["process_leader"], "bbbb-group-id": ["focus_area_lead:1"]},
}
# 127.0.0.1:9 (discard) refuses connections at once: a provider that does not answer.
SILENT = {"issuer": "http://127.0.0.1:9", "client_id": "planflow", "client_secret": "x", "label": "Tyst IdP"}


def test_providers_are_read_from_json_or_a_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFLOW_OIDC_PROVIDERS", json.dumps({"entra": ENTRA}))
    entra = config.load(tmp_path)["OIDC_PROVIDERS"]["entra"]
    assert entra["issuer"] == ENTRA["issuer"].rstrip("/")
    assert (entra["scopes"], entra["groups_claim"], entra["link_by_email"], entra["create_unknown"]) == (
        "openid profile email",
        "groups",
        False,
        False,
    )
    toml = tmp_path / "oidc.toml"
    toml.write_text(
        '[entra]\nissuer = "https://login.example/t/v2.0"\nclient_id = "c"\nclient_secret = "s"\n'
        'link_by_email = true\n[entra.group_roles]\n"g-1" = ["board"]\n'
    )
    monkeypatch.setenv("PLANFLOW_OIDC_PROVIDERS", str(toml))
    entra = config.load(tmp_path)["OIDC_PROVIDERS"]["entra"]
    assert (entra["label"], entra["link_by_email"], entra["group_roles"]) == (
        "entra",
        True,
        {"g-1": ["board"]},
    )
    monkeypatch.delenv("PLANFLOW_OIDC_PROVIDERS")
    assert config.load(tmp_path)["OIDC_PROVIDERS"] == {}  # `make run`: no provider needed


@pytest.mark.parametrize(
    ("providers", "said"),
    [
        ({"entra": {**ENTRA, "client_id": None}}, "provider entra: client_id is missing"),
        ({"entra": {k: v for k, v in ENTRA.items() if k != "client_secret"}}, "client_secret is missing"),
        ({"entra": {**ENTRA, "issuer": "http://login.example"}}, "issuer must be an https:// address"),
        ({"entra": {**ENTRA, "scopes": "profile email"}}, "scopes must include openid"),
        ({"entra": {**ENTRA, "link_by_mail": True}}, "unknown setting 'link_by_mail'"),
        ({"entra": {**ENTRA, "create_unknown": "yes"}}, "create_unknown must be a bool"),
        ({"Entra ID": ENTRA}, "must be a-z, 0-9 and -"),
        ({"entra": {**ENTRA, "group_roles": {"g": "board"}}}, "a list of role specs"),
        ("{not json", "not valid JSON or TOML"),
        ("/no/such/oidc.toml", "cannot be read"),
    ],
)
def test_wrong_provider_settings_are_a_clear_error(tmp_path: Path, providers: Any, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        config.load(tmp_path, {"OIDC_PROVIDERS": providers})


def test_a_group_mapped_to_an_unknown_role_stops_the_start(tmp_path: Path) -> None:
    providers = {"entra": {**ENTRA, "group_roles": {"g": ["wizard"]}}}
    with pytest.raises(ValueError, match="provider entra: group_roles"):
        create_app({"SECRET_KEY": "t", "OIDC_PROVIDERS": providers}, str(tmp_path))


@pytest.fixture
def make_app(web: Database, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Apps on the seeded database with these settings (each disposed of after the test)."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app(
            {"DATABASE_URL": database_url, "SECRET_KEY": "test", "TESTING": True, **settings}, str(tmp_path)
        )
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["planflow.db"].dispose()


def test_the_login_page_shows_a_button_per_provider_beside_the_password_form(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(OIDC_PROVIDERS={"entra": ENTRA, "silent": SILENT})
    page = app.test_client().get("/login").get_data(as_text=True)
    assert 'href="/login/oidc/entra">Södertälje kommuns konto</a>' in page
    assert 'href="/login/oidc/silent">Tyst IdP</a>' in page
    assert 'name="password"' in page
    # The logout form's redirect may reach the providers' origins, and only those.
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:9 https://login.microsoftonline.com;" in csp


def test_without_providers_the_login_page_is_the_password_form(app: Flask, web: Database) -> None:
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "/login/oidc/" not in page and 'name="password"' in page
    assert app.test_client().get("/login/oidc/entra").status_code == 404


def test_the_password_form_can_be_turned_off(make_app: Callable[..., Flask]) -> None:
    app = make_app(OIDC_PROVIDERS={"entra": ENTRA}, LOCAL_LOGIN=False)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' not in page and "/login/oidc/entra" in page
    assert login(client, "admin").status_code == 404  # a right password too: no local sign-in


def test_an_answer_to_no_sign_in_begun_here_is_refused(make_app: Callable[..., Flask]) -> None:
    app = make_app(OIDC_PROVIDERS={"silent": SILENT})
    client = app.test_client()
    answer = client.get("/login/oidc/silent/callback?code=stolen&state=guessed")
    assert answer.status_code == 400
    assert "Inloggningen via Tyst IdP kunde inte slutföras" in answer.get_data(as_text=True)
    denied = client.get("/login/oidc/silent/callback?error=access_denied&state=x")
    assert denied.status_code == 400
    assert client.get("/inbox").status_code == 302  # not signed in


def test_a_provider_that_does_not_answer_is_said_so(make_app: Callable[..., Flask]) -> None:
    app = make_app(OIDC_PROVIDERS={"silent": SILENT})
    answer = app.test_client().get("/login/oidc/silent")
    assert answer.status_code == 502
    assert "Inloggningen via Tyst IdP kunde inte slutföras" in answer.get_data(as_text=True)
