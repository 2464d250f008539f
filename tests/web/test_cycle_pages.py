"""Starting a cycle on the page asks first, saying what will happen; a cycle started by mistake is
cancelled on the page (with its reason), as in the API and on the command line (issue 18)."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import AuditEvent

from ..services.chain import START, Chain
from .conftest import post

MISTAKE = {"period": "2027-01", "deadline": "2027-01-25"}


def _task_count(client: FlaskClient) -> int:
    return client.get("/inbox").get_data(as_text=True).count('href="/tasks/')


def test_starting_a_cycle_says_what_will_happen_and_starts_only_when_confirmed(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    clock.set_now(START)
    client = signed_in("processledare")
    asked = post(client, "/cycles", MISTAKE, "/cycles")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Starta omgången 2027-01?" in html and "sista dag 25 januari 2027" in html
    assert "får 60 aktiviteter" in html and "Ja, starta omgången (60 uppgifter)" in html
    assert 'href="/cycles">Nej, tillbaka' in html
    assert "Ingen omgång har startats ännu." in client.get("/cycles").get_data(as_text=True)  # nothing yet
    assert _task_count(signed_in("anna.nilsson")) == 0

    started = post(client, "/cycles", {**MISTAKE, "confirm": "1"}, "/cycles")
    assert started.status_code == 302 and started.headers["Location"] == "/cycles/2027-01"
    assert _task_count(signed_in("anna.nilsson")) > 0


def test_a_cycle_started_by_mistake_is_cancelled_on_the_page_and_can_start_again(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    clock.set_now(START)
    client = signed_in("processledare")
    post(client, "/cycles", {**MISTAKE, "confirm": "1"}, "/cycles")
    owner = signed_in("anna.nilsson")
    assert _task_count(owner) > 0
    listed = client.get("/cycles").get_data(as_text=True)
    assert 'href="/cycles/2027-01/cancel">Avbryt omgången 2027-01' in listed
    assert 'href="/cycles/2027-01/cancel"' in client.get("/cycles/2027-01").get_data(as_text=True)

    page = client.get("/cycles/2027-01/cancel").get_data(as_text=True)
    assert "60 öppna uppgifter tas bort ur inkorgarna" in page and 'id="f-reason"' in page
    blank = post(client, "/cycles/2027-01/cancel", {"reason": " "}, "/cycles/2027-01/cancel")
    assert blank.status_code == 400 and 'id="e-reason"' in blank.get_data(as_text=True)
    assert _task_count(owner) > 0  # nothing changed

    done = post(client, "/cycles/2027-01/cancel", {"reason": "Månad i stället för kvartal"}, "/cycles")
    assert done.status_code == 302 and done.headers["Location"] == "/cycles"
    listed = client.get("/cycles").get_data(as_text=True)
    assert "Omgången 2027-01 är avbruten; 60 uppgifter togs bort ur inkorgarna." in listed
    assert "2027-01</a> · avbruten" in listed and "/cycles/2027-01/cancel" not in listed
    assert _task_count(owner) == 0
    shown = client.get("/cycles/2027-01").get_data(as_text=True)
    assert "Omgången avbröts" in shown and "Månad i stället för kvartal" in shown
    with web.reading() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycle.cancelled")).one()
        assert (event.actor, event.reason) == ("processledare", "Månad i stället för kvartal")

    again = post(client, "/cycles", {**MISTAKE, "confirm": "1"}, "/cycles")
    assert again.status_code == 302 and _task_count(owner) > 0


def test_cancelling_is_refused_on_the_page_once_something_is_reported_and_not_offered_to_others(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    clock.set_now(START)
    chain = Chain(web)
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "green", "comment": "Klart"})
    client = signed_in("processledare")
    page = client.get("/cycles/2026-Q4/cancel")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "en statusrapport är lämnad" in html and 'id="f-reason"' not in html
    refused = post(client, "/cycles/2026-Q4/cancel", {"reason": "fel"}, "/cycles")
    assert refused.status_code == 409
    lead = signed_in("lead1")
    assert "/cancel" not in lead.get("/cycles/2026-Q4").get_data(as_text=True)
    assert lead.get("/cycles/2026-Q4/cancel").status_code == 403
    assert post(lead, "/cycles/2026-Q4/cancel", {"reason": "fel"}, "/cycles").status_code == 403
