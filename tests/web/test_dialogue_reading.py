"""The process leader reads at /dialogue every representative's feedback, with who gave it and
when (issue 18: /dialogue answered 403 to the process leader, whose task is to sum the dialogue
up); a representative, whose only work is the dialogue, lands there after signing in instead of
on an empty inbox."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import User
from planflow.services.authority import access, people
from planflow.services.authority.access import UseCase
from planflow.services.chain import cycles
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.web.conftest import login, password_of, post
from tests.web.dialogue import open_dialogue

PAGE = "/dialogue/2026-Q4"


def _give(web: Database, username: str, text: str) -> None:
    with web.transaction() as session:
        cycles.give_dialogue_feedback(
            session, people.get_user(session, username), "2026-Q4", {"feedback": text}
        )


def test_the_process_leader_reads_everyones_feedback_with_who_and_when(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    open_dialogue(web)
    with web.transaction() as session:
        people.add_user(
            session,
            OPERATOR_ACTOR,
            "frukostklubben",
            "Frukostklubben",
            "fk@example.invalid",
            [people.RoleSpec.parse("dialogue")],
            password=password_of("frukostklubben"),
        )
    _give(web, "naringslivsradet", "Fler företagsbesök i Järna.")
    _give(web, "frukostklubben", "Bättre skyltning vid Moraberg.")
    client = signed_in("processledare")
    listed = client.get("/dialogue")
    html = listed.get_data(as_text=True)
    assert listed.status_code == 200
    assert 'href="/dialogue"' in html  # the menu leads here
    assert "Synpunkter från näringslivsdialogen" in html and "Lämnade synpunkter (2)" in html
    assert f'href="{PAGE}"' in html  # the open dialogue, to read it period by period
    with web.reading() as session:
        representative = people.get_user(session, "naringslivsradet").display_name
    assert "Fler företagsbesök i Järna." in html and representative in html
    assert "Bättre skyltning vid Moraberg." in html and "Frukostklubben" in html
    assert html.index("Bättre skyltning") < html.index("Fler företagsbesök")  # newest first
    one = client.get(PAGE).get_data(as_text=True)
    assert "Synpunkter för 2026-Q4" in one and "Fler företagsbesök i Järna." in one and "<textarea" not in one
    assert client.get("/dialogue/2031-Q1").status_code == 404


def test_the_read_right_is_one_rule(web: Database) -> None:
    with web.reading() as session:
        users = session.scalars(select(User).where(User.active)).all()
        readers = {u.username for u in users if access.may(session, u, UseCase.READ_DIALOGUE_FEEDBACK)}
    assert readers == {"processledare", "admin"}


def test_a_representative_lands_on_the_dialogue_not_on_an_empty_inbox(app: Flask, web: Database) -> None:
    open_dialogue(web)
    client = app.test_client()
    landed = login(client, "naringslivsradet")
    assert landed.status_code == 302 and landed.headers["Location"] == "/dialogue"
    assert "Lämna synpunkter för 2026-Q4" in client.get("/dialogue").get_data(as_text=True)
    inbox = client.get("/inbox")
    assert inbox.status_code == 302 and inbox.headers["Location"] == "/dialogue"
    staff = app.test_client()
    assert login(staff, "processledare").headers["Location"] == "/inbox"
    assert staff.get("/inbox").status_code == 200
    asked_for = app.test_client()  # a page asked for before signing in still wins
    asked_for.get("/dialogue/2026-Q4")
    sign_in = {"username": "naringslivsradet", "password": password_of("naringslivsradet")}
    answer = post(asked_for, "/login?next=/dialogue/2026-Q4", sign_in, "/login")
    assert answer.headers["Location"] == "/dialogue/2026-Q4"
