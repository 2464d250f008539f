"""Where a cycle stands has one answer (services.cycleview.cycle_progress): the cycle page and
GET /api/v1/cycles/<period> render the same view, so given the same cycle they agree number by
number, and the API's published schema is that view's type."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow import clock, i18n
from planflow.models import OpenTask
from planflow.services.views import cycleview
from planflow.web.api import schemas
from planflow.web.api.registry import COMPONENTS

from ...services.chain import Chain
from .conftest import Api

PERIOD = "2026-Q4"  # the chain fixture's, due 2026-12-15
# 23:30 UTC on the deadline is 00:30 the next day in Stockholm: every task due on the deadline is
# overdue by the installation's day, and would not be by the UTC date.
AFTER_MIDNIGHT = datetime(2026, 12, 15, 23, 30, tzinfo=UTC)
NUMBERS = ["reports_due", "reports_in", "reports_accepted", "reports_returned"]  # step 1's columns


class _Page(HTMLParser):
    """The cycle page's parts that carry numbers: its tables' rows (cells' text, by table id),
    the reviews' list items and the texts of elements with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}  # by id; tables without one by position
        self.ordered: list[list[list[str]]] = []
        self.items: dict[str, list[str]] = {}
        self.texts: dict[str, str] = {}
        self._table: str | None = None
        self._list: str | None = None
        self._cell: list[str] | None = None
        self._open_ids: list[tuple[str, str]] = []  # (tag, id) of elements whose text is kept
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        if tag == "table":
            self._table = ident or str(len(self.ordered))
            self.tables[self._table] = []
            self.ordered.append(self.tables[self._table])
        elif tag == "ul" and ident:
            self._list = ident
            self.items[ident] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th", "li"):
            self._cell = []
        if ident and tag == "span":
            self._open_ids.append((tag, ident))
            self.texts[ident] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "ul":
            self._list = None
        elif tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "li" and self._list and self._cell is not None:
            self.items[self._list].append("".join(self._cell).strip())
            self._cell = None
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for _, ident in self._open_ids:
            self.texts[ident] += data


def _returned_twice(chain: Chain, code: str = "1.1.1") -> None:
    owner = chain.owner_of(code)
    for round_ in (1, 2):
        chain.do(owner, "report_status", {"status": "green", "comment": f"Försök {round_}."}, code)
        chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange mer."}, code)


def _both(api: Api, signed_in: Callable[[str], FlaskClient]) -> tuple[dict[str, Any], _Page]:
    stands = api("GET", f"/cycles/{PERIOD}", "processledare")
    assert stands.status_code == 200, stands.json
    page = signed_in("processledare").get(f"/cycles/{PERIOD}")
    assert page.status_code == 200
    return stands.json, _Page(page.get_data(as_text=True))


def _reports_rows(page: _Page) -> list[list[str]]:
    return page.ordered[0][1:]  # step 1's table, under its header row


def _area_1(api: Api, signed_in: Callable[[str], FlaskClient]) -> tuple[list[int], list[int]]:
    """Focus area 1's reports due, in, accepted and returned: as the API sends them, as the page shows."""
    stands, page = _both(api, signed_in)
    area = stands["focus_areas"][0]
    return [area[name] for name in NUMBERS], [int(cell) for cell in _reports_rows(page)[0][1:]]


def test_two_returns_in_area_1_the_page_and_the_api_count_alike(
    api: Api, chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    """The issue's case: one owner's report in focus area 1 (12 activities) returned twice. It is
    one report, due (it is not accepted) and returned now; handed in again, it is in and no
    longer returned. Before, after the third hand-in, the API said due 11, returned 1 and the
    page due 12, returned 2."""
    _returned_twice(chain)
    from_api, on_page = _area_1(api, signed_in)
    assert on_page == from_api
    assert from_api == [12, 0, 0, 1]  # due, in, accepted, returned

    chain.do(chain.owner_of("1.1.1"), "report_status", {"status": "green", "comment": "Tredje."}, "1.1.1")
    from_api, on_page = _area_1(api, signed_in)
    assert on_page == from_api
    assert from_api == [12, 1, 0, 0]


def test_the_cycle_page_and_the_api_agree_number_by_number(
    api: Api, chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    """Returns, acceptances, a reconciled area and tasks overdue just after local midnight: the
    page shows, area by area and task by task, what the API sends."""
    _returned_twice(chain)  # 1.1.1: returned now
    owner = chain.owner_of("1.1.2")
    chain.do(owner, "report_status", {"status": "green", "comment": "Klart."}, "1.1.2")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Mer."}, "1.1.2")
    chain.do(owner, "report_status", {"status": "green", "comment": "Nu."}, "1.1.2")  # in
    chain.report_and_accept("1.1.3")
    chain.report_and_accept("2.1.1", "red", cause="Ingen budget.")  # a deviation opens
    for code in _codes_of_area(api, "5"):
        chain.report_and_accept(code)  # area 5 complete: its reconciliation starts
    clock.set_now(AFTER_MIDNIGHT)

    stands, page = _both(api, signed_in)
    rows = _reports_rows(page)
    assert len(rows) == len(stands["focus_areas"]) == 5
    for row, area in zip(rows, stands["focus_areas"], strict=True):
        assert row[1:] == [str(area[name]) for name in NUMBERS], area["number"]
        assert row[0] == f"{area['number']}. {area['title']}"
    area_1 = stands["focus_areas"][0]
    assert (area_1["reports_in"], area_1["reports_accepted"], area_1["reports_returned"]) == (1, 1, 1)
    assert area_1["reports_due"] == 11
    reviews = [
        f"{a['number']}. {a['title']}: {i18n.text('sv', 'ui.cycle.review.' + (a['review'] or 'none'))}"
        for a in stands["focus_areas"]
    ]
    assert page.items["reviews"] == reviews
    assert stands["focus_areas"][4]["review"] == "summarising"

    with api.db.reading() as session:  # overdue by the local date, not by the UTC one
        due_by_deadline = session.scalar(
            select(func.count()).select_from(OpenTask).where(OpenTask.due_on <= date(2026, 12, 15))
        )
    assert stands["overdue_tasks"] == due_by_deadline > 0
    assert page.texts["overdue-count"] == str(stands["overdue_tasks"])
    overdue_rows = page.tables["overdue"][1:]
    assert len(overdue_rows) == len(stands["overdue"]) == stands["overdue_tasks"]
    for row, task in zip(overdue_rows, stands["overdue"], strict=True):
        assert row[1] == (task["activity_code"] or "–")
        assert row[2] == (task["who"] or i18n.text("sv", f"access.lane.{task['lane']}"))
    assert page.texts["escalation-days"] == i18n.text(
        "sv", "ui.cycle.escalation_days", {"days": stands["escalation_days"]}
    )


def _codes_of_area(api: Api, number: str) -> list[str]:
    plan = api("GET", "/plan", "processledare").json
    area = next(a for a in plan["focus_areas"] if str(a["number"]) == number)
    return [
        a["code"] for ia in area["intervention_areas"] for a in ia["activities"] if a["state"] == "active"
    ]


def test_the_published_schema_is_the_views_type(api: Api, chain: Chain) -> None:
    """The JSON's keys are the view's fields, at every level, and the OpenAPI component is
    derived from the same dataclass: neither can drift from the other."""
    chain.report_and_accept("1.1.1")
    clock.set_now(AFTER_MIDNIGHT)
    stands = api("GET", f"/cycles/{PERIOD}", "processledare").json

    def names(view: type) -> list[str]:
        return [f.name for f in dataclasses.fields(view)]

    assert sorted(stands) == sorted(names(cycleview.CycleProgress))  # JSON's keys come sorted
    assert sorted(stands["focus_areas"][0]) == sorted(names(cycleview.AreaProgress))
    assert stands["overdue"] and sorted(stands["overdue"][0]) == sorted(names(cycleview.OverdueTask))
    component = COMPONENTS["CycleProgress"]
    assert schemas.CYCLE_PROGRESS == {"$ref": "#/components/schemas/CycleProgress"}
    assert list(component["properties"]) == component["required"] == names(cycleview.CycleProgress)
    area = component["properties"]["focus_areas"]["items"]
    assert list(area["properties"]) == names(cycleview.AreaProgress)
    assert component["properties"]["state"]["enum"] == ["opening", "open", "reported", "cancelled"]
