"""What a person may do has one answer, `access.abilities`: the header's menu and GET /api/v1/me
show the same for every demo user, a lead's proposing included; the API's new user is the user as
the directory lists it."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import User
from planflow.services.plan import plans
from planflow.web.site import MENU

from .conftest import Api

NAV = re.compile(r'<nav aria-label="[^"]*">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"')


def _menu_links(client: FlaskClient) -> list[str]:
    html = client.get("/inbox", follow_redirects=True).get_data(as_text=True)  # or where it sends
    nav = NAV.search(html)
    assert nav, "no menu on the page"
    return LINK.findall(nav.group(1))


def _any_of(cases: object, may: set[str]) -> bool:
    if cases is None:
        return True
    return any(case.value in may for case in (cases if isinstance(cases, tuple) else (cases,)))  # type: ignore[attr-defined]


def test_the_menu_and_me_agree_for_every_demo_user(
    app: Flask, web: Database, api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    with web.reading() as session:
        usernames = session.scalars(select(User.username).where(User.is_demo).order_by(User.username)).all()
    assert len(usernames) > 20
    with app.test_request_context():
        from flask import url_for

        urls = {endpoint: url_for(endpoint) for endpoint, _, _ in MENU if endpoint in app.view_functions}
    for username in usernames:
        me = api("GET", "/me", username)
        assert me.status_code == 200, username
        may = set(me.json["may"])
        expected = [urls[e] for e, _, cases in MENU if e in urls and _any_of(cases, may)]
        assert _menu_links(signed_in(username)) == expected, username


def test_a_lead_may_propose_in_its_own_area_as_the_menu_offers(
    web: Database, api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    with web.reading() as session:
        slug = plans.get_plan(session).slug
    me = api("GET", "/me", "lead1").json
    assert "propose_activity" in me["may"]
    assert me["scopes"] == [{"use_case": "propose_activity", "plan": slug, "focus_area": 1}]
    assert me["lanes"] == ["focus_area_lead"]
    assert "/proposals" in _menu_links(signed_in("lead1"))
    owner = api("GET", "/me", "anna.nilsson").json
    assert "propose_activity" not in owner["may"] and owner["scopes"] == []
    assert owner["lanes"] == ["activity_owner"]


def test_the_added_user_is_answered_as_the_directory_lists_it(web: Database, api: Api) -> None:
    added = api(
        "POST",
        "/users",
        "admin",
        {
            "username": "eva.ek",
            "display_name": "Eva Ek",
            "email": "eva@example.org",
            "office": "Näringslivskontoret",
            "roles": ["focus_area_lead:2", "activity_owner:1.1.2", "board"],
        },
    )
    assert added.status_code == 201, added.json
    listed = {u["username"]: u for u in api("GET", "/users", "admin").json["items"]}
    assert added.json == listed["eva.ek"]
    assert {r["role"] for r in added.json["roles"]} == {"focus_area_lead", "activity_owner", "board"}
