"""Deactivating an account is confirmed on a page that names the person and what they still hold
(issue 18, item 12: "deactivating an account happens on one click with 'Kontot är ändrat.' naming
no account"): the activities they own and the tasks in their inbox, counted by the services; the
flash names the account."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import Activity, ActivityState, OpenTask, User
from planflow.services.records import audit
from tests.services.chain import Chain
from tests.web.conftest import post

CONFIRM = "/admin/users/anna.nilsson/deactivate"


def _active(db: Database, username: str) -> bool:
    with db.reading() as session:
        return bool(session.scalar(select(User.active).where(User.username == username)))


def _held(db: Database, username: str) -> tuple[int, int]:
    """Her open activities, and her activities' open report tasks (an owner's inbox, nothing else)."""
    with db.reading() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        owned = session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(Activity.owner_id == user_id, Activity.state != ActivityState.CLOSED)
        )
        tasks = session.scalar(
            select(func.count())
            .select_from(OpenTask)
            .join(Activity, Activity.id == OpenTask.activity_id)
            .where(Activity.owner_id == user_id, OpenTask.lane == "activity_owner")
        )
        return int(owned or 0), int(tasks or 0)


def test_deactivating_asks_first_naming_the_person_and_what_they_hold(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    Chain(web).start_cycle()
    owned, waiting = _held(web, "anna.nilsson")
    assert owned > 0 and waiting > 0
    client = signed_in("admin")
    listing = client.get("/admin").get_data(as_text=True)
    assert f'href="{CONFIRM}"' in listing
    assert 'name="active" value="0"' not in listing  # no one-click deactivation left

    page = client.get(CONFIRM)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Stäng av kontot för Anna Nilsson (demo) (anna.nilsson)?</h1>" in html
    assert f"Ansvarig för {owned} pågående aktiviteter" in html
    assert html.count("data-owned=") == owned and 'data-owned="1.1.1">1.1.1 ' in html  # each named
    assert f"{waiting} uppgifter i inkorgen" in html
    assert 'name="confirmed" value="1"' in html
    assert _active(web, "anna.nilsson")  # asking changes nothing

    done = post(
        client, "/admin/active", {"username": "anna.nilsson", "active": "0", "confirmed": "1"}, CONFIRM
    )
    assert done.status_code == 302 and done.headers["Location"] == "/admin"
    shown = client.get("/admin").get_data(as_text=True)
    assert "Kontot för Anna Nilsson (demo) (anna.nilsson) är inaktiverat." in shown
    assert not _active(web, "anna.nilsson")
    with web.reading() as session:
        (event,) = audit.events(session, action="user.deactivated")
        assert (event.actor, event.subject_id) == ("admin", "anna.nilsson")

    again = client.get(CONFIRM).get_data(as_text=True)
    assert "är redan avstängt" in again and 'name="confirmed"' not in again
    back = post(client, "/admin/active", {"username": "anna.nilsson", "active": "1"}, "/admin")
    assert back.status_code == 302 and _active(web, "anna.nilsson")
    assert "Kontot för Anna Nilsson (demo) (anna.nilsson) är aktiverat." in client.get("/admin").get_data(
        as_text=True
    )


def test_a_deactivation_without_the_confirmation_only_leads_to_it(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("admin")
    asked = post(client, "/admin/active", {"username": "anna.nilsson", "active": "0"}, "/admin")
    assert asked.status_code == 302 and asked.headers["Location"] == CONFIRM
    assert _active(web, "anna.nilsson")


def test_only_an_administrator_is_asked_and_an_unknown_account_is_not_found(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    refused = signed_in("processledare").get(CONFIRM)
    assert refused.status_code == 403 and "Du har inte behörighet" in refused.get_data(as_text=True)
    missing = signed_in("admin").get("/admin/users/no.such.person/deactivate")
    assert missing.status_code == 404 and re.search(r"no\.such\.person", missing.get_data(as_text=True))
