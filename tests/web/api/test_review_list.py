"""The lead's review list (issue 18, item 9): each review's row shows the report's colour in words
and the start of its comment, rows in code order within their group; green reports are accepted
several at once after one confirmation, each its own completion and audit event; a role one person
holds works from "mine", not from a group's queue; a task done already says by whom, and a second
submit keeps what was typed."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import Activity, AuditEvent, FocusArea, InterventionArea, ReviewOutcome, StatusReport
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.services.chain import Chain

from ..conftest import csrf_token, post
from .conftest import Api

LONG = (
    "Arbetet går enligt plan och samarbetet med företagen i Södertälje har fördjupats under hösten, "
    "med tre nya avtal."
)


def _mine(html: str) -> str:
    body = html[html.index("<main") : html.index("</main>")]
    return body.partition('<section aria-labelledby="queue-h">')[0]


def _reported(chain: Chain) -> dict[str, str]:
    """Four reports of area 1 handed in, in an order unlike their codes; their review task ids."""
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "green", "comment": LONG}, "1.1.3")
    chain.do("erik.berg", "report_status", {"status": "green", "comment": "Klart i tid."}, "1.1.2")
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    chain.do("erik.berg", "report_status", {"status": "yellow", "cause": "Försenad leverans."}, "1.1.4")
    return {
        code: chain.task("lead1", "review_report", code).id for code in ("1.1.1", "1.1.2", "1.1.3", "1.1.4")
    }


def test_a_review_row_shows_the_colour_in_words_and_the_comments_start_in_code_order(
    signed_in: Callable[[str], FlaskClient], web: Database, api: Api
) -> None:
    chain = Chain(web)
    ids = _reported(chain)
    html = signed_in("lead1").get("/inbox").get_data(as_text=True)
    rows = re.findall(r'<li class="task[^"]*">(.*?)</li>', _mine(html), re.S)
    codes = [re.search(r"Granska rapport: (\S+)", row).group(1) for row in rows]  # type: ignore[union-attr]
    assert codes == ["1.1.1", "1.1.2", "1.1.3", "1.1.4"]  # by code, not in the order they came
    by_code = dict(zip(codes, rows, strict=True))
    assert "light green" in by_code["1.1.2"] and "Grön" in by_code["1.1.2"]  # words, not colour alone
    assert "Gul" in by_code["1.1.4"] and "Grön" not in by_code["1.1.4"]
    assert "<q>Klart i tid.</q>" in by_code["1.1.2"]
    start = re.search(r"<q>(.*?)</q>", by_code["1.1.3"]).group(1)  # type: ignore[union-attr]
    assert start.endswith("…") and LONG.startswith(start[:-1]) and len(start) <= 81
    assert "<q>" not in by_code["1.1.1"]  # no comment, none shown
    # The API says the same of each row; its order (soonest due first) is the page's on request.
    listed = api("GET", "/inbox", "lead1").json["items"]
    due = signed_in("lead1").get("/inbox?order=due").get_data(as_text=True)
    assert re.findall(r"Granska rapport: (\S+)", _mine(due)) == [t["activity_code"] for t in listed]
    items = {t["id"]: t for t in listed}
    assert items[ids["1.1.2"]]["reported_status"] == "green"
    assert items[ids["1.1.2"]]["report_comment"] == "Klart i tid."
    assert items[ids["1.1.3"]]["report_comment"] == start
    assert items[ids["1.1.4"]]["reported_status"] == "yellow"
    assert items[ids["1.1.1"]]["report_comment"] is None
    owner_items = api("GET", "/inbox", "anna.nilsson").json["items"]
    assert all(t["reported_status"] is None for t in owner_items)  # only a review has a report to show


def test_green_reports_are_accepted_together_after_one_confirmation_each_its_own_act(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    ids = _reported(chain)
    client = signed_in("lead1")
    inbox = client.get("/inbox").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="task" value="([^"]+)" form="accept-green">', inbox)
    assert sorted(boxes) == sorted(ids[c] for c in ("1.1.1", "1.1.2", "1.1.3"))  # the green ones only
    assert 'id="accept-green"' in inbox and "Godkänn markerade" in inbox
    # The confirmation lists what will be accepted and what will not (the yellow one, asked for by
    # hand), and changes nothing.
    picked = "&".join(f"task={ids[c]}" for c in ("1.1.4", "1.1.3", "1.1.1", "1.1.2"))
    confirm = client.get(f"/reviews/accept?{picked}")
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    listed = page[page.index('id="to-accept"') : page.index("</ul>", page.index('id="to-accept"'))]
    assert re.findall(r"(1\.1\.\d) ", listed) == ["1.1.1", "1.1.2", "1.1.3"]
    refused = page[page.index('id="not-accepted"') :]
    assert "1.1.4" in refused and "Gul" in refused
    assert "Godkänn 3 rapporter" in page
    with web.transaction() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "status.accepted")) is None
    # Confirmed (the yellow one sent along, as a page forged or out of date would): three accepted,
    # each its own task completion and audit event; the yellow one refused by name and left alone.
    token = csrf_token(client, "/inbox")
    done = client.post(
        "/reviews/accept",
        data={"task": [ids[c] for c in ("1.1.4", "1.1.3", "1.1.1", "1.1.2")], "csrf_token": token},
    )
    assert done.status_code == 302
    after = client.get("/inbox").get_data(as_text=True)
    assert "Godkända (3): 1.1.1, 1.1.2, 1.1.3." in after
    assert "Inte godkänd: 1.1.4." in after and "Gul" in after
    with web.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "status.accepted")).all()
        assert sorted(e.subject_id for e in events) == ["1.1.1", "1.1.2", "1.1.3"]
        assert {e.actor for e in events} == {"lead1"}
        assert len({e.seq for e in events}) == 3
        reviews = dict(
            session.execute(
                select(Activity.code, StatusReport.review).join(
                    Activity, Activity.id == StatusReport.activity_id
                )
            ).all()
        )
        assert reviews == {
            "1.1.1": ReviewOutcome.ACCEPTED,
            "1.1.2": ReviewOutcome.ACCEPTED,
            "1.1.3": ReviewOutcome.ACCEPTED,
            "1.1.4": ReviewOutcome.PENDING,
        }
    assert [t.activity_code for t in chain.inbox("lead1")] == ["1.1.4"]
    # A second act over the same tasks accepts nothing twice and says who did them.
    again = client.post("/reviews/accept", data={"task": [ids["1.1.1"]], "csrf_token": token})
    assert again.status_code == 302
    said = client.get("/inbox").get_data(as_text=True)
    assert "Inte godkänd: 1.1.1." in said and "redan gjord av Fokusområdesansvarig 1" in said


def test_the_confirmation_refuses_what_is_not_the_readers_to_accept(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    ids = _reported(chain)
    page = signed_in("lead2").get(f"/reviews/accept?task={ids['1.1.1']}").get_data(as_text=True)
    assert 'id="to-accept"' not in page and "1.1.1" in page[page.index('id="not-accepted"') :]
    assert signed_in("lead1").get("/reviews/accept?task=not-a-task").status_code == 400
    too_many = "&".join(f"task=00000000-0000-4000-8000-{n:012d}" for n in range(101))
    assert signed_in("lead1").get(f"/reviews/accept?{too_many}").status_code == 400


def test_a_role_one_person_holds_works_from_mine_without_a_claim(
    signed_in: Callable[[str], FlaskClient], web: Database, api: Api
) -> None:
    chain = Chain(web)
    ids = _reported(chain)
    html = signed_in("lead1").get("/inbox").get_data(as_text=True)
    assert "Gruppens kö" not in html and "Ta uppgiften" not in html
    assert all(task_id in _mine(html) for task_id in ids.values())
    assert all(not t["shared"] for t in api("GET", "/inbox", "lead1").json["items"])
    # A second lead of the area makes the reviews the two leads' queue, to be claimed.
    with web.transaction() as session:
        people.add_user(session, OPERATOR_ACTOR, "lead1b", "Andra ansvarig 1", "lead1b@example.org")
        spec = people.RoleSpec.parse("focus_area_lead:1")
        people.grant_role(session, OPERATOR_ACTOR, people.get_user(session, "lead1b"), spec)
    html = signed_in("lead1").get("/inbox").get_data(as_text=True)
    assert "Gruppens kö" in html and "Ta uppgiften" in html
    assert all(task_id not in _mine(html) for task_id in ids.values())
    assert all(t["shared"] for t in api("GET", "/inbox", "lead1").json["items"])


def _second_submit(client: FlaskClient, task_id: str, data: dict[str, str]) -> str:
    answer = post(client, f"/tasks/{task_id}", data, "/inbox")
    assert answer.status_code == 409, answer.status_code
    return answer.get_data(as_text=True)


def test_a_second_submit_of_any_task_says_who_did_it_and_keeps_what_was_typed(
    signed_in: Callable[[str], FlaskClient], web: Database, api: Api
) -> None:
    chain = Chain(web)
    chain.start_cycle()
    # A lead's review: it left no record naming its task, and answered "Sidan finns inte".
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    review = chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.1")
    html = _second_submit(
        signed_in("lead1"), review, {"outcome": "return", "comment": "Komplettera med siffror."}
    )
    assert "Uppgiften är redan gjord av Fokusområdesansvarig 1 (demo) den" in html
    assert "Komplettera med siffror." in html and "Återsänd för komplettering" in html
    shown = signed_in("lead1").get(f"/tasks/{review}")
    assert shown.status_code == 200 and "redan gjord av Fokusområdesansvarig 1" in shown.get_data(
        as_text=True
    )
    problem = api("POST", f"/tasks/{review}/complete", "lead1", {"data": {"outcome": "accept"}})
    assert problem.status_code == 409 and "Fokusområdesansvarig 1" in problem.json["detail"]
    assert problem.json["code"] == "error.task.done_by"

    # The area's summary, once every report of area 5 is accepted.
    with web.transaction() as session:
        codes = session.scalars(
            select(Activity.code)
            .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
            .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
            .where(FocusArea.number == 5)
        ).all()
    for code in codes:
        chain.report_and_accept(code)
    summary = chain.do("lead5", "area_summary", {"summary": "Området följer planen."})
    html = _second_submit(
        signed_in("lead5"), summary, {"summary": "Min andra sammanfattning, rad ett.\nRad två."}
    )
    assert "Uppgiften är redan gjord av Fokusområdesansvarig 5" in html
    assert "Min andra sammanfattning, rad ett.\nRad två." in html

    # A deviation's recommendation, and the steering group's decision.
    chain.report_and_accept("2.1.1", "yellow", cause="Försenad.")
    recommendation = chain.do("processledare", "draft_recommendation", {"recommendation": "Ny tidplan."})
    html = _second_submit(
        signed_in("processledare"), recommendation, {"recommendation": "Min text om tidplanen."}
    )
    assert "Uppgiften är redan gjord av Processledaren" in html and "Min text om tidplanen." in html
    chain.do("lead2", "agree_recommendation", {"outcome": "agree"})
    decision = chain.do("ordforande", "steering_decision", {"decision": "approve", "rationale": "Rimligt."})
    html = _second_submit(
        signed_in("ordforande"),
        decision,
        {"decision": "close", "rationale": "Mitt skäl, som jag vill spara."},
    )
    assert "Uppgiften är redan gjord av Styrgruppens ordförande" in html
    assert "Mitt skäl, som jag vill spara." in html


def test_the_api_accepts_green_reports_together_and_names_what_it_refused(web: Database, api: Api) -> None:
    chain = Chain(web)
    ids = _reported(chain)
    answer = api("POST", "/reviews/accept", "lead1", {"tasks": [ids["1.1.4"], ids["1.1.2"], ids["1.1.1"]]})
    assert answer.status_code == 200
    assert [a["activity_code"] for a in answer.json["accepted"]] == ["1.1.1", "1.1.2"]
    (refused,) = answer.json["refused"]
    assert (refused["id"], refused["activity_code"], refused["code"]) == (
        ids["1.1.4"],
        "1.1.4",
        "error.review.not_green",
    )
    with web.transaction() as session:
        accepted = session.scalars(
            select(AuditEvent.subject_id).where(AuditEvent.action == "status.accepted")
        )
        assert sorted(accepted) == ["1.1.1", "1.1.2"]
    # Someone else's review is refused by the same service, and nothing of it changes.
    other = api("POST", "/reviews/accept", "lead2", {"tasks": [ids["1.1.3"]]})
    assert other.json["accepted"] == [] and other.json["refused"][0]["code"] == "error.access.task"
    too_many = [f"00000000-0000-4000-8000-{n:012d}" for n in range(101)]
    assert api("POST", "/reviews/accept", "lead1", {"tasks": too_many}).status_code == 400
    assert api("POST", "/reviews/accept", "lead1", {"tasks": ["nope"]}).status_code == 400
