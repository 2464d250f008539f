"""The first page: the plan's focus areas with their activities; to a visitor who has not signed
in, the plan as adopted (a public document) without its traffic lights, and the way to sign in."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import User
from tests.services.chain import START, Chain
from tests.web.conftest import login


def test_plan_page_lists_focus_areas_and_activities(signed_in: Callable[[str], FlaskClient]) -> None:
    page = signed_in("anna.nilsson").get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for number in range(1, 6):
        assert f"Fokusområde {number}:" in html
    assert "Företagsbesök politiker" in html
    assert "Synliggöra lediga lokaler" in html
    assert "demodata" in html  # invented owners are marked
    assert '<ul class="bars" aria-label="Antal aktiviteter per status och fokusområde"' in html
    assert "0 grön · 0 gul · 0 röd · 12 ej rapporterad" in html


def test_a_visitor_reads_the_plan_as_adopted_without_its_statuses_and_is_shown_the_way_in(
    app: Flask, web: Database
) -> None:
    chain = Chain(web)
    clock.set_now(START)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Leverantören drog sig ur.")
    page = app.test_client().get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Handlingsplan för näringslivsstrategin Utvecklingskraft i Södertälje" in html
    for number in range(1, 6):
        assert f"Fokusområde {number}:" in html
    assert "Företagsbesök politiker" in html and "Synliggöra lediga lokaler" in html
    assert "Ansvarig förvaltning" in html and "demodata" in html
    assert 'href="/login">Logga in</a>' in html and "60 pågående aktiviteter" in html
    internal = ('class="light', ">Röd<", "Ej rapporterad", "Leverantören", "/activities/", "anna.nilsson")
    assert [word for word in internal if word in html] == []
    with web.reading() as session:
        owner = session.scalars(select(User.display_name).where(User.username == "anna.nilsson")).one()
    assert owner not in html  # people are named to those signed in
    signed = app.test_client()
    login(signed, "anna.nilsson")
    assert 'class="light red"' in signed.get("/").get_data(as_text=True)  # signed in: the lights


def test_plan_page_without_a_plan_says_how_to_load_one(app: Flask, db: Database) -> None:
    from planflow.services.authority import people
    from planflow.services.records.audit import OPERATOR_ACTOR
    from tests.web.conftest import login, set_passwords

    with db.transaction() as session:
        people.add_user(session, OPERATOR_ACTOR, "eva", "Eva", "eva@example.org", password="pw-eva-2026-plan")
    set_passwords  # noqa: B018  (the account above has its own password)
    client = app.test_client()
    login(client, "eva", "pw-eva-2026-plan")
    html = client.get("/").get_data(as_text=True)
    assert "planflow init" in html


def test_filters_narrow_the_plan(signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("lead1")
    html = client.get("/?area=3").get_data(as_text=True)
    assert "Fokusområde 3:" in html and "Fokusområde 1:" not in html.split('id="toc-h"')[1]
    html = client.get("/?q=lediga+lokaler").get_data(as_text=True)
    assert "Synliggöra lediga lokaler" in html and "Företagsbesök politiker" not in html
    html = client.get("/?status=red").get_data(as_text=True)
    assert "0 aktiviteter visas." in html


def test_a_lead_is_offered_to_propose_in_the_own_focus_areas_only(
    signed_in: Callable[[str], FlaskClient],
) -> None:
    import re

    html = signed_in("lead2").get("/").get_data(as_text=True)
    offered = re.findall(r'href="/proposals/new\?area=([0-9.]+)"', html)
    assert offered and all(code.startswith("2.") for code in offered)
    assert "Föreslå en ny aktivitet i 2.1" in html
    assert "/proposals/new" not in signed_in("anna.nilsson").get("/").get_data(as_text=True)


def test_an_activity_with_an_overdue_task_is_marked_on_its_row_only(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    import re
    from datetime import UTC, date, datetime

    from planflow import clock
    from tests.services.chain import Chain

    clock.set_now(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    chain = Chain(web)
    chain.start_cycle(deadline=date(2026, 11, 20))
    chain.report_and_accept("1.1.1")  # done in time: its review is accepted, nothing left open
    clock.set_now(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    html = signed_in("anna.nilsson").get("/").get_data(as_text=True)
    rows = {
        code: row
        for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)
        for code in re.findall(r'<td data-label="Kod">([0-9.]+)</td>', row)
    }
    assert "försenad" not in rows["1.1.1"]
    assert "försenad" in rows["1.1.2"]  # its report is still due


def test_the_heatmap_names_each_activity_and_each_cell_says_whose_status_it_is(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    import re
    from datetime import UTC, datetime

    from planflow import clock
    from tests.services.chain import Chain

    clock.set_now(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    chain = Chain(web)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", cause="Ingen budget.")
    html = signed_in("anna.nilsson").get("/").get_data(as_text=True)
    heat = re.search(r'<table class="heat">(.*?)</table>', html, re.S)
    assert heat, "no heatmap"
    rows = re.findall(r"<tr>(.*?)</tr>", heat[1], re.S)
    first = next(row for row in rows if ">1.1.1</a>" in row)
    header = re.search(r'<th scope="row" class="heat-activity">(.*?)</th>', first, re.S)
    assert header and 'href="/activities/1.1.1"' in header[1]
    assert '<span class="heat-title">Företagsbesök politiker</span>' in header[1]  # visible, not a tooltip
    cell = re.search(r'<td class="cell red">(.*?)</td>', first, re.S)
    assert cell and re.sub(r"<[^>]+>", "", cell[1]) == "1.1.1 Företagsbesök politiker, 2026-Q4: Röd"
    other = next(row for row in rows if ">1.1.2</a>" in row)
    empty = re.search(r'<td class="cell ">(.*?)</td>', other, re.S)
    assert empty and "ingen godkänd rapport" in empty[1] and 'aria-hidden="true">–' in empty[1]
