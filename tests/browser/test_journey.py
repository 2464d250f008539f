"""In a real browser: every role carries a red activity from report to decision, and the board
takes note of the annual report; English and back; one whole task by keyboard alone. Every page
visited is screenshotted (tests/browser/artifacts/), checked by axe-core for WCAG 2.1 A/AA
violations of any impact, and checked at 390 px wide for sideways scrolling."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from planflow import clock
from planflow.models import ProcessInstance
from planflow.services.authority import people
from planflow.services.chain import annual
from planflow.services.records.audit import Actor
from tests.browser.conftest import ARTIFACTS, CHROMIUM_MAJOR, LiveApp
from tests.services.chain import Chain
from tests.web.conftest import password_of

pytestmark = pytest.mark.browser
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Pairs of visible text fragments whose boxes overlap (more than 2 px each way): each text node's
# line boxes, compared with those of every other text node.
OVERLAPS = """() => {
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const style = getComputedStyle(node.parentElement);
    const hidden = style.visibility === "hidden" || style.display === "none";
    if (hidden || node.parentElement.closest(".sr-only")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width > 1 && r.height > 1) boxes.push([r, node]);
    }
  }
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, na] = boxes[i], [b, nb] = boxes[j];
      if (na === nb) continue;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      const text = (n) => n.textContent.trim().slice(0, 40);
      if (w > 2 && h > 2) found.push(text(na) + " / " + text(nb));
    }
  }
  return found.slice(0, 10);
}"""


# The elements reaching past the window's right edge, deepest first (what makes a page scroll).
WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5).map((e) => e.tagName + "." + e.className + ": " + (e.textContent || "").trim().slice(0, 60))"""


class Visitor:
    """One person in a browser context, checking every page it sees."""

    def __init__(self, browser: Any, live: LiveApp, checked: dict[str, list[str]]) -> None:
        self.live, self.checked = live, checked
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def go(self, path: str) -> None:
        self.page.goto(self.live.url + path)

    def check(self, name: str) -> None:
        """Screenshot, axe-core and the 390 px check of the page now shown."""
        from axe_playwright_python.sync_playwright import Axe

        page = self.page
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        bad = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result.response["violations"]]
        assert bad == [], f"{name}: {bad}"
        size = page.viewport_size
        page.set_viewport_size({"width": 390, "height": 844})
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:  # name what sticks out, for the failure below
            widths.append(page.evaluate(WIDEST))
        overlaps = page.evaluate(OVERLAPS)
        page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
        page.set_viewport_size(size)
        assert widths[0] <= widths[1], f"{name} scrolls sideways at 390 px: {widths}"
        assert overlaps == [], f"{name} has overlapping text at 390 px: {overlaps}"
        assert not [e for e in self.errors if "Content Security Policy" in e], self.errors
        self.checked.setdefault(name, []).append(page.url)

    def login(self, username: str) -> None:
        self.go("/login")
        self.check(f"login-{username}") if username == "anna.nilsson" else None
        self.page.fill("#username", username)
        self.page.fill("#password", password_of(username))
        self.page.click("button[type=submit].primary")
        self.page.wait_for_url(re.compile(r"/(inbox|dialogue)$"))  # where the person's work is

    def open_task(self, title: str, code: str | None = None) -> None:
        self.go("/inbox")
        label = f"{title}: {code}" if code else title
        self.page.get_by_role("link", name=re.compile(re.escape(label))).first.click()
        self.page.wait_for_url(re.compile(r"/tasks/"))

    def submit(self) -> None:
        self.page.get_by_role("button", name=re.compile("Skicka|Submit")).click()
        self.page.wait_for_url(re.compile(r"/inbox$"))
        assert "Klart:" in self.page.content() or "Done:" in self.page.content()

    def close(self) -> None:
        self.context.close()


def test_the_browser_is_debians_chromium_matching_playwright(browser: Any) -> None:
    assert int(browser.version.split(".")[0]) == CHROMIUM_MAJOR


def test_a_red_activity_from_report_to_decision_and_the_boards_note(browser: Any, live: LiveApp) -> None:
    chain = Chain(live.db)
    today = clock.now().date()
    quarter = (today.month - 1) // 3 + 1
    chain.start_cycle(f"{today.year}-Q{quarter}", date(today.year, quarter * 3, 28))
    checked: dict[str, list[str]] = {}

    owner = Visitor(browser, live, checked)
    owner.login("anna.nilsson")
    owner.check("inbox-owner")
    owner.open_task("Rapportera status", "1.1.1")
    owner.page.get_by_label("Röd").check()
    assert owner.page.locator("#f-cause").is_visible()  # the cause shows when it applies
    owner.page.fill("#f-comment", "Inga företagsbesök har kunnat bokas.")
    owner.page.get_by_role("button", name="Skicka").click()  # no cause: an error beside the field
    assert owner.page.locator("#e-cause").is_visible()
    assert owner.page.locator("#f-comment").input_value() == "Inga företagsbesök har kunnat bokas."
    owner.check("task-report-errors")
    owner.page.fill("#f-cause", "Politikerna har inte haft tid under hösten.")
    owner.submit()

    # English and back, remembered on the account.
    owner.page.get_by_role("button", name="English").click()
    owner.page.wait_for_load_state()
    assert owner.page.locator("html").get_attribute("lang") == "en"
    assert "Inbox" in owner.page.content()
    owner.check("inbox-owner-en")
    owner.page.get_by_role("button", name="Svenska").click()
    owner.page.wait_for_load_state()
    assert owner.page.locator("html").get_attribute("lang") == "sv"

    # Keyboard alone: the owner reports 1.1.3 green without touching the mouse.
    owner.go("/inbox")
    task_link = owner.page.get_by_role("link", name=re.compile(r"Rapportera status: 1\.1\.3 "))
    href = task_link.get_attribute("href")
    _tab_to(owner.page, f'a[href="{href}"]')
    owner.page.keyboard.press("Enter")
    owner.page.wait_for_url(re.compile(r"/tasks/"))
    _tab_to(owner.page, 'input[name="status"]')
    owner.page.keyboard.press("Space")  # the first radio: green
    assert owner.page.locator('input[value="green"]').is_checked()
    _tab_to(owner.page, "#f-comment")
    owner.page.keyboard.type("Enligt plan.")
    _tab_to(owner.page, "button.primary")
    owner.page.keyboard.press("Enter")
    owner.page.wait_for_url(re.compile(r"/inbox$"))
    assert "Klart: Rapportera status." in owner.page.content()
    owner.close()

    lead = Visitor(browser, live, checked)
    lead.login("lead1")
    lead.check("inbox-lead")
    lead.open_task("Granska rapport", "1.1.1")
    lead.check("task-review")
    lead.page.get_by_label("Godkänn rapporten").check()
    lead.submit()
    lead.close()

    leader = Visitor(browser, live, checked)
    leader.login("processledare")
    leader.open_task("Ta fram rekommendation till åtgärd", "1.1.1")
    leader.check("task-recommendation")
    leader.page.fill("#f-recommendation", "Boka besöken till första kvartalet; processledaren samordnar.")
    leader.submit()
    for path, name in (
        ("/", "plan"),
        ("/cycles", "cycles"),
        ("/audit", "audit"),
        ("/audit?verify=1", "audit-verified"),
    ):
        leader.go(path)
        leader.check(name)
    leader.go(f"/cycles/{chain_period(live)}")
    leader.check("cycle")
    leader.close()

    lead = Visitor(browser, live, checked)
    lead.login("lead1")
    lead.open_task("Ställ dig bakom rekommendationen", "1.1.1")
    lead.page.get_by_label("Jag står bakom rekommendationen").check()
    lead.submit()
    lead.close()

    chair = Visitor(browser, live, checked)
    chair.login("ordforande")
    chair.go("/steering")
    chair.check("steering-chair")
    chair.page.get_by_role("link", name=re.compile("Registrera styrgruppens beslut")).first.click()
    chair.page.wait_for_url(re.compile(r"/tasks/"))
    chair.check("task-decision")
    chair.page.get_by_label(re.compile("Godkänn")).first.check()
    chair.page.fill("#f-rationale", "Styrgruppen godkänner rekommendationen.")
    chair.submit()
    chair.close()

    member = Visitor(browser, live, checked)
    member.login("styrgrupp.nk")
    member.go("/activities/1.1.1")
    assert "Styrgruppen godkänner rekommendationen." in member.page.content()
    member.check("activity")
    member.page.get_by_role("link", name="Visa processen").first.click()
    member.page.wait_for_url(re.compile(r"/processes/"))
    member.check("process")
    member.close()

    # The annual report: the process leader compiles, the chair approves, the board takes note.
    with live.db.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), today.year)
    leader = Visitor(browser, live, checked)
    leader.login("processledare")
    leader.open_task("Sammanställ årsrapport")
    leader.page.fill("#f-summary", "Planens läge: en röd aktivitet beslutad av styrgruppen.")
    leader.submit()
    leader.close()
    chair = Visitor(browser, live, checked)
    chair.login("ordforande")
    chair.open_task("Godkänn årsrapporten")
    chair.page.locator('input[name="outcome"][value="approve"]').check()
    chair.submit()
    chair.close()
    board = Visitor(browser, live, checked)
    board.login("kommunstyrelsen")
    board.open_task("Kommunstyrelsen tar del av rapporten")
    board.check("task-board-note")
    board.page.locator("#f-noted").check()
    board.page.fill("#f-decided_on", today.isoformat())
    board.page.fill("#f-paragraph", "§ 201")
    board.submit()
    board.check("inbox-board-empty")
    board.go("/no/such/page")
    board.check("error-404")
    board.go("/admin")
    board.check("error-403")
    board.close()

    admin = Visitor(browser, live, checked)
    admin.login("admin")
    admin.go("/admin")
    admin.check("admin")
    # Every kind of process the chain ran, drawn in both languages.
    with live.db.transaction() as session:
        first_of_each = session.execute(
            select(ProcessInstance.process_id, func.min(ProcessInstance.id)).group_by(
                ProcessInstance.process_id
            )
        ).all()
    assert len(first_of_each) >= 4
    for language, button in (("sv", None), ("en", "English")):
        if button:
            admin.page.get_by_role("button", name=button).click()
        for process_id, instance_id in sorted(first_of_each):
            admin.go(f"/processes/{instance_id}")
            admin.check(f"process-{process_id}-{language}")
    admin.page.get_by_role("button", name="Svenska").click()
    admin.close()
    with live.db.transaction() as session:
        done = session.scalars(
            select(ProcessInstance.process_id).where(ProcessInstance.status == "completed")
        ).all()
    assert "annual_report" in done and "deviation" in done
    assert len(checked) >= 20


def chain_period(live: LiveApp) -> str:
    from planflow.models import ReportingCycle

    with live.db.transaction() as session:
        return session.scalars(select(ReportingCycle.period)).one()


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
