"""People read names, not logins (issue 18): the cycle page names the one person an overdue task
waits for, the audit log shows who acted by name beside the username it keeps, a claimed task
names who took it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from flask.testing import FlaskClient

from planflow import clock
from planflow.db import Database
from tests.services.chain import START, Chain


def test_the_cycle_page_names_whom_an_overdue_task_waits_for(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    clock.set_now(START)
    chain = Chain(web)
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    clock.set_now(datetime(2026, 12, 16, 9, tzinfo=UTC))  # the day after the deadline
    html = signed_in("processledare").get("/cycles/2026-Q4").get_data(as_text=True)
    table = html[
        html.index('<table id="overdue">') : html.index("</table>", html.index('<table id="overdue">'))
    ]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", table)
    who = {re.sub(r"<[^>]+>", "", code): name for task, code, name in rows if task == "Granska rapport"}
    assert who == {"1.1.1": "Fokusområdesansvarig 1 (demo)"}  # the area's one lead, by name
    owners = {re.sub(r"<[^>]+>", "", code): name for task, code, name in rows if task == "Rapportera status"}
    assert owners["1.1.3"] == "Anna Nilsson (demo)"
    assert not re.search(r"<td>(lead1|anna\.nilsson)</td>", table)


def test_the_audit_log_shows_who_acted_by_name_beside_the_username(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    clock.set_now(START)
    chain = Chain(web)
    chain.start_cycle()
    chain.report_and_accept("1.1.1")
    html = signed_in("processledare").get("/audit?activity=1.1.1").get_data(as_text=True)
    assert "<td>Fokusområdesansvarig 1 (demo) (lead1)</td>" in html
    assert "<td>Anna Nilsson (demo) (anna.nilsson)</td>" in html
    activity = signed_in("processledare").get("/activities/1.1.1").get_data(as_text=True)
    assert "<td>Fokusområdesansvarig 1 (demo) (lead1)</td>" in activity
