"""The plan page and GET /api/v1/plan say the same, number by number, to each reader: the same
activities with the same titles, statuses and latest-report dates, and the same counts per status
per focus area. Both are one read (services.planview.read_plan), which decides what the reader may
see: someone from outside the municipality (the business dialogue's representative) sees accepted
reports only, their dates and colours, never a pending or returned one nor an owner's comment."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from planflow import clock
from planflow.db import Database
from tests.services.chain import Chain
from tests.web.api.conftest import Api

STATUSES = ("green", "yellow", "red", "unreported")
MONTHS = "januari februari mars april maj juni juli augusti september oktober november december".split()
SECRET = "Internt: budgeten för 3.1.1 saknas."  # an owner's comment on a report not yet reviewed
RETURNED = "Första utkastet."  # an owner's comment on a report the lead returned

Rows = dict[str, tuple[str, str | None, date | None]]  # code -> title, status, latest report's day


@pytest.fixture
def under_way(web: Database) -> Database:
    """A cycle under way: 1.1.1 accepted green, 2.1.1 accepted red, 1.1.2 returned, 3.1.1 reported
    and waiting for its review (a day later than the others)."""
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(web)
    chain.start_cycle()
    chain.report_and_accept("1.1.1")
    chain.report_and_accept("2.1.1", "red", cause="Ingen lokal.")
    chain.do(chain.owner_of("1.1.2"), "report_status", {"status": "green", "comment": RETURNED}, "1.1.2")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange antal."}, "1.1.2")
    clock.set_now(datetime(2026, 11, 3, 23, 30, tzinfo=UTC))  # 3 november in UTC, 4 in Stockholm
    chain.do(
        chain.owner_of("3.1.1"),
        "report_status",
        {"status": "yellow", "comment": SECRET, "cause": "-"},
        "3.1.1",
    )
    return web


def _day(words: str) -> date | None:
    """A day as the page words it ("4 november 2026"), None for "ingen ännu"."""
    found = re.fullmatch(r"(\d{1,2}) (\w+) (\d{4})", words.strip())
    if found is None:
        assert words.strip() == "ingen ännu", words
        return None
    return date(int(found[3]), MONTHS.index(found[2]) + 1, int(found[1]))


def page_rows(page: str) -> Rows:
    rows: Rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        code = re.search(r'<td data-label="Kod">([0-9.]+)</td>', row)
        if code is None:
            continue  # the heatmap's rows
        light = re.search(r'<span class="light (\w+)"', row)
        title = re.search(r'<a href="/activities/[^"]*">(.*?)</a>', row, re.S)
        last = re.search(r"Senaste rapport: (.*?)</span>", row, re.S)
        assert light and title and last, row
        status = None if light[1] == "none" else light[1]
        rows[code[1]] = (html.unescape(title[1]), status, _day(re.sub(r"<[^>]+>", "", last[1])))
    return rows


def page_counts(page: str) -> dict[int, dict[str, int]]:
    found = {}
    for number, words in re.findall(
        r'<span class="bar-label">Fokusområde (\d+)</span>.*?<span class="bar-counts">(.*?)</span>',
        page,
        re.S,
    ):
        found[int(number)] = dict(zip(STATUSES, map(int, re.findall(r"(\d+) ", words)), strict=True))
    return found


def api_activities(tree: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [
        (fa["number"], activity)
        for fa in tree["focus_areas"]
        for ia in fa["intervention_areas"]
        for activity in ia["activities"]
    ]


def api_rows(tree: dict[str, Any]) -> Rows:
    rows: Rows = {}
    for _, a in api_activities(tree):
        last = a["last_report"]
        day = clock.local(datetime.fromisoformat(last["reported_at"])).date() if last else None
        rows[a["code"]] = (a["title"], a["status"], day)
    return rows


def api_tally(tree: dict[str, Any]) -> dict[int, dict[str, int]]:
    tally = {fa["number"]: dict.fromkeys(STATUSES, 0) for fa in tree["focus_areas"]}
    for number, a in api_activities(tree):
        if a["state"] == "active":
            tally[number][a["status"] or "unreported"] += 1
    return tally


def _both(app: Flask, web: Database, signed_in: Callable[[str], FlaskClient], user: str) -> tuple[str, dict]:
    page = signed_in(user).get("/")
    tree = Api(app, web)("GET", "/plan", user)
    assert page.status_code == 200 and tree.status_code == 200
    return page.get_data(as_text=True), tree.json


@pytest.mark.parametrize("user", ["processledare", "anna.nilsson"])
def test_the_plan_page_and_the_api_agree_for_a_municipal_reader(
    app: Flask, under_way: Database, signed_in: Callable[[str], FlaskClient], user: str
) -> None:
    """A municipal reader: every activity's latest report, whatever its review, in both."""
    page, tree = _both(app, under_way, signed_in, user)
    rows = page_rows(page)
    assert len(rows) == 60 and rows == api_rows(tree)
    assert rows["1.1.1"][1:] == ("green", date(2026, 11, 2)) and rows["2.1.1"][1] == "red"
    assert rows["3.1.1"][1:] == (None, date(2026, 11, 4))  # reported, not yet accepted
    assert page_counts(page) == api_tally(tree) == {fa["number"]: fa["counts"] for fa in tree["focus_areas"]}
    assert page_counts(page)[1] == {"green": 1, "yellow": 0, "red": 0, "unreported": 11}
    last = {a["code"]: a["last_report"] for _, a in api_activities(tree)}
    assert last["3.1.1"]["review"] == "pending" and last["3.1.1"]["comment"] == SECRET
    assert last["1.1.2"]["review"] == "returned" and last["1.1.2"]["comment"] == RETURNED


def test_a_reader_from_outside_sees_accepted_reports_only_on_the_page_and_in_the_api(
    app: Flask, under_way: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    """The business dialogue's representative: the dates and colours of accepted reports, in both;
    the API sent this reader every activity's latest report, pending and returned ones included,
    with the owner's comment."""
    page, tree = _both(app, under_way, signed_in, "naringslivsradet")
    sent = [a["last_report"] for _, a in api_activities(tree) if a["last_report"]]
    assert sent and all(r["review"] == "accepted" and r["comment"] is None for r in sent)
    assert SECRET not in str(tree) and RETURNED not in str(tree)
    rows = page_rows(page)
    assert rows == api_rows(tree)
    assert rows["3.1.1"][2] is None and rows["1.1.2"][2] is None and rows["1.1.1"][2] == date(2026, 11, 2)
    assert page_counts(page) == api_tally(tree) == {fa["number"]: fa["counts"] for fa in tree["focus_areas"]}
