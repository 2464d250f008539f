"""The inbox and a task's form: grouped tasks, claim and unclaim, errors beside the fields with what
was typed kept, back to the inbox with a confirmation, a task done by someone else says so."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from planflow.db import Database
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.services.chain import Chain
from tests.web.conftest import post


def test_an_empty_inbox_says_so_kindly(signed_in: Callable[[str], FlaskClient]) -> None:
    html = signed_in("anna.nilsson").get("/inbox").get_data(as_text=True)
    assert "Du har inga uppgifter just nu" in html
    assert '<span class="count"' in html


def test_a_red_report_with_errors_then_done(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    chain = Chain(web)
    chain.start_cycle()
    client = signed_in("anna.nilsson")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Rapportera status" in inbox and "Fokusområde 1" in inbox and "2026-Q4" in inbox
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "(obligatoriskt)" in page and "Orsak till avvikelsen" in page
    assert "Obligatoriskt när Status är Gul / Röd." in page
    assert "Aktiviteten 1.1.1" in page  # the context beside the form
    answer = post(
        client, f"/tasks/{task.id}", {"status": "red", "comment": "Inget har hänt"}, f"/tasks/{task.id}"
    )
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert 'id="e-cause"' in html and "Inget har hänt" in html
    assert 'value="red" checked' in html
    done = post(
        client,
        f"/tasks/{task.id}",
        {"status": "red", "comment": "Inget har hänt", "cause": "Ingen budget"},
        f"/tasks/{task.id}",
    )
    assert done.status_code == 302 and done.headers["Location"] == "/inbox"
    assert "Klart: Rapportera status." in client.get("/inbox").get_data(as_text=True)
    again = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Uppgiften är redan gjord" in again and "Anna Nilsson" in again


def test_the_lead_claims_and_unclaims_a_group_task(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    with web.transaction() as session:  # a second lead of area 1: its reviews are the two leads' queue
        people.add_user(session, OPERATOR_ACTOR, "lead1b", "Andra ansvarig 1", "lead1b@example.org")
        people.grant_role(
            session,
            OPERATOR_ACTOR,
            people.get_user(session, "lead1b"),
            people.RoleSpec.parse("focus_area_lead:1"),
        )
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    client = signed_in("lead1")
    html = client.get("/inbox").get_data(as_text=True)
    assert "Gruppens kö" in html
    task = chain.task("lead1", "review_report", "1.1.1")
    assert post(client, f"/tasks/{task.id}/claim").status_code == 302
    html = client.get("/inbox").get_data(as_text=True)
    assert "Uppgiften är din." in html and "Lämna tillbaka" in html
    assert "tagen av Fokusområdesansvarig 1" in html and "tagen av lead1" not in html  # a name, not a login
    assert post(client, f"/tasks/{task.id}/unclaim").status_code == 302
    assert "Uppgiften är tillbaka i gruppens kö." in client.get("/inbox").get_data(as_text=True)


def test_someone_elses_task_is_refused_with_the_reason(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    chain.start_cycle()
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    page = signed_in("erik.berg").get(f"/tasks/{task.id}")
    assert page.status_code == 403 and "Du har inte behörighet" in page.get_data(as_text=True)


def test_the_english_form_uses_the_schemas_english_words(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    chain.start_cycle()
    client = signed_in("anna.nilsson")
    post(client, "/language", {"language": "en"})
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Cause of the deviation" in html and "Yellow" in html and "(required)" in html


def test_a_full_inbox_comes_in_pages_and_the_header_stops_counting(
    signed_in: Callable[[str], FlaskClient], web: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planflow.services.chain import tasks
    from planflow.web import inbox

    Chain(web).start_cycle()
    monkeypatch.setattr(inbox, "PAGE_SIZE", 3)
    monkeypatch.setattr(tasks, "INBOX_COUNT_CAP", 5)
    client = signed_in("anna.nilsson")  # seven reports to make
    first = client.get("/inbox").get_data(as_text=True)
    assert '<span class="count" aria-label="4+ uppgifter">4+</span>' in first
    links = re.findall(r'href="/inbox\?after=([^"]+)" rel="next"', first)
    assert len(links) == 1 and "Till början av inkorgen" not in first
    seen = re.findall(r'href="/tasks/([^"]+)"', first)
    after = links[0]
    while after:
        page = client.get(f"/inbox?after={after}").get_data(as_text=True)
        assert "Till början av inkorgen" in page
        seen += re.findall(r'href="/tasks/([^"]+)"', page)
        found = re.findall(r'href="/inbox\?after=([^"]+)" rel="next"', page)
        after = found[0] if found else None
    with web.reading() as session:
        from planflow.services.authority import people

        expected = [t.id for t in tasks.inbox(session, people.get_user(session, "anna.nilsson"))]
    assert len(expected) == 7 and sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert client.get("/inbox?after=not-a-cursor").status_code == 400
