"""In a real browser: every page issue 18 added or changed, as the person it is for, passes axe-core
(WCAG 2.1 A/AA) and fits 390 px, in Swedish and in English: the public plan, a lead's review list
and its "accept these together" confirmation, a done task, the notices, the steering page with a
member's comment (and a refused one), a member's inbox, the process leader's reading of the
dialogue, starting a cycle (its confirmation) and cancelling one."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from planflow import clock
from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor
from tests.services.chain import Chain

pytestmark = pytest.mark.browser


def _as(browser: Any, live: LiveApp, checked: dict[str, list[str]], username: str, language: str) -> Visitor:
    visitor = Visitor(browser, live, checked)
    visitor.login(username)
    if language == "en" and visitor.page.locator("html").get_attribute("lang") != "en":
        visitor.page.get_by_role("button", name="English").click()
        visitor.page.wait_for_load_state()
    return visitor


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_new_pages_pass_axe_and_fit_a_phone(browser: Any, live: LiveApp, language: str) -> None:
    checked: dict[str, list[str]] = {}
    chain = Chain(live.db)
    today = clock.today()
    quarter = (today.month - 1) // 3 + 1
    period = f"{today.year}-Q{quarter}"

    # The public plan, before anyone signs in.
    visitor = Visitor(browser, live, checked)
    visitor.go("/")
    if language == "en":
        visitor.page.get_by_role("button", name="English").click()
        visitor.page.wait_for_load_state()
    visitor.check(f"new-public-plan-{language}")
    visitor.close()

    # Starting a cycle asks first; a cycle started by mistake can be cancelled.
    leader = _as(browser, live, checked, "processledare", language)
    leader.go("/cycles")
    leader.page.fill("#f-period", period)
    leader.page.fill("#f-deadline", date(today.year, quarter * 3, 28).isoformat())
    leader.page.locator("main form button[type=submit]").first.click()
    leader.page.wait_for_load_state()
    leader.check(f"new-cycle-confirm-{language}")
    chain.start_cycle(period, date(today.year, quarter * 3, 28))
    leader.go(f"/cycles/{period}/cancel")
    leader.check(f"new-cycle-cancel-{language}")
    leader.close()

    # Reports arrive: the lead's review list, accepting greens together, then a done task.
    for code in ("1.1.1", "1.1.2", "1.1.3"):
        chain.do(
            chain.owner_of(code),
            "report_status",
            {"status": "green", "comment": f"{code} enligt plan."},
            code,
        )
    lead = _as(browser, live, checked, "lead1", language)
    lead.go("/inbox")
    assert lead.page.locator('input[type=checkbox][name="task"]').count() >= 3
    lead.check(f"new-review-list-{language}")
    for box in lead.page.locator('input[type=checkbox][name="task"]').all()[:2]:
        box.check()
    lead.page.locator("#accept-green button[type=submit], button[form=accept-green]").first.click()
    lead.page.wait_for_load_state()
    assert re.search(r"/reviews/accept", lead.page.url)
    lead.check(f"new-accept-confirm-{language}")
    lead.page.locator("main form[method=post] button[type=submit]").first.click()
    lead.page.wait_for_url(re.compile(r"/inbox$"))
    assert lead.page.locator('input[type=checkbox][name="task"]').count() == 1  # two accepted, one left
    done = chain.task("lead1", "review_report", "1.1.3")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.3")
    lead.go(f"/tasks/{done.id}")
    lead.check(f"new-done-task-{language}")
    lead.go("/notices")
    lead.check(f"new-notices-{language}")
    lead.close()

    # The steering group as a body: a member comments on what awaits the group (a refused blank
    # comment first: the error summary, the field marked).
    chain.do(chain.owner_of("1.3.1"), "report_status", {"status": "red", "cause": "Ingen tid."}, "1.3.1")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.3.1")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp."}, "1.3.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.3.1")
    member = _as(browser, live, checked, "styrgrupp.nk", language)
    member.go("/inbox")
    member.check(f"new-member-inbox-{language}")
    member.go("/steering")
    form = member.page.locator("main form:has(textarea[name=comment])").first
    form.locator("button[type=submit]").click()
    member.page.wait_for_load_state()
    assert member.page.locator("#error-summary, .error-summary").count() >= 1
    member.check(f"new-steering-refused-{language}")
    member.page.locator("main textarea[name=comment]").first.fill("Stöd rekommendationen.")
    member.page.locator("main form:has(textarea[name=comment]) button[type=submit]").first.click()
    member.page.wait_for_load_state()
    assert "Stöd rekommendationen." in member.page.locator("main").inner_text()
    member.check(f"new-steering-member-{language}")
    member.close()

    # The process leader reads the dialogue's feedback.
    leader = _as(browser, live, checked, "processledare", language)
    leader.go("/dialogue")
    leader.check(f"new-dialogue-reader-{language}")
    leader.close()
    assert len(checked) == 11
