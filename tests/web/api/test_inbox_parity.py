"""The inbox has one answer (tasks.inbox_page over access.task_condition): the inbox page and
GET /api/v1/inbox show the same tasks in the same order with the same count, for an owner, a lead
and a substitute."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from planflow.services.authority import people
from planflow.services.chain import tasks
from planflow.services.records.audit import OPERATOR_ACTOR

from ...services.chain import START, Chain
from ..conftest import password_of
from .conftest import Api

TASK = re.compile(r'<a href="/tasks/([0-9a-f-]{36})">')
COUNT = re.compile(r'<span class="count"[^>]*>([0-9+]+)</span>')


def _page(client: FlaskClient) -> tuple[dict[str, list[str]], str]:
    html = client.get("/inbox").get_data(as_text=True)
    body = html[html.index("<main") : html.index("</main>")]
    mine, _, queue = body.partition('<section aria-labelledby="queue-h">')
    count = COUNT.search(html)
    assert count
    return {"mine": TASK.findall(mine), "queue": TASK.findall(queue)}, count.group(1)


def test_the_inbox_page_and_the_api_agree_for_an_owner_a_lead_and_a_substitute(
    api: Api, chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    with chain.db.transaction() as session:
        people.add_user(session, OPERATOR_ACTOR, "vikarie", "Vikarie", "vikarie@example.org")
        people.set_password(session, OPERATOR_ACTOR, "vikarie", password_of("vikarie"))
        people.add_substitute(session, OPERATOR_ACTOR, "lead1", "vikarie", START.date(), None)
        # A second lead of area 1: its reviews are the two leads' to share (a queue to claim from).
        people.add_user(session, OPERATOR_ACTOR, "lead1b", "Andra ansvarig 1", "lead1b@example.org")
        people.grant_role(
            session,
            OPERATOR_ACTOR,
            people.get_user(session, "lead1b"),
            people.RoleSpec.parse("focus_area_lead:1"),
        )
    for code, owner in (("1.1.1", "anna.nilsson"), ("1.1.2", "erik.berg"), ("1.1.3", "anna.nilsson")):
        chain.do(owner, "report_status", {"status": "green"}, code)
    with chain.db.transaction() as session:  # one review claimed, two left to the area's leads
        claimed = chain.task("lead1", "review_report", "1.1.2").id
        tasks.claim(session, people.get_user(session, "lead1"), claimed)
    for username in ("anna.nilsson", "lead1", "vikarie", "processledare"):
        items = api("GET", "/inbox", username).json["items"]
        ids = [t["id"] for t in items]
        shown, count = _page(signed_in(username))
        assert sorted(shown["mine"] + shown["queue"]) == sorted(ids), username
        assert count == str(len(ids)), username

        # The page puts one person's tasks and those claimed first, a group's queue (`shared`)
        # after, each grouped by period and area, by activity code within a group.
        def grouped(rows: list[dict[str, Any]]) -> list[str]:
            key = lambda t: (t["period"] or "", t["focus_area"] or 0, tasks.code_order(t["activity_code"]))  # noqa: E731
            return [t["id"] for t in sorted(rows, key=key)]

        mine = grouped([t for t in items if not t["shared"]])
        queue = grouped([t for t in items if t["shared"]])
        assert shown == {"mine": mine, "queue": queue}, username
        assert all(t["shared"] == (t["role"] != "activity_owner" and not t["assignee"]) for t in items)
    lead = [t["id"] for t in api("GET", "/inbox", "lead1").json["items"]]
    assert claimed in lead and len(lead) == 3
    assert [t["id"] for t in api("GET", "/inbox", "vikarie").json["items"]] == lead
