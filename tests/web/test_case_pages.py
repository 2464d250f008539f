"""The task page shows the case beside the form (templates/inbox/case/): a returned task's reason
first, the form filled with what was sent, the inbox row marked returned by whom; each kind's
sections (an area's reports, a proposal in full, the annual report and its figures), in Swedish
and in English, plan text marked as Swedish."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import Activity, FocusArea
from planflow.services.authority import people
from planflow.services.chain import annual, cycles, proposals
from planflow.services.plan import plans
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

from ..services.chain import START, Chain, small_plan
from .conftest import post


def _chain(db: Database) -> Chain:
    clock.set_now(START)
    chain = Chain(db)
    chain.start_cycle()
    return chain


def _name(db: Database, username: str) -> str:
    with db.transaction() as session:
        return people.get_user(session, username).display_name


def _page(client: FlaskClient, chain: Chain, username: str, name: str, activity: str | None = None) -> str:
    task = chain.task(username, name, activity)
    response = client.get(f"/tasks/{task.id}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def _h1(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert match
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_a_returned_report_shows_the_reason_first_and_the_form_filled(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    sent = {"status": "red", "comment": "Stoppad.", "cause": "Ingen budget."}
    chain.do("anna.nilsson", "report_status", sent, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange när budgeten kommer."}, "1.1.1")
    owner = signed_in("anna.nilsson")
    lead = _name(web, "lead1")

    inbox = unescape(owner.get("/inbox").get_data(as_text=True))
    listed = inbox[inbox.index('<ul class="tasks">') :]  # the task's row, not the notice above
    row = listed[listed.index("1.1.1") :]
    assert f"Återsänd av {lead}" in row[: row.index("</li>")]

    page = _page(owner, chain, "anna.nilsson", "report_status", "1.1.1")
    banner = page.index('id="returned-h"')
    assert f"Återsänd av {lead} den" in page[banner : banner + 200]
    assert banner < page.index("Ange när budgeten kommer.") < page.index('id="form-h"')
    assert re.search(r'<input type="radio" name="status" value="red" checked', page)
    assert ">Ingen budget.</textarea>" in page and "Stoppad." in page


def test_a_saved_draft_wins_over_what_was_sent(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    chain.do("anna.nilsson", "report_status", {"status": "green", "comment": "Först."}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Mer."}, "1.1.1")
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    owner = signed_in("anna.nilsson")
    assert "Först." in _page(owner, chain, "anna.nilsson", "report_status", "1.1.1")
    with web.transaction() as session:
        from planflow.services.chain import tasks

        tasks.save_draft(session, people.get_user(session, "anna.nilsson"), task.id, {"comment": "Utkast."})
    page = _page(owner, chain, "anna.nilsson", "report_status", "1.1.1")
    assert "Utkast." in page and ">Först.<" not in page


def _report_area_two(chain: Chain) -> list[str]:
    with chain.db.transaction() as session:
        codes = [
            c for c in session.scalars(select(Activity.code).order_by(Activity.id)) if c.startswith("2.")
        ]
    chain.report_and_accept(codes[0], "red", cause="Lokalen saknas.")
    for code in codes[1:]:
        chain.report_and_accept(code)
    return codes


def _area_title(db: Database, number: int) -> str:
    with db.transaction() as session:
        return session.scalars(select(FocusArea.title).where(FocusArea.number == number)).first() or ""


def test_an_area_summary_names_its_area_lists_its_reports_and_comes_back_with_its_reason(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    codes = _report_area_two(chain)
    title = _area_title(web, 2)
    lead = signed_in("lead2")
    page = _page(lead, chain, "lead2", "area_summary")
    assert _h1(page) == f"Sammanfatta fokusområdet: 2 {title}"
    table = page[page.index('class="case-reports"') : page.index("</table>")]
    assert table.count('<th scope="row">') == len(codes) and '<th scope="col"' in table
    assert "Lokalen saknas." in table and "Röd" in table  # the colour is said in words too
    assert 'id="returned-h"' not in page

    chain.do("lead2", "area_summary", {"summary": "Allt enligt plan utom lokalen."})
    confirm = _page(signed_in("processledare"), chain, "processledare", "confirm_area")
    assert "Allt enligt plan utom lokalen." in confirm and "Lokalen saknas." in confirm
    chain.do("processledare", "confirm_area", {"outcome": "return", "comment": "Vilken lokal?"})

    inbox = unescape(lead.get("/inbox").get_data(as_text=True))
    assert f"Återsänd av {_name(web, 'processledare')}" in inbox
    page = _page(lead, chain, "lead2", "area_summary")
    assert page.index('id="returned-h"') < page.index("Vilken lokal?") < page.index('id="form-h"')
    assert ">Allt enligt plan utom lokalen.</textarea>" in page


def test_a_proposal_is_shown_in_full_to_the_process_leader(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    proposal = {
        "title": "Lokalguide för nyetablerade företag",
        "intervention_area": "3.4",
        "owner": "johan.ek",
        "start": "2027-01-01",
        "end": "2027-12-31",
        "why": "Efterfrågat i Näringslivsrådet.",
    }
    with web.transaction() as session:
        proposals.propose_activity(session, people.get_user(session, "lead3"), proposal)
    page = _page(signed_in("processledare"), chain, "processledare", "check_proposal")
    assert _h1(page) == f"Granska förslaget: 3.4 {proposal['title']}"
    for shown in (proposal["why"], _name(web, "johan.ek"), _name(web, "lead3"), "1 januari 2027"):
        assert shown in page, shown
    assert 'href="/proposals"' in page


def test_the_annual_report_tasks_link_to_the_report_and_show_its_figures(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
    with web.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    chain.do("processledare", "compile_annual_report", {"summary": "Planen följs."})
    page = _page(signed_in("ordforande"), chain, "ordforande", "approve_annual_report")
    assert 'href="/reports/annual/2026"' in page and "Planen följs." in page
    figures = page[
        page.index('class="case-figures"') : page.index("</table>", page.index('class="case-figures"'))
    ]
    assert re.search(r"Aktiviteter</th><td>60<", figures)
    assert _name(web, "processledare") in page


def test_an_english_case_page_marks_the_plans_swedish_text(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    _report_area_two(chain)
    title = _area_title(web, 2)
    lead = signed_in("lead2")
    post(lead, "/language", {"language": "en"})
    page = _page(lead, chain, "lead2", "area_summary")
    assert _h1(page) == f"Summarise the focus area: 2 {title}"
    assert f'<span lang="sv">{title}</span>' in page
    assert "The period's reports" in page
    assert "Comment and cause" in page and "Red" in page and "Röd" not in page


def test_a_recommendation_returned_by_the_lead_comes_back_with_the_leads_reason(
    web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = _chain(web)
    chain.report_and_accept("1.1.1", "red", cause="Ingen budget.")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp."}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "return", "comment": "Saknar tidplan."}, "1.1.1")
    page = _page(signed_in("processledare"), chain, "processledare", "draft_recommendation", "1.1.1")
    banner = page.index('id="returned-h"')
    assert f"Återsänd av {_name(web, 'lead1')} den" in page[banner : banner + 200]
    assert banner < page.index("Saknar tidplan.") < page.index('id="form-h"')
    assert ">Skjut upp.</textarea>" in page
    case = page[page.index('id="case-deviation-h"') :]
    assert "Ingen budget." in case and "Ställ dig bakom rekommendationen" in case  # the step that returned it


def test_the_dialogue_and_the_meeting_show_the_feedback_and_the_queue(
    web: Database, signed_in: Callable[[str], FlaskClient], tmp_path: Path
) -> None:
    clock.set_now(START)
    chain = Chain(web)
    with web.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, small_plan(tmp_path))
        people.grant_role(
            session,
            OPERATOR_ACTOR,
            people.get_user(session, "lead1"),
            people.RoleSpec.parse("focus_area_lead:liten/1"),
        )
        leader = Actor(people.get_user(session, "processledare"))
        cycle = cycles.start_cycle(session, leader, "2026-Q4", date(2026, 12, 15), plan_slug="liten")
    cycles.open_all(web.transaction, cycle.id)
    chain.do("lead1", "area_summary", {"summary": "Inget att rapportera."})
    chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    with web.transaction() as session:
        cycles.give_dialogue_feedback(
            session,
            people.get_user(session, "naringslivsradet"),
            "2026-Q4",
            {"feedback": "Fler besök."},
            "liten",
        )
    leader_client = signed_in("processledare")
    page = _page(leader_client, chain, "processledare", "business_dialogue")
    assert _h1(page) == "Dialog med näringslivet: 2026-Q4"
    assert "Fler besök." in page and _name(web, "naringslivsradet") in page
    chain.do(
        "processledare", "business_dialogue", {"forums": ["Rådet"], "held_on": "2026-11-20", "heard": "-"}
    )
    meeting = _page(signed_in("ordforande"), chain, "ordforande", "steering_meeting")
    assert 'id="case-meeting-h"' in meeting and "Inga avvikelser väntar på beslut" in meeting
