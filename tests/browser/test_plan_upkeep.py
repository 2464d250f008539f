"""In a real browser: the process leader starts the year's annual report from the reports page (and
is refused a second start), then completes an activity the steering group has just added, one
refused save first. Every page is screenshotted, checked by axe-core and checked at 390 px."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from planflow import clock
from planflow.models import Activity
from planflow.services.records import audit
from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor
from tests.services.test_activity_edits import _approve_a_proposal

pytestmark = pytest.mark.browser


def test_the_process_leader_starts_the_annual_report_and_completes_a_new_activity(
    browser: Any, live: LiveApp
) -> None:
    _approve_a_proposal(live.db)
    year = str(clock.now().year)
    checked: dict[str, list[str]] = {}
    leader = Visitor(browser, live, checked)
    leader.login("processledare")
    page = leader.page

    leader.go("/reports/")
    assert page.locator("#f-year").input_value() == year
    leader.check("reports")
    page.get_by_role("button", name="Starta årsrapporten").click()
    page.wait_for_url(re.compile(r"/reports/$"))
    assert f"Årsrapporten för {year} är startad" in page.content()
    leader.check("reports-annual-started")
    page.get_by_role("button", name="Starta årsrapporten").click()
    page.wait_for_load_state()
    assert "redan påbörjad" in page.locator("#e-annual").inner_text()
    leader.check("reports-annual-refused")

    page.get_by_role("link", name="Uppdatera planen").first.click()
    page.wait_for_url(re.compile(r"/admin/plan$"))
    leader.check("upkeep")
    page.get_by_role("link", name=re.compile(r"^3\.4\.4 ")).click()
    page.wait_for_url(re.compile(r"/admin/activities/3\.4\.4$"))
    leader.check("activity-edit")

    page.fill("#f-title", "")
    page.fill("#f-office", "Näringslivskontoret")
    page.fill("#f-starts_on", "2027-03-01")
    page.fill("#f-ends_on", "2027-02-01")
    page.get_by_role("button", name="Spara ändringarna").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#e-title").is_visible() and page.locator("#e-ends_on").is_visible()
    assert page.locator("#f-office").input_value() == "Näringslivskontoret"  # nothing typed is lost
    leader.check("activity-edit-errors")

    page.fill("#f-title", "Lokalguide för nya företag")
    page.select_option("#f-owner", "lena.holm")
    page.fill("#f-ends_on", "2027-12-31")
    page.get_by_role("button", name="Spara ändringarna").click()
    page.wait_for_url(re.compile(r"/activities/3\.4\.4$"))
    assert "Aktivitet 3.4.4 är ändrad." in page.content()
    leader.check("activity-edited")
    leader.close()

    with live.db.reading() as session:
        activity = session.scalars(select(Activity).where(Activity.code == "3.4.4")).one()
        assert (activity.title, activity.owner.username if activity.owner else None, activity.office) == (
            "Lokalguide för nya företag",
            "lena.holm",
            "Näringslivskontoret",
        )
        (event,) = audit.events(session, action="activity.updated")
        assert set(event.data["changes"]) == {"title", "owner", "office", "starts_on"}

    owner = Visitor(browser, live, checked)
    owner.login("anna.nilsson")
    owner.go("/admin/activities/1.1.1")
    assert "Du har inte behörighet" in owner.page.content()
    owner.check("activity-edit-403")
    owner.close()
    mine = {"reports", "reports-annual-started", "reports-annual-refused", "upkeep", "activity-edit"}
    assert mine | {"activity-edit-errors", "activity-edited", "activity-edit-403"} <= set(checked)
