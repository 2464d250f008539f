"""In a real browser 390 px wide (a phone): no page is wider than the screen (issue 18, item 12:
the report pages scrolled sideways by 341–362 px). Every report page (the list, a period's and a
year's report, the issue's confirmation, an issued report) and the plan, inbox, cycle, steering,
activity and process pages, with a chain run far enough that they hold real rows: a red
deviation, a long comment, an annual report, an issued report. The report pages are also checked
by axe-core (WCAG 2.1 A/AA) and screenshotted, as the journey's pages are."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from planflow import clock, reports
from planflow.audit_keys import SigningKey
from planflow.models import ProcessInstance
from planflow.services.authority import people
from planflow.services.chain import annual
from planflow.services.outputs import issued
from planflow.services.records.audit import Actor
from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor
from tests.services.chain import Chain
from tests.web.conftest import password_of

pytestmark = pytest.mark.browser
WIDTH = 390
LONG_WORD = "Näringslivsutvecklingssamverkansöverenskommelseuppföljningsrapporteringen"


def _world(live: LiveApp) -> dict[str, Any]:
    """A cycle of this quarter with a red deviation recommended on, long words in the comments,
    this year's annual report approved and the steering report issued."""
    chain = Chain(live.db)
    today = clock.now().date()
    quarter = (today.month - 1) // 3 + 1
    period = f"{today.year}-Q{quarter}"
    chain.start_cycle(period, date(today.year, quarter * 3, 28))
    chain.do("anna.nilsson", "report_status", {"status": "red", "cause": f"{LONG_WORD} saknas."}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.1")
    chain.do("processledare", "draft_recommendation", {"recommendation": f"Skjut upp. {LONG_WORD}."})
    chain.report_and_accept("1.1.2", "yellow", cause=LONG_WORD)
    chain.report_and_accept("2.1.1", "green")
    with live.db.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        annual.start_annual_report(session, leader, today.year)
    chain.do("processledare", "compile_annual_report", {"summary": f"Planen följs. {LONG_WORD}."})
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})  # so it may be issued
    with live.db.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        signer = SigningKey(Ed25519PrivateKey.generate())
        report_id = issued.issue_report(session, leader, signer, "steering", period, render=reports.render).id
        instance = session.scalar(
            select(ProcessInstance.id).where(ProcessInstance.process_id == "deviation").limit(1)
        )
    return {"period": period, "year": today.year, "report": report_id, "instance": instance}


def _pages(world: dict[str, Any]) -> list[tuple[str, str]]:
    period, year = world["period"], world["year"]
    return [
        ("reports", "/reports/"),
        ("report-steering", f"/reports/steering/{period}"),
        ("report-annual", f"/reports/annual/{year}"),
        ("report-issue", f"/reports/issue/annual/{year}"),
        ("report-issued", f"/reports/issued/{world['report']}"),
        ("plan", "/"),
        ("inbox", "/inbox"),
        ("cycles", "/cycles"),
        ("cycle", f"/cycles/{period}"),
        ("steering", "/steering"),
        ("activity", "/activities/1.1.1"),
        ("process", f"/processes/{world['instance']}"),
        ("proposals", "/proposals"),
        ("audit", "/audit"),
    ]


def _sign_in(page: Any, live: LiveApp, username: str) -> None:
    page.goto(live.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password_of(username))
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/inbox$"))


@pytest.mark.parametrize("language", ["sv", "en"])
def test_no_page_is_wider_than_a_phone(browser: Any, live: LiveApp, language: str) -> None:
    world = _world(live)
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="sv-SE")
    page = context.new_page()
    _sign_in(page, live, "processledare")
    if language == "en":
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
    too_wide = {}
    for name, path in _pages(world):
        response = page.goto(live.url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            too_wide[name] = width
    context.close()
    assert too_wide == {}, f"wider than {WIDTH} px: {too_wide}"


def test_the_report_pages_pass_axe_and_show_downloads_as_a_list(browser: Any, live: LiveApp) -> None:
    world = _world(live)
    checked: dict[str, list[str]] = {}
    leader = Visitor(browser, live, checked)
    leader.login("processledare")
    for name, path in _pages(world)[:5]:
        leader.go(path)
        leader.check(name)
    leader.go(f"/reports/steering/{world['period']}")
    links = leader.page.locator(".downloads ul.links li a")
    assert links.count() == 3  # Word, HTML, PDF
    boxes = [links.nth(i).bounding_box() for i in range(3)]
    for first, second in zip(boxes, boxes[1:], strict=False):  # room between them
        assert first and second and second["x"] >= first["x"] + first["width"] + 8
    # a data table scrolls in its own labelled region, reachable by keyboard
    region = leader.page.locator(".report .table-scroll").first
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-labelledby")
    leader.close()
    assert set(checked) == {name for name, _ in _pages(world)[:5]}


def test_the_deactivation_confirmation_and_a_task_with_its_draft_button_pass_axe(
    browser: Any, live: LiveApp
) -> None:
    world = _world(live)
    checked: dict[str, list[str]] = {}
    admin = Visitor(browser, live, checked)
    admin.login("admin")
    admin.go("/admin/users/anna.nilsson/deactivate")
    assert "Ansvarig för" in admin.page.content()
    admin.check("admin-deactivate")
    admin.close()
    lead = Visitor(browser, live, checked)
    lead.login("lead1")
    task = Chain(live.db).task("lead1", "agree_recommendation", "1.1.1")
    lead.go(f"/tasks/{task.id}")
    lead.page.get_by_role("button", name="Spara utkast").click()
    lead.page.wait_for_url(re.compile(rf"/tasks/{task.id}$"))
    assert "Utkastet är sparat." in lead.page.content()
    lead.check("task-draft-saved")
    lead.close()
    assert world and set(checked) == {"admin-deactivate", "task-draft-saved"}
