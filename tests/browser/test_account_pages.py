"""In a real browser: the account page listing a person's two sessions and ending one, and the
administrator's "sign out everywhere" on the person's page, pass axe-core (WCAG 2.1 A/AA) and fit
390 px, in Swedish and in English."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor

pytestmark = pytest.mark.browser


def _as(browser: Any, live: LiveApp, checked: dict[str, list[str]], username: str, language: str) -> Visitor:
    visitor = Visitor(browser, live, checked)
    visitor.login(username)
    if language == "en" and visitor.page.locator("html").get_attribute("lang") != "en":
        visitor.page.get_by_role("button", name="English").click()
        visitor.page.wait_for_load_state()
    return visitor


@pytest.mark.parametrize("language", ["sv", "en"])
def test_sessions_are_listed_and_ended_in_a_browser(browser: Any, live: LiveApp, language: str) -> None:
    checked: dict[str, list[str]] = {}
    elsewhere = _as(browser, live, checked, "anna.nilsson", language)
    anna = _as(browser, live, checked, "anna.nilsson", language)
    anna.page.locator("header a.who").click()
    anna.page.wait_for_load_state()
    rows = anna.page.locator("main tbody tr")
    assert rows.count() == 2
    anna.check(f"account-sessions-{language}")
    # End the other browser's session (the row not marked as this one).
    rows.filter(has_not=anna.page.locator("strong")).locator("button").click()
    anna.page.wait_for_load_state()
    assert anna.page.locator("main tbody tr").count() == 1
    anna.check(f"account-one-ended-{language}")
    elsewhere.go("/inbox")
    assert "/login" in elsewhere.page.url
    elsewhere.close()

    admin = _as(browser, live, checked, "admin", language)
    admin.go("/admin/users/anna.nilsson/deactivate")
    admin.check(f"admin-person-sign-out-{language}")
    admin.page.locator("main form[action$='/admin/sign_out'] button").click()
    admin.page.wait_for_load_state()
    admin.check(f"admin-signed-out-{language}")
    admin.close()
    anna.go("/inbox")
    assert "/login" in anna.page.url
    anna.close()
    names = ("account-sessions", "account-one-ended", "admin-person-sign-out", "admin-signed-out")
    assert {f"{name}-{language}" for name in names} <= set(checked)
