"""People on the web (issue 20): an administrator adds a person, who gets an invitation mail with
a one-time link that sets the password; a reset works the same way; substitutions and API tokens
are listed and ended; roles, owners and tasks are chosen from lists that show names. Bad input
gets an error beside its field and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import ApiToken, AuditEvent, Notice, Substitution, User
from planflow.services.authority import invitations, people
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.web.conftest import csrf_token, login, password_of, post

PERSON = {"display_name": "Åsa Öberg", "username": "asa.oberg", "email": "asa@example.org", "language": "en"}


def _count(db: Database, model: type) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _link(db: Database, username: str) -> str:
    """The path of the newest password link mailed to `username`, as its notice holds it."""
    with db.reading() as session:
        notice = session.scalars(
            select(Notice)
            .join(User, User.id == Notice.recipient_id)
            .where(User.username == username)
            .order_by(Notice.id.desc())
        ).first()
        assert notice is not None and notice.template in ("notice.account_invite", "notice.password_reset")
        assert notice.channel == "mail"
        return str(notice.params["path"])


def _set(client: FlaskClient, path: str, password: str, again: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "again": again or password, "csrf_token": token})


def test_invite_then_the_link_sets_the_password_once(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    admin = signed_in("admin")
    page = admin.get("/admin").get_data(as_text=True)
    assert 'id="invite-display_name"' in page and 'name="language"' in page
    done = post(admin, "/admin/invite", PERSON, token_from="/admin")
    assert done.status_code == 302
    assert "Åsa Öberg" in admin.get("/admin").get_data(as_text=True)
    with web.reading() as session:
        user = people.get_user(session, "asa.oberg")
        assert user.password_hash is None and user.language == "en"
        events = [
            e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.subject_id == "asa.oberg"))
        ]
    assert events == ["user.added", "user.invite_sent"]
    path = _link(web, "asa.oberg")
    assert re.fullmatch(r"/password/[A-Za-z0-9._-]+", path)

    visitor = app.test_client()
    shown = visitor.get(path)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Åsa Öberg (asa.oberg)" in shown.get_data(as_text=True)
    # Two different passwords: the error beside the second field, and no password set.
    differ = _set(visitor, path, "a long enough password", "another long password")
    assert differ.status_code == 400
    assert 'id="again-e"' in differ.get_data(as_text=True)
    too_short = _set(visitor, path, "short")
    assert too_short.status_code == 400 and 'id="password-e"' in too_short.get_data(as_text=True)
    with web.reading() as session:
        assert people.get_user(session, "asa.oberg").password_hash is None
    # Without the CSRF token: refused.
    assert visitor.post(path, data={"password": "x" * 12, "again": "x" * 12}).status_code == 400
    assert _set(visitor, path, "correct horse battery").status_code == 302
    assert login(visitor, "asa.oberg", "correct horse battery").status_code == 302
    assert visitor.get("/inbox").status_code == 200
    # Spent: the same link no longer opens the form nor sets a password.
    other = app.test_client()
    assert other.get(path).status_code == 404
    assert other.post(path, data={"password": "p" * 12, "again": "p" * 12}).status_code in (400, 404)
    with web.reading() as session:
        audited = session.execute(
            select(AuditEvent.action, AuditEvent.data).where(AuditEvent.subject_id == "asa.oberg")
        ).all()
    assert audited[-1][0] == "user.password_set"
    assert all(path.rsplit("/", 1)[1] not in str(data) for _, data in audited)  # the token never audited


def test_bad_invitations_change_nothing(web: Database, signed_in: Callable[[str], FlaskClient]) -> None:
    admin = signed_in("admin")
    users, mails = _count(web, User), _count(web, Notice)
    bad = post(
        admin, "/admin/invite", {**PERSON, "email": "not an address", "language": ""}, token_from="/admin"
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="invite-email-e"' in body and 'id="invite-language-e"' in body
    assert 'value="Åsa Öberg"' in body  # what was typed is kept
    taken = post(admin, "/admin/invite", {**PERSON, "username": "anna.nilsson"}, token_from="/admin")
    assert taken.status_code == 409
    assert (_count(web, User), _count(web, Notice)) == (users, mails)


def test_a_reset_link_expires_and_a_forged_one_opens_nothing(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    admin = signed_in("admin")
    assert (
        post(
            admin, "/admin/send_link", {"username": "lead1", "kind": "reset"}, token_from="/admin"
        ).status_code
        == 302
    )
    path = _link(web, "lead1")
    visitor = app.test_client()
    assert visitor.get(path[:-2] + ("aa" if not path.endswith("aa") else "bb")).status_code == 404
    assert visitor.get("/password/" + "x" * 500).status_code == 404
    from planflow import clock

    clock.set_now(clock.now() + invitations.KINDS["reset"][1])
    try:
        assert visitor.get(path).status_code == 404
    finally:
        clock.set_now(None)
    # Unknown kinds and people: an error, nothing sent.
    mails = _count(web, Notice)
    assert (
        post(
            admin, "/admin/send_link", {"username": "lead1", "kind": "root"}, token_from="/admin"
        ).status_code
        == 400
    )
    assert (
        post(
            admin, "/admin/send_link", {"username": "nobody", "kind": "reset"}, token_from="/admin"
        ).status_code
        == 404
    )
    assert _count(web, Notice) == mails
    # The old password still works until the new one is chosen.
    assert login(app.test_client(), "lead1", password_of("lead1")).status_code == 302


def test_substitutions_and_tokens_are_listed_and_ended(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    with web.transaction() as session:
        people.add_substitute(session, OPERATOR_ACTOR, "lead1", "anna.nilsson", date(2020, 1, 1), None)
        people.issue_token(session, OPERATOR_ACTOR, "lead1")
        substitution_id = session.scalar(select(func.max(Substitution.id)))
        token_id = session.scalar(select(func.max(ApiToken.id)))
    admin = signed_in("admin")
    page = admin.get("/admin").get_data(as_text=True)
    assert f'data-substitution="{substitution_id}"' in page and f'data-token="{token_id}"' in page
    assert "Tills vidare" in page
    assert post(admin, "/admin/end_substitution", {"id": "x1"}, token_from="/admin").status_code == 400
    assert post(admin, "/admin/end_token", {"id": "999999"}, token_from="/admin").status_code == 404
    assert (
        post(admin, "/admin/end_substitution", {"id": str(substitution_id)}, token_from="/admin").status_code
        == 302
    )
    assert post(admin, "/admin/end_token", {"id": str(token_id)}, token_from="/admin").status_code == 302
    page = admin.get("/admin").get_data(as_text=True)
    assert f'data-substitution="{substitution_id}"' not in page and f'data-token="{token_id}"' not in page
    with web.reading() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(2)).all()
        assert session.get(ApiToken, token_id).revoked_at is not None  # type: ignore[union-attr]
    assert actions == ["token.revoked", "substitute.ended"]


def test_roles_owners_and_tasks_are_chosen_by_name(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    admin = signed_in("admin")
    page = admin.get("/admin").get_data(as_text=True)
    # A role, a person and an activity are chosen from lists that name them; nothing is typed.
    # A focus area's roles under its number and title (the plan's words), each role by name.
    group = re.search(r'<optgroup label="1 Ett företagsklimat[^"]*">(.*?)</optgroup>', page, re.S)
    assert group is not None
    option = r'<option value="focus_area_lead:[a-z0-9-]+/1">Fokusområdesansvarig – 1</option>'
    assert re.search(option, group.group(1))
    assert '<option value="lead1">' in page and 'list="pf-roles"' not in page
    assert 'name="task_id" type=' not in page and '<select id="reassign-task_id"' in page
    spec = re.search(r'<option value="(focus_area_lead:[a-z0-9-]+/2)">', page)
    assert spec is not None
    assert (
        post(
            admin, "/admin/grant", {"username": "anna.nilsson", "role": spec.group(1)}, token_from="/admin"
        ).status_code
        == 302
    )
    with web.reading() as session:
        roles = [str(r.role.value) for r in people.get_user(session, "anna.nilsson").roles]
    assert "focus_area_lead" in roles
    owner = re.search(r'<option value="([a-z0-9-]+/1\.1\.1)">1\.1\.1 ', page)
    assert owner is not None
    assert (
        post(
            admin, "/admin/owner", {"code": owner.group(1), "username": "lead1"}, token_from="/admin"
        ).status_code
        == 302
    )


def test_where_everyone_signs_in_through_a_provider_an_invitation_says_how_and_a_reset_is_refused(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    """With the password form off (LOCAL_LOGIN false), a password link would open nothing: the
    invitation says to sign in with the organisation's account, and a reset is refused, by the
    one rule the admin page, the API and the command line share (invitations.send_link)."""
    admin = signed_in("admin")  # with a password, before the form goes
    app.config["LOCAL_LOGIN"] = False
    assert post(admin, "/admin/invite", PERSON, token_from="/admin").status_code == 302
    with web.reading() as session:
        notice = session.scalars(
            select(Notice).join(User, User.id == Notice.recipient_id).where(User.username == "asa.oberg")
        ).one()
        assert notice.template == "notice.account_invite_sso" and notice.params["path"] == "/login"
        assert people.get_user(session, "asa.oberg").password_hash is None
    refused = post(admin, "/admin/send_link", {"username": "asa.oberg", "kind": "reset"}, token_from="/admin")
    assert "inget lösenord att byta" in refused.get_data(as_text=True)
    assert _count(web, Notice) == 1  # nothing more was mailed
