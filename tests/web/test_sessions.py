"""Sessions kept on the server, so that they end: a copy of the cookie taken before sign-out, a
password change, deactivation or an administrator's "sign out everywhere" opens nothing after it;
the person sees their sessions and ends them. And the sign-in edge cases: HEAD /login, a stranger
locking a known person out, the issued token's page in a cache, common passwords."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow import clock
from planflow.db import Database
from planflow.models import LoginFailure, UserSession
from planflow.services.authority import logins, people, sessions
from planflow.services.errors import InvalidInput
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.web.conftest import csrf_token, login, password_of, post


def _from(app: Flask, **environ: str) -> FlaskClient:
    """A browser with its own address or user agent."""
    client = app.test_client()
    client.environ_base.update(environ)
    return client


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_cookie_copied_before_sign_out_opens_nothing_after(
    app: Flask, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("anna.nilsson")
    thief = _copy(app, client)
    assert thief.get("/inbox").status_code == 200
    post(client, "/logout")
    assert thief.get("/inbox").status_code == 302


def test_a_password_change_ends_every_session(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("anna.nilsson")
    thief = _copy(app, client)
    with web.transaction() as session:
        people.set_password(session, OPERATOR_ACTOR, "anna.nilsson", "ett helt nytt lösenord")
    assert thief.get("/inbox").status_code == 302
    assert client.get("/inbox").status_code == 302
    with web.reading() as session:
        event = audit.events(session, action="user.password_set", subject_id="anna.nilsson")[0]
        assert "ett helt nytt" not in str(event.data) and event.data["sessions_ended"] == 1


def test_deactivation_ends_every_session(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    thief = _copy(app, signed_in("anna.nilsson"))
    admin = signed_in("admin")
    confirm = "/admin/users/anna.nilsson/deactivate"
    post(admin, "/admin/active", {"username": "anna.nilsson", "active": "0", "confirmed": "1"}, confirm)
    with web.transaction() as session:  # even active again, the old session stays ended
        people.set_active(session, OPERATOR_ACTOR, "anna.nilsson", True)
    assert thief.get("/inbox").status_code == 302


def test_the_last_role_revoked_ends_every_session(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    thief = _copy(app, signed_in("processledare"))
    with web.transaction() as session:
        for assignment in list(people.get_user(session, "processledare").roles):
            spec = people.RoleSpec(assignment.role)
            people.revoke_role(session, OPERATOR_ACTOR, "processledare", spec)
    assert thief.get("/inbox").status_code == 302


def test_an_administrator_signs_a_person_out_everywhere(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    first, second = signed_in("anna.nilsson"), signed_in("anna.nilsson")
    thief = _copy(app, first)
    admin = signed_in("admin")
    confirm = "/admin/users/anna.nilsson/deactivate"
    assert "Logga ut Anna" in admin.get(confirm).get_data(as_text=True)
    done = post(admin, "/admin/sign_out", {"username": "anna.nilsson"}, confirm)
    assert done.status_code == 302
    assert "2 inloggningar avslutade" in admin.get("/admin").get_data(as_text=True)
    for client in (first, second, thief):
        assert client.get("/inbox").status_code == 302
    assert admin.get("/inbox").status_code == 200
    with web.reading() as session:
        (event,) = audit.events(session, action="user.signed_out_everywhere")
        assert event.actor == "admin" and event.subject_id == "anna.nilsson"
    # Without the form's CSRF token nothing happens.
    again = signed_in("anna.nilsson")
    assert admin.post("/admin/sign_out", data={"username": "anna.nilsson"}).status_code == 400
    assert again.get("/inbox").status_code == 200


def test_the_account_page_lists_two_sessions_and_ends_one(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    other = signed_in("anna.nilsson")
    client = _from(app, HTTP_USER_AGENT="Firefox/140")
    assert login(client, "anna.nilsson").status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert page.count("Avsluta den här") == 2 and "Firefox/140" in page and "(den här)" in page
    with web.reading() as session:
        ids = session.scalars(select(UserSession.id).order_by(UserSession.created_at)).all()
    assert post(client, "/account/sessions/end", {"session": ids[0]}, "/account").status_code == 302
    assert other.get("/inbox").status_code == 302
    assert client.get("/inbox").status_code == 200
    assert client.get("/account").get_data(as_text=True).count("Avsluta den här") == 1
    # Someone else's session is not theirs to end.
    third = signed_in("erik.berg")
    with web.reading() as session:
        eriks = session.scalar(
            select(UserSession.id)
            .where(UserSession.ended_at.is_(None))
            .order_by(UserSession.created_at.desc())
        )
    post(client, "/account/sessions/end", {"session": str(eriks)}, "/account")
    assert third.get("/inbox").status_code == 200


def test_ending_this_session_signs_this_browser_out(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("anna.nilsson")
    with web.reading() as session:
        (mine,) = session.scalars(select(UserSession.id)).all()
    ended = post(client, "/account/sessions/end", {"session": mine}, "/account")
    assert ended.headers["Location"] == "/login"
    assert client.get("/inbox").status_code == 302


def test_old_sessions_are_forgotten(web: Database, signed_in: Callable[[str], FlaskClient]) -> None:
    clock.set_now(clock.now())
    signed_in("anna.nilsson")
    clock.set_now(clock.now() + sessions.KEEP + timedelta(minutes=1))
    signed_in("anna.nilsson")
    with web.reading() as session:
        assert session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_ending_all_other_sessions_keeps_this_one(
    app: Flask, signed_in: Callable[[str], FlaskClient]
) -> None:
    others = [signed_in("anna.nilsson"), signed_in("anna.nilsson")]
    client = signed_in("anna.nilsson")
    post(client, "/account/sessions/end-others", token_from="/account")
    assert [c.get("/inbox").status_code for c in others] == [302, 302]
    assert client.get("/inbox").status_code == 200


def test_an_idle_session_ends(app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    clock.set_now(clock.now())
    client = signed_in("anna.nilsson")
    clock.set_now(clock.now() + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
    assert client.get("/inbox").status_code == 200  # used: the idle time starts again
    clock.set_now(clock.now() + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
    assert client.get("/inbox").status_code == 200
    clock.set_now(clock.now() + timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    assert client.get("/inbox").status_code == 302


def test_head_login_with_a_form_signs_nobody_in_and_counts_no_failure(app: Flask, web: Database) -> None:
    client = app.test_client()
    form = {"username": "anna.nilsson", "password": password_of("anna.nilsson")}
    assert client.open("/login", method="HEAD", data=form).status_code == 200
    assert client.get("/inbox").status_code == 302
    client.open("/login", method="HEAD")
    with web.reading() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_a_stranger_cannot_lock_a_known_person_out(app: Flask, web: Database) -> None:
    clock.set_now(clock.now())
    stranger = {"REMOTE_ADDR": "198.51.100.9"}
    for _ in range(8):
        page = login(_from(app, **stranger), "admin", "gissning")
        assert page.status_code == 401
    assert "För många" in login(_from(app, **stranger), "admin").get_data(as_text=True)
    # The administrator at their own desk signs in at once.
    assert login(app.test_client(), "admin").status_code == 302


def test_many_addresses_guessing_one_account_are_slowed_down(app: Flask, web: Database) -> None:
    clock.set_now(clock.now())
    for n in range(logins.FREE["account"]):
        address = {"REMOTE_ADDR": f"10.{n // 250}.{n % 250}.1"}
        login(_from(app, **address), "admin", "gissning")
    page = login(_from(app, REMOTE_ADDR="10.9.9.9"), "admin")
    assert page.status_code == 401 and "För många" in page.get_data(as_text=True)


def test_the_page_showing_a_new_token_is_never_cached(signed_in: Callable[[str], FlaskClient]) -> None:
    admin = signed_in("admin")
    page = post(admin, "/admin/token", {"username": "anna.nilsson"}, "/admin")
    assert page.status_code == 200 and "pf_" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("password", "says"),
    [("kort-lösen", "12–256 tecken"), ("x" * 257, "12–256 tecken"), ("Password1234", "vanligaste")],
)
def test_a_short_or_common_password_is_refused_and_changes_nothing(
    web: Database, password: str, says: str
) -> None:
    with web.reading() as session:
        before = people.get_user(session, "anna.nilsson").password_hash
    with web.transaction() as session, pytest.raises(InvalidInput) as refused:
        people.set_password(session, OPERATOR_ACTOR, "anna.nilsson", password)
    assert says in refused.value.fields["password"].render("sv")
    assert password not in str(refused.value.fields) and password not in refused.value.message.render("sv")
    with web.reading() as session:
        assert people.get_user(session, "anna.nilsson").password_hash == before
    with web.transaction() as session, pytest.raises(InvalidInput):
        people.add_user(session, OPERATOR_ACTOR, "ny.person", "Ny", "ny@example.org", password=password)


def test_the_common_password_list_is_django_s_twenty_thousand() -> None:
    assert logins.password_refusal("qwertyuiop123") is not None
    assert logins.password_refusal("en lång mening om planen") is None
    assert len(logins._common_passwords()) > 19_000


def test_the_login_form_still_needs_its_csrf_token(app: Flask, web: Database) -> None:
    client = app.test_client()
    csrf_token(client)
    response = client.post(
        "/login", data={"username": "anna.nilsson", "password": password_of("anna.nilsson")}
    )
    assert response.status_code == 400
