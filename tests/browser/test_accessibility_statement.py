"""In a real browser: the accessibility statement, read without signing in, in Swedish and in
English, passes axe-core (WCAG 2.1 A/AA) and fits 390 px; and the keyboard walk the statement
reports: on the statement, the sign-in page, the public plan and an owner's inbox, the Tab key
reaches every link, button and field, each showing where the focus is."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from planflow import clock
from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor
from tests.services.chain import Chain

pytestmark = pytest.mark.browser

# What a keyboard user can reach on the page now shown, each marked with its place (a group of
# radio buttons is one stop, as the browser makes it): visible, enabled, not taken out of the order.
REACHABLE = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
  const stops = new Set();
  let n = 0;
  for (const e of document.querySelectorAll(selector)) {
    if (e.disabled || e.tabIndex < 0 || !e.getClientRects().length) continue;
    if (getComputedStyle(e).visibility === 'hidden') continue;
    const stop = e.type === 'radio' ? 'radio:' + e.name : 'stop-' + (n++);
    e.dataset.stop = stop;
    stops.add(stop);
  }
  return [...stops];
}"""
# The element with the focus: its stop, and whether the focus shows (an outline or a shadow).
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const shown = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  return [e.dataset.stop || e.tagName + '#' + e.id, shown];
}"""


def _tab_through(visitor: Visitor, name: str) -> int:
    """Press Tab through the page shown: every stop is reached, and each shows its focus."""
    page = visitor.page
    stops = page.evaluate(REACHABLE)
    assert stops, name
    reached: dict[str, bool] = {}
    for _ in range(len(stops) + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is not None:
            reached.setdefault(focused[0], focused[1])
    missed = [stop for stop in stops if stop not in reached]
    assert missed == [], f"{name}: Tab never reached {missed}"
    unseen = [stop for stop, shown in reached.items() if not shown]
    assert unseen == [], f"{name}: the focus does not show on {unseen}"
    return len(stops)


@pytest.mark.parametrize(("path", "language"), [("/tillganglighet", "sv"), ("/accessibility", "en")])
def test_the_statement_passes_axe_and_fits_a_phone_without_signing_in(
    browser: Any, live: LiveApp, path: str, language: str
) -> None:
    visitor = Visitor(browser, live, {})
    visitor.go(path)
    assert visitor.page.locator("html").get_attribute("lang") == language
    assert visitor.page.locator("#digg").get_attribute("href") == "https://www.digg.se/tdosanmalan"
    visitor.check(f"accessibility-statement-{language}")
    visitor.close()


def test_the_footer_leads_to_the_statement_and_the_tab_key_reaches_everything(
    browser: Any, live: LiveApp
) -> None:
    today = clock.now().date()
    quarter = (today.month - 1) // 3 + 1
    Chain(live.db).start_cycle(f"{today.year}-Q{quarter}", date(today.year, quarter * 3, 28))
    visitor = Visitor(browser, live, {})
    visitor.go("/login")
    visitor.page.get_by_role("contentinfo").get_by_role("link", name="Tillgänglighetsredogörelse").click()
    visitor.page.wait_for_url(live.url + "/tillganglighet")
    walked = {name: _tab_through(visitor, name) for name in ("statement",)}
    for path, name in (("/login", "login"), ("/", "plan")):
        visitor.go(path)
        walked[name] = _tab_through(visitor, name)
    visitor.login("anna.nilsson")
    visitor.go("/inbox")
    walked["inbox"] = _tab_through(visitor, "inbox")
    visitor.close()
    assert walked["inbox"] > walked["login"] > 3, walked
