"""Feedback from the business dialogue on a page: given while the dialogue is open and listed after,
refused beside the field with what was typed kept, said plainly when the dialogue is closed, and
kept to what an outside representative needs (nothing internal, nobody else's feedback)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import DialogueFeedback
from planflow.services.authority import people
from planflow.services.chain import cycles
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.services.chain import Chain
from tests.web.conftest import login, password_of, post
from tests.web.dialogue import open_dialogue

PAGE = "/dialogue/2026-Q4"


def _feedback(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(DialogueFeedback)) or 0


def test_feedback_is_given_while_the_dialogue_is_open_and_listed_after(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    open_dialogue(web)
    client = signed_in("naringslivsradet")
    start = client.get("/dialogue").get_data(as_text=True)
    assert f'href="{PAGE}"' in start and "Lämna synpunkter för 2026-Q4" in start
    form = client.get(PAGE).get_data(as_text=True)
    assert '<textarea id="f-feedback" name="feedback"' in form and "(obligatoriskt)" in form
    answer = post(client, PAGE, {"feedback": "Fler företagsbesök i Järna."}, PAGE)
    assert answer.status_code == 302 and answer.headers["Location"] == PAGE
    after = client.get(PAGE).get_data(as_text=True)
    assert "Tack! Dina synpunkter för 2026-Q4 är mottagna." in after
    assert "Fler företagsbesök i Järna." in after
    assert "Fler företagsbesök i Järna." in client.get("/dialogue").get_data(as_text=True)
    assert _feedback(web) == 1


def test_empty_feedback_is_refused_beside_the_field(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    open_dialogue(web)
    client = signed_in("naringslivsradet")
    for typed in ("", "   "):
        answer = post(client, PAGE, {"feedback": typed}, PAGE)
        assert answer.status_code == 400
        html = answer.get_data(as_text=True)
        assert 'id="error-summary"' in html and 'href="#f-feedback"' in html and 'id="e-feedback"' in html
        assert f"{typed}</textarea>" in html
    assert _feedback(web) == 0


def test_a_closed_dialogue_says_so_and_keeps_what_was_typed(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    Chain(web).start_cycle()  # the reports are not in: the dialogue is not open yet
    client = signed_in("naringslivsradet")
    assert "Ingen dialog är öppen just nu." in client.get("/dialogue").get_data(as_text=True)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Dialogen för 2026-Q4 är inte öppen för synpunkter." in page and "<textarea" not in page
    answer = post(client, PAGE, {"feedback": "Sent men viktigt."}, "/dialogue")
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "Dialogen med näringslivet för 2026-Q4 är inte öppen för synpunkter." in html
    assert "Sent men viktigt.</textarea>" in html
    assert client.get("/dialogue/2031-Q1").status_code == 404
    assert _feedback(web) == 0


def test_the_representative_sees_nothing_internal_and_nobody_elses_feedback(
    app: Flask, signed_in: Callable[[str], FlaskClient], web: Database
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
        cycles.give_dialogue_feedback(
            session, people.get_user(session, "frukostklubben"), "2026-Q4", {"feedback": "Hemligt förslag."}
        )
    client = signed_in("naringslivsradet")
    menu = client.get("/dialogue").get_data(as_text=True)
    assert 'href="/dialogue"' in menu
    for internal in ('href="/cycles"', 'href="/audit"', 'href="/reports/"', 'href="/proposals"'):
        assert internal not in menu
    for path in ("/dialogue", PAGE):
        html = client.get(path).get_data(as_text=True)
        assert "Hemligt förslag." not in html
        assert "/activities/" not in html and "/processes/" not in html and "/cycles/" not in html
    other = app.test_client()
    assert login(other, "frukostklubben").status_code == 302
    assert "Hemligt förslag." in other.get(PAGE).get_data(as_text=True)


def test_staff_get_the_403_page_and_no_menu_item(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    open_dialogue(web)
    for username in ("lead1", "anna.nilsson", "ordforande"):
        client = signed_in(username)
        assert 'href="/dialogue"' not in client.get("/inbox").get_data(as_text=True)
        for answer in (client.get("/dialogue"), client.get(PAGE), post(client, PAGE, {"feedback": "x"})):
            assert answer.status_code == 403 and "Du har inte behörighet" in answer.get_data(as_text=True)
    for username in ("processledare", "admin"):  # they read it (test_dialogue_reading), never give it
        answer = post(signed_in(username), PAGE, {"feedback": "x"})
        assert answer.status_code == 403 and "Du har inte behörighet" in answer.get_data(as_text=True)
    assert _feedback(web) == 0


def test_a_post_without_the_csrf_token_is_refused(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    open_dialogue(web)
    answer = signed_in("naringslivsradet").post(PAGE, data={"feedback": "Utan token."})
    assert answer.status_code == 400 and "Formuläret hade gått ut" in answer.get_data(as_text=True)
    assert _feedback(web) == 0


def test_the_english_page(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    open_dialogue(web)
    client = signed_in("naringslivsradet")
    post(client, "/language", {"language": "en"})
    html = client.get(PAGE).get_data(as_text=True)
    assert "Give feedback for 2026-Q4" in html and "Feedback" in html and "(required)" in html
