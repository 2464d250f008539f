"""In a real browser, in Swedish and in English: every kind of task shows its case beside the form,
as workflows/README.md ("What each decision needs") says it must: what is judged, why it came
back and what was sent before. The chain is moved by the services between visits; each task page
is opened by the person whose turn it is, screenshotted, checked by axe-core and at 390 px."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from planflow import clock
from planflow.models import Activity, User
from planflow.services.authority import people
from planflow.services.chain import annual, proposals
from planflow.services.records.audit import Actor
from tests.browser.conftest import LiveApp
from tests.browser.test_journey import Visitor
from tests.services.chain import Chain

pytestmark = pytest.mark.browser

REPORTED = ("1.1.1", "1.1.2")  # the activities that report this period; the rest run in 2020 only
COMMENT = "Inga företagsbesök har kunnat bokas."
CAUSE = "Politikerna har inte haft tid under hösten."
REVIEW_RETURN = "Beskriv vad som görs nu för att boka besöken."
RECOMMENDATION = "Boka besöken till första kvartalet."
LEAD_RETURN = "Ange vem som ansvarar för bokningen."
SECOND_RECOMMENDATION = "Boka besöken till första kvartalet; processledaren ansvarar."
SUMMARY = "Två aktiviteter rapporterade; 1.1.1 är röd."
AREA_RETURN = "Nämn styrgruppens beslut om 1.1.1."
FEEDBACK = "Företagen önskar fler frukostmöten i Södertälje."
PROPOSAL_TITLE = "Företagslots för nyetablerade företag"
PROPOSAL_WHY = "Nya företag hittar inte rätt i kommunen."
PROPOSAL_RETURN = "Ange vad lotsen kostar."
ANNUAL_SUMMARY = "Planens läge i december: en röd aktivitet, beslutad av styrgruppen."


class Cases:
    """Opens a task as the person whose turn it is, in one language, and checks its case."""

    def __init__(self, browser: Any, live: LiveApp, language: str) -> None:
        self.browser, self.live, self.language = browser, live, language
        self.chain = Chain(live.db)
        self.checked: dict[str, list[str]] = {}
        self.seen: set[str] = set()

    def person(self, username: str) -> Visitor:
        visitor = Visitor(self.browser, self.live, self.checked)
        visitor.login(username)
        if self.language == "en" and visitor.page.locator("html").get_attribute("lang") != "en":
            visitor.page.get_by_role("button", name="English").click()  # kept on the account
            visitor.page.wait_for_load_state()
        return visitor

    def show(self, username: str, name: str, code: str | None, shows: list[str]) -> Visitor:
        """The task page of `username`'s `name` task (about `code`): it shows every text of `shows`."""
        task = self.chain.task(username, name, code)
        visitor = self.person(username)
        visitor.go(f"/tasks/{task.id}")
        assert visitor.page.locator("html").get_attribute("lang") == self.language
        text = visitor.page.locator("main").inner_text()
        missing = [s for s in shows if s not in text]
        assert not missing, f"{name} ({self.language}) does not show {missing}"
        suffix = f"-{len([s for s in self.seen if s.startswith(name)])}" if name in self.seen else ""
        self.seen.add(name + suffix)
        visitor.check(f"case-{name}{suffix}-{self.language}")
        return visitor

    def prefilled(self, visitor: Visitor, field: str, value: str) -> None:
        assert visitor.page.locator(f"#f-{field}").input_value() == value, f"{field} is not as sent"


def words(language: str, sv: str, en: str) -> str:
    return sv if language == "sv" else en


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_task_kind_shows_its_case(browser: Any, live: LiveApp, language: str) -> None:
    cases = Cases(browser, live, language)
    chain = cases.chain
    with live.db.transaction() as session:
        for activity in session.scalars(select(Activity).where(Activity.code.not_in(REPORTED))):
            activity.starts_on, activity.ends_on = date(2020, 1, 1), date(2020, 12, 31)
        names = {u.username: u.display_name for u in session.scalars(select(User))}
    today = clock.today()
    quarter = (today.month - 1) // 3 + 1
    period = f"{today.year}-Q{quarter}"
    chain.start_cycle(period, date(today.year, quarter * 3, 28))
    owner, second_owner = chain.owner_of("1.1.1"), chain.owner_of("1.1.2")

    # The owner's report, returned by the lead with a reason: back to the owner, marked, prefilled.
    chain.do(owner, "report_status", {"status": "red", "comment": COMMENT, "cause": CAUSE}, "1.1.1")
    cases.show("lead1", "review_report", "1.1.1", [COMMENT, CAUSE, words(language, "Röd", "Red")]).close()
    chain.do("lead1", "review_report", {"outcome": "return", "comment": REVIEW_RETURN}, "1.1.1")
    returned = cases.show(owner, "report_status", "1.1.1", [REVIEW_RETURN, names["lead1"]])
    cases.prefilled(returned, "comment", COMMENT)
    cases.prefilled(returned, "cause", CAUSE)
    returned.go("/inbox")
    row = returned.page.locator("main li, main tr").filter(has_text="1.1.1").first.inner_text()
    assert words(language, "Återsänd", "Returned") in row, row
    returned.close()
    chain.do(owner, "report_status", {"status": "red", "comment": COMMENT, "cause": CAUSE}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.1")
    chain.report_and_accept("1.1.2")
    assert second_owner != owner

    # The deviation: a recommendation, returned by the lead with a reason, then the chair's decision.
    cases.show("processledare", "draft_recommendation", "1.1.1", [CAUSE]).close()
    chain.do("processledare", "draft_recommendation", {"recommendation": RECOMMENDATION}, "1.1.1")
    cases.show("lead1", "agree_recommendation", "1.1.1", [RECOMMENDATION, CAUSE]).close()
    chain.do("lead1", "agree_recommendation", {"outcome": "return", "comment": LEAD_RETURN}, "1.1.1")
    cases.show("processledare", "draft_recommendation", "1.1.1", [LEAD_RETURN, names["lead1"]]).close()
    chain.do("processledare", "draft_recommendation", {"recommendation": SECOND_RECOMMENDATION}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    decision = [SECOND_RECOMMENDATION, CAUSE, LEAD_RETURN]
    cases.show("ordforande", "steering_decision", "1.1.1", decision).close()
    chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Godkänns."}, "1.1.1")

    # The areas: 2-5 report nothing and are confirmed; area 1's summary is returned once.
    for area in range(2, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area}: inget att rapportera."})
    for _ in range(2, 6):
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    cases.show("lead1", "area_summary", None, ["1.1.1", "1.1.2", COMMENT, CAUSE]).close()
    chain.do("lead1", "area_summary", {"summary": SUMMARY})
    cases.show("processledare", "confirm_area", None, [SUMMARY, "1.1.1", "1.1.2"]).close()
    chain.do("processledare", "confirm_area", {"outcome": "return", "comment": AREA_RETURN})
    again = cases.show("lead1", "area_summary", None, [AREA_RETURN, names["processledare"]])
    cases.prefilled(again, "summary", SUMMARY)
    again.close()
    chain.do("lead1", "area_summary", {"summary": SUMMARY + " Styrgruppen har beslutat."})
    chain.do("processledare", "confirm_area", {"outcome": "confirm"})

    # The business dialogue: the feedback given, by whom, beside the process leader's record.
    giver = cases.person("naringslivsradet")
    giver.go(f"/dialogue/{period}")
    giver.page.get_by_label(re.compile("Återkoppling|Feedback")).fill(FEEDBACK)
    giver.page.locator("main button[type=submit]").first.click()
    giver.page.wait_for_load_state()
    assert FEEDBACK in giver.page.locator("main").inner_text()
    giver.check(f"case-dialogue_feedback-{language}")
    giver.close()
    cases.show("processledare", "business_dialogue", None, [FEEDBACK, names["naringslivsradet"]]).close()
    chain.do(
        "processledare",
        "business_dialogue",
        {"forums": ["Näringslivsrådet"], "held_on": today.isoformat(), "heard": "Fler mötesplatser."},
    )
    cases.show("ordforande", "steering_meeting", None, ["1.1.1"]).close()
    chain.do("ordforande", "steering_meeting", {"notes": "Mötet hölls."})

    # A new activity: the proposal in full, for the process leader and the chair.
    with live.db.transaction() as session:
        data = {
            "title": PROPOSAL_TITLE,
            "intervention_area": "1.1",
            "owner": second_owner,
            "start": f"{today.year + 1}-01-01",
            "end": f"{today.year + 1}-12-31",
            "why": PROPOSAL_WHY,
        }
        proposals.propose_activity(session, people.get_user(session, "lead1"), data)
    proposal = [PROPOSAL_TITLE, PROPOSAL_WHY, names[second_owner]]
    cases.show("processledare", "check_proposal", None, proposal).close()
    chain.do("processledare", "check_proposal", {"outcome": "return", "comment": PROPOSAL_RETURN})
    back = cases.show("lead1", "propose_activity", None, [PROPOSAL_RETURN, names["processledare"]])
    cases.prefilled(back, "title", PROPOSAL_TITLE)
    back.close()
    chain.do("lead1", "propose_activity", data)
    chain.do("processledare", "check_proposal", {"outcome": "forward"})
    cases.show("ordforande", "decide_proposal", None, proposal).close()
    chain.do("ordforande", "decide_proposal", {"decision": "approve", "rationale": "Bra förslag."})

    # The annual report: the report itself beside each of its three tasks.
    with live.db.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), today.year)
    compiling = cases.show("processledare", "compile_annual_report", None, [str(today.year)])
    assert compiling.page.locator('main a[href*="/reports/annual"]').count() >= 1
    compiling.close()
    chain.do("processledare", "compile_annual_report", {"summary": ANNUAL_SUMMARY})
    cases.show("ordforande", "approve_annual_report", None, [ANNUAL_SUMMARY, names["processledare"]]).close()
    chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    board = cases.show("kommunstyrelsen", "board_note", None, [ANNUAL_SUMMARY, names["ordforande"]])
    assert board.page.locator('main a[href*="/reports/annual"]').count() >= 1
    assert board.page.locator('input[name="paragraph"]').count() == 1
    board.close()
    assert len(cases.checked) >= 18


def test_the_case_journey_covers_every_form() -> None:
    """Every form of workflows/forms is opened by the journey above (or, for the dialogue feedback,
    its page), so that a new task kind cannot go without its browser check."""
    from pathlib import Path

    source = Path(__file__).read_text(encoding="utf-8")
    forms = sorted(p.stem for p in (Path(__file__).parents[2] / "workflows" / "forms").glob("*.json"))
    shown = set(re.findall(r'cases\.show\([^,]+, "([a-z_]+)"', source)) | {"dialogue_feedback"}
    assert set(forms) <= shown, sorted(set(forms) - shown)
