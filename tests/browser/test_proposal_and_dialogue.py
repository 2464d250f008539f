"""In a real browser: a focus-area lead proposes a new activity (a mistake first, corrected without
retyping), and the business community's representative gives feedback while the dialogue is open.
Every page is screenshotted, checked by axe-core and at 390 px, like the journey's."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from planflow import clock
from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor
from tests.web.dialogue import open_dialogue

pytestmark = pytest.mark.browser


def test_a_lead_proposes_an_activity(browser: Any, live: LiveApp) -> None:
    checked: dict[str, list[str]] = {}
    lead = Visitor(browser, live, checked)
    lead.login("lead1")
    lead.page.get_by_role("link", name="Förslag", exact=True).click()
    lead.page.wait_for_url(re.compile(r"/proposals$"))
    lead.check("proposals-empty")
    lead.page.get_by_role("link", name="Föreslå en ny aktivitet").click()
    lead.page.wait_for_url(re.compile(r"/proposals/new$"))
    lead.check("proposal-new")
    page = lead.page
    page.get_by_label("Aktivitet", exact=False).first.fill("Företagslotsen på lördagar")
    page.select_option("#f-intervention_area", "1.2")
    # the owner left unchosen in its list of names
    page.fill("#f-start", "2027-01-01")
    page.fill("#f-end", "2027-12-31")
    page.fill("#f-why", "Efterfrågat i Frukostklubben.")
    page.get_by_role("button", name="Skicka förslaget").click()
    page.wait_for_load_state()
    assert page.locator("#e-owner").is_visible()  # beside the field, with everything else kept
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#f-title").input_value() == "Företagslotsen på lördagar"
    assert page.locator("#f-intervention_area").input_value() == "1.2"
    assert page.locator("#f-why").input_value() == "Efterfrågat i Frukostklubben."
    lead.check("proposal-errors")
    page.get_by_role("link", name=re.compile("Aktivitetsansvarig")).click()  # the summary leads to it
    assert page.evaluate("document.activeElement.id") == "f-owner"
    page.select_option("#f-owner", "erik.berg")  # picked by name, sent as the username
    page.get_by_role("button", name="Skicka förslaget").click()
    page.wait_for_url(re.compile(r"/proposals$"))
    assert "Förslaget ”Företagslotsen på lördagar” är skickat till processledaren." in page.content()
    assert "hos processledaren" in page.content()
    lead.check("proposals")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    lead.go("/proposals/new")
    assert "Propose a new activity" in page.content()
    lead.check("proposal-new-en")
    page.get_by_role("button", name="Svenska").click()
    page.wait_for_load_state()
    lead.close()
    assert len(checked) == 5


def test_the_business_community_gives_feedback_while_the_dialogue_is_open(
    browser: Any, live: LiveApp
) -> None:
    today = clock.now().date()
    quarter = (today.month - 1) // 3 + 1
    period = f"{today.year}-Q{quarter}"
    open_dialogue(live.db, period, date(today.year, quarter * 3, 28))
    checked: dict[str, list[str]] = {}
    guest = Visitor(browser, live, checked)
    guest.login("naringslivsradet")
    guest.page.get_by_role("link", name="Näringslivsdialogen").click()
    guest.page.wait_for_url(re.compile(r"/dialogue$"))
    guest.check("dialogue")
    guest.page.get_by_role("link", name=f"Lämna synpunkter för {period}").click()
    guest.page.wait_for_url(re.compile(rf"/dialogue/{period}$"))
    guest.check("dialogue-give")
    page = guest.page
    page.fill("#f-feedback", "   ")
    page.get_by_role("button", name="Skicka synpunkterna").click()
    page.wait_for_load_state()
    assert page.locator("#e-feedback").is_visible()
    guest.check("dialogue-errors")
    page.fill("#f-feedback", "Fler företagsbesök i Järna, och lediga lokaler samlade på ett ställe.")
    page.get_by_role("button", name="Skicka synpunkterna").click()
    page.wait_for_url(re.compile(rf"/dialogue/{period}$"))
    assert f"Tack! Dina synpunkter för {period} är mottagna." in page.content()
    assert "lediga lokaler samlade på ett ställe" in page.content()
    guest.check("dialogue-given")
    guest.close()
    assert len(checked) == 4
