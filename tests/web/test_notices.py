"""The notices page: the header counts the unread ones, /notices lists them in the reader's language
with a link to the task and marks them read, "mark all read", and each person's own choice of mail
(never someone else's); the same through the API."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import i18n
from planflow.db import Database
from planflow.models import Notice, User
from planflow.services.authority import people
from planflow.services.outputs import notices
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR

from .conftest import post

COUNT = re.compile(r'<span class="count unread" aria-label="([^"]+)">([^<]+)</span>')


def _queue(db: Database, username: str, count: int, prefix: str = "x") -> None:
    with db.transaction() as session:
        user = people.get_user(session, username)
        for n in range(count):
            params = {
                "task": {"key": "task.review_report"},
                "task_id": f"task-{prefix}{n}",
                "about": f"1.1.{n + 1} Aktivitet",
                "due": {"key": "notice.no_due"},
            }
            notices.queue(session, [user], "notice.task_arrived", params, f"{prefix}{n}")


def _unread(db: Database, username: str) -> int:
    with db.reading() as session:
        return notices.unread_count(session, people.get_user(session, username))


def test_the_header_counts_unread_notices_until_they_are_seen(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    _queue(web, "lead1", 3)
    _queue(web, "lead2", 5, prefix="y")  # someone else's: never counted here
    client = signed_in("lead1")
    page = client.get("/plan").get_data(as_text=True)
    assert COUNT.findall(page) == [("3 olästa meddelanden", "3")]
    assert client.get("/notices").status_code == 200  # seen: read from now on
    assert COUNT.findall(client.get("/plan").get_data(as_text=True)) == []
    assert _unread(web, "lead1") == 0 and _unread(web, "lead2") == 5


def test_the_notices_page_lists_a_persons_own_in_their_language_with_links(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    _queue(web, "lead1", 2)
    _queue(web, "lead2", 1, prefix="y")
    client = signed_in("lead1")
    page = client.get("/notices").get_data(as_text=True)
    title = i18n.text("sv", "task.review_report")
    assert page.count('<span class="badge">Oläst</span>') == 2  # shown as new the first time
    assert f'<a href="/tasks/task-x0">Ny uppgift: {title}, 1.1.1 Aktivitet</a>' in page
    assert 'href="/tasks/task-x1"' in page and "task-y0" not in page
    again = client.get("/notices").get_data(as_text=True)
    assert "Oläst" not in again.replace("olästa", "")  # read now
    with web.transaction() as session:
        people.get_user(session, "lead1").language = "en"
    english = signed_in("lead1").get("/notices").get_data(as_text=True)
    title = i18n.text("en", "task.review_report")
    assert f'<a href="/tasks/task-x0">New task: {title}, 1.1.1 Aktivitet</a>' in english


def test_mark_all_read_needs_the_form_and_marks_only_ones_own(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    _queue(web, "lead1", 4)
    _queue(web, "lead2", 2, prefix="y")
    client = signed_in("lead1")
    assert client.post("/notices/read").status_code == 400  # no CSRF token: refused
    assert _unread(web, "lead1") == 4
    response = post(client, "/notices/read", token_from="/plan")
    assert response.status_code == 302
    assert _unread(web, "lead1") == 0 and _unread(web, "lead2") == 2


def test_each_person_chooses_their_own_mail_and_not_someone_elses(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("lead1")
    page = client.get("/notices").get_data(as_text=True)
    assert 'name="delivery" value="digest" checked' in page  # the default
    response = post(client, "/notices/delivery", {"delivery": "immediate", "username": "lead2"}, "/notices")
    assert response.status_code == 302
    refused = post(client, "/notices/delivery", {"delivery": "hourly"}, "/notices")
    assert refused.status_code == 400 and 'id="e-delivery"' in refused.get_data(as_text=True)
    with web.reading() as session:
        chosen = dict(session.execute(select(User.username, User.mail_delivery)).all())
        events = [(e.actor, e.subject_id, e.data) for e in audit.events(session, action="user.mail_delivery")]
    assert (chosen["lead1"], chosen["lead2"]) == ("immediate", "digest")  # the form names no one else
    assert events == [("lead1", "lead1", {"delivery": "immediate"})]
    assert 'name="delivery" value="immediate" checked' in client.get("/notices").get_data(as_text=True)


def test_the_api_lists_marks_and_chooses_for_the_caller_only(app: Flask, web: Database) -> None:
    _queue(web, "lead1", 3)
    _queue(web, "lead2", 1, prefix="y")
    with web.transaction() as session:
        token = people.issue_token(session, OPERATOR_ACTOR, "lead1")
    with web.reading() as session:
        others = session.scalars(
            select(Notice.id).join(User, User.id == Notice.recipient_id).where(User.username == "lead2")
        ).all()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/notices", headers=headers).json
    assert listed is not None and (listed["unread"], listed["mail_delivery"]) == (3, "digest")
    assert [n["link"] for n in listed["items"]] == ["/tasks/task-x2", "/tasks/task-x1", "/tasks/task-x0"]
    first = listed["items"][0]["id"]
    marked = client.post("/api/v1/notices/read", json={"ids": [first, *others]}, headers=headers).json
    assert marked == {"marked": 1}  # another's notice is not the caller's to mark
    assert client.post("/api/v1/notices/read", json={}, headers=headers).json == {"marked": 2}
    put = client.put("/api/v1/notices/delivery", json={"delivery": "off"}, headers=headers)
    assert put.status_code == 204
    wrong = client.put("/api/v1/notices/delivery", json={"delivery": "hourly"}, headers=headers)
    assert wrong.status_code == 400
    assert _unread(web, "lead2") == 1
    with web.reading() as session:
        assert people.get_user(session, "lead1").mail_delivery == "off"
