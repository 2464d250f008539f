"""Proposing a new activity from a page: a lead chooses among its own intervention areas, a refusal
is said beside the field with everything typed kept, others get the 403 page, and the proposal
shows in the list with where it stands and its process."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import ActivityProposal
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.services.chain import Chain
from tests.web.conftest import login, password_of, post

PROPOSAL = {
    "title": "Företagslotsen på lördagar",
    "intervention_area": "1.2",
    "owner": "erik.berg",
    "start": "2027-01-01",
    "end": "2027-12-31",
    "why": "Efterfrågat i Frukostklubben.",
}


def _proposals(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(ActivityProposal)) or 0


def test_the_lead_chooses_among_its_own_areas_and_the_proposal_goes_to_the_process_leader(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("lead1")
    assert 'href="/proposals"' in client.get("/inbox").get_data(as_text=True)
    page = client.get("/proposals/new").get_data(as_text=True)
    assert '<select id="f-intervention_area" name="intervention_area" required' in page
    areas = re.findall(r'<option value="(\d+\.\d+)"', page)
    assert areas and all(code.startswith("1.") for code in areas)
    assert 'Aktivitetsansvarig <span class="req">(obligatoriskt)</span>' in page
    chosen = client.get("/proposals/new?area=1.3").get_data(as_text=True)  # from a link about one area
    assert '<option value="1.3" selected>' in chosen

    answer = post(client, "/proposals/new", PROPOSAL, "/proposals/new")
    assert answer.status_code == 302 and answer.headers["Location"] == "/proposals"
    listing = client.get("/proposals").get_data(as_text=True)
    assert "Förslaget ”Företagslotsen på lördagar” är skickat till processledaren." in listing
    assert "Företagslotsen på lördagar" in listing and "hos processledaren" in listing
    assert re.search(r'href="/processes/\d+"', listing)
    assert [t.name for t in Chain(web).inbox("processledare")] == ["check_proposal"]


def test_a_returned_proposal_links_the_lead_to_its_task(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("lead1")
    post(client, "/proposals/new", PROPOSAL, "/proposals/new")
    chain = Chain(web)
    chain.do("processledare", "check_proposal", {"outcome": "return", "comment": "Vem betalar?"})
    task = chain.task("lead1", "propose_activity")
    listing = client.get("/proposals").get_data(as_text=True)
    assert f'href="/tasks/{task.id}"' in listing and "utkast" in listing
    assert f'href="/tasks/{task.id}"' not in signed_in("lead2").get("/proposals").get_data(as_text=True)


def test_a_refusal_is_said_beside_the_field_and_nothing_typed_is_lost(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("lead1")
    answer = post(client, "/proposals/new", {**PROPOSAL, "owner": "ingen.alls"}, "/proposals/new")
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'id="error-summary"' in html and 'href="#f-owner"' in html and 'id="e-owner"' in html
    assert '<option value="ingen.alls"' not in html  # not someone to pick: the list asks again
    assert 'value="Företagslotsen på lördagar"' in html
    assert "Efterfrågat i Frukostklubben.</textarea>" in html
    assert '<option value="1.2" selected>' in html

    missing = post(client, "/proposals/new", {**PROPOSAL, "title": ""}, "/proposals/new")
    assert missing.status_code == 400
    assert 'id="e-title"' in missing.get_data(as_text=True)
    assert '<option value="erik.berg" selected>' in missing.get_data(as_text=True)
    assert _proposals(web) == 0


def test_an_area_outside_the_leads_own_is_refused_beside_the_area(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    answer = post(
        signed_in("lead1"), "/proposals/new", {**PROPOSAL, "intervention_area": "3.4"}, "/proposals/new"
    )
    assert answer.status_code == 403
    html = answer.get_data(as_text=True)
    assert 'id="e-intervention_area"' in html and "föreslå aktiviteter i detta fokusområde" in html
    assert 'value="Företagslotsen på lördagar"' in html
    assert _proposals(web) == 0


def test_a_working_group_member_may_propose_in_its_area(app: Flask, web: Database) -> None:
    with web.transaction() as session:
        people.add_user(
            session,
            OPERATOR_ACTOR,
            "grupp2",
            "Arbetsgruppen 2",
            "grupp2@example.invalid",
            [people.RoleSpec.parse("working_group:2")],
            password=password_of("grupp2"),
        )
    client = app.test_client()
    assert login(client, "grupp2").status_code == 302
    assert 'href="/proposals"' in client.get("/inbox").get_data(as_text=True)
    areas = re.findall(r'<option value="(\d+\.\d+)"', client.get("/proposals/new").get_data(as_text=True))
    assert areas and all(code.startswith("2.") for code in areas)
    answer = post(client, "/proposals/new", {**PROPOSAL, "intervention_area": "2.1"}, "/proposals/new")
    assert answer.status_code == 302 and _proposals(web) == 1


def test_without_the_right_the_403_page_and_no_menu_item(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    owner = signed_in("anna.nilsson")
    assert 'href="/proposals"' not in owner.get("/inbox").get_data(as_text=True)
    for answer in (owner.get("/proposals/new"), post(owner, "/proposals/new", PROPOSAL)):
        assert answer.status_code == 403 and "Du har inte behörighet" in answer.get_data(as_text=True)
    assert owner.get("/proposals").status_code == 200  # municipal staff read the list
    leader = signed_in("processledare").get("/proposals").get_data(as_text=True)
    assert "Föreslå en ny aktivitet" not in leader
    dialogue = signed_in("naringslivsradet")
    assert dialogue.get("/proposals").status_code == 403
    assert _proposals(web) == 0


def test_a_post_without_the_csrf_token_is_refused(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    answer = signed_in("lead1").post("/proposals/new", data=PROPOSAL)
    assert answer.status_code == 400 and "Formuläret" in answer.get_data(as_text=True)
    assert _proposals(web) == 0


def test_the_english_form(signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("lead1")
    post(client, "/language", {"language": "en"})
    html = client.get("/proposals/new").get_data(as_text=True)
    assert "Propose a new activity" in html and "Activity owner" in html
    assert "Choose the person from the list (name and office)." in html
    assert "(required)" in html and "Choose …" in html


def test_the_owner_is_picked_by_name_from_the_people_who_may_own_an_activity(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    """Issue 18: the owner had to be typed as a username ("är inte giltigt (pattern)")."""
    with web.transaction() as session:
        erik = people.get_user(session, "erik.berg")
        erik.office = "Näringslivskontoret"
        name = erik.display_name
        people.set_active(session, OPERATOR_ACTOR, "styrgrupp.ak", False)
    client = signed_in("lead1")
    html = client.get("/proposals/new").get_data(as_text=True)
    assert '<select id="f-owner" name="owner"' in html
    assert f'<option value="erik.berg">{name}, Näringslivskontoret</option>' in html
    assert '<option value="styrgrupp.ak"' not in html  # not active: nobody to own anything
    assert "Aktivitetsansvarig (användarnamn)" not in html
    answer = post(client, "/proposals/new", PROPOSAL, "/proposals/new")
    assert answer.status_code == 302
    chain = Chain(web)
    chain.do("processledare", "check_proposal", {"outcome": "return", "comment": "Vem betalar?"})
    returned = client.get(f"/tasks/{chain.task('lead1', 'propose_activity').id}").get_data(as_text=True)
    assert '<select id="f-owner" name="owner"' in returned  # the task's form: the same list
