"""Keeping the plan up to date from the pages: the process leader edits one activity (what was typed
stays when a field is refused), sees the activities the steering group has just added, and reads the
whole plan out of and into Excel; nobody else gets in, and no form works without its CSRF token."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import Activity, AuditEvent
from planflow.services.records import audit
from tests.services.test_activity_edits import _approve_a_proposal
from tests.web.conftest import csrf_token, post

FORM = {
    "title": "Företagsbesök med kommunalråd",
    "owner": "erik.berg",
    "office": "Näringslivskontoret",
    "starts_on": "2026-01-01",
    "ends_on": "2027-06-30",
}


def _activity(db: Database, code: str) -> dict[str, Any]:
    with db.reading() as session:
        a = session.scalars(select(Activity).where(Activity.code == code)).one()
        return {
            "title": a.title,
            "owner": a.owner.username if a.owner else None,
            "office": a.office,
            "ends_on": a.ends_on,
        }


def test_the_process_leader_edits_an_activity_from_its_page(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("processledare")
    story = client.get("/activities/1.1.1").get_data(as_text=True)
    assert 'href="/admin/activities/1.1.1"' in story
    form = client.get("/admin/activities/1.1.1").get_data(as_text=True)
    assert "Ändra aktivitet 1.1.1" in form and 'value="anna.nilsson" selected' in form
    saved = post(client, "/admin/activities/1.1.1", FORM, "/admin/activities/1.1.1")
    assert saved.status_code == 302 and saved.headers["Location"] == "/activities/1.1.1"
    page = client.get("/activities/1.1.1").get_data(as_text=True)
    assert "Aktivitet 1.1.1 är ändrad." in page and "Företagsbesök med kommunalråd" in page
    assert _activity(web, "1.1.1") == {
        "title": "Företagsbesök med kommunalråd",
        "owner": "erik.berg",
        "office": "Näringslivskontoret",
        "ends_on": date(2027, 6, 30),
    }
    with web.reading() as session:
        (event,) = audit.events(session, action="activity.updated")
        assert event.actor == "processledare" and event.data["changes"]["owner"] == [
            "anna.nilsson",
            "erik.berg",
        ]
    again = post(client, "/admin/activities/1.1.1", FORM, "/admin/activities/1.1.1")
    assert "Inget ändrades i aktivitet 1.1.1." in client.get(again.headers["Location"]).get_data(as_text=True)


def test_a_refused_edit_names_each_field_and_keeps_what_was_typed(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    before = _activity(web, "1.1.1")
    client = signed_in("admin")
    typed = {**FORM, "title": "", "office": "Nytt kontor", "ends_on": "2025-12-31"}
    refused = post(client, "/admin/activities/1.1.1", typed, "/admin/activities/1.1.1")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Aktiviteten 1.1.1 är inte ändrad" in html
    assert '<p class="error" id="e-title">får inte vara tomt</p>' in html
    assert '<p class="error" id="e-ends_on">får inte vara före start</p>' in html
    assert 'value="Nytt kontor"' in html and 'value="2025-12-31"' in html and 'value="2026-01-01"' in html
    assert 'value="erik.berg" selected' in html
    assert 'aria-invalid="true" aria-describedby="e-title"' in html
    assert _activity(web, "1.1.1") == before

    not_a_date = post(client, "/admin/activities/1.1.1", {**FORM, "starts_on": "snart"}, "/admin/plan")
    html = not_a_date.get_data(as_text=True)
    assert not_a_date.status_code == 400 and "ska vara ett datum som ÅÅÅÅ-MM-DD" in html
    assert 'value="snart"' in html and f'value="{FORM["title"]}"' in html
    assert _activity(web, "1.1.1") == before


def _seen(html: str) -> str:
    match = re.search(r'name="seen" value="([0-9a-f]{16})"', html)
    assert match, "the form carries no version"
    return match.group(1)


def test_a_save_over_someone_elses_newer_save_is_refused_and_shows_both(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    leader, admin = signed_in("processledare"), signed_in("admin")
    path = "/admin/activities/1.1.1"
    leaders_form = _seen(leader.get(path).get_data(as_text=True))
    admins_form = _seen(admin.get(path).get_data(as_text=True))
    assert leaders_form == admins_form
    first = post(admin, path, {**FORM, "title": "Adminens titel", "seen": admins_form}, path)
    assert first.status_code == 302
    events = _events(web)

    late = post(leader, path, {**FORM, "title": "Processledarens titel", "seen": leaders_form}, path)
    html = late.get_data(as_text=True)
    assert late.status_code == 409
    assert "har ändrats av någon annan sedan du öppnade formuläret" in html
    assert '<p class="error" id="e-title">Nu sparat: Adminens titel</p>' in html
    assert 'value="Processledarens titel"' in html  # what was typed stays
    assert 'id="e-office"' not in html  # the same in both: nothing to say
    assert _activity(web, "1.1.1")["title"] == "Adminens titel" and _events(web) == events

    again = post(leader, path, {**FORM, "title": "Processledarens titel", "seen": _seen(html)}, path)
    assert again.status_code == 302  # seen what is saved now, and chose to replace it
    assert _activity(web, "1.1.1")["title"] == "Processledarens titel"


def _events(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.mark.parametrize("username", ["anna.nilsson", "lead1", "styrgrupp.nk", "naringslivsradet"])
def test_without_the_right_there_is_no_link_and_the_pages_say_403(
    signed_in: Callable[[str], FlaskClient], web: Database, username: str
) -> None:
    before = _activity(web, "1.1.1")
    client = signed_in(username)
    if username != "naringslivsradet":  # outsiders do not read activity pages at all
        assert "/admin/activities/" not in client.get("/activities/1.1.1").get_data(as_text=True)
    assert 'href="/admin/plan"' not in client.get("/inbox").get_data(as_text=True)
    for path in ("/admin/activities/1.1.1", "/admin/plan", "/admin/plan.xlsx"):
        response = client.get(path)
        assert response.status_code == 403 and "Du har inte behörighet" in response.get_data(as_text=True)
    assert post(client, "/admin/activities/1.1.1", FORM).status_code == 403
    assert _activity(web, "1.1.1") == before


def test_forms_without_their_csrf_token_are_refused(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    before = _activity(web, "1.1.1")
    client = signed_in("processledare")
    refused = client.post("/admin/activities/1.1.1", data=FORM)
    assert refused.status_code == 400 and _activity(web, "1.1.1") == before
    assert client.post("/admin/plan/import", data={}).status_code == 400


def test_an_unknown_activity_is_not_found(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    client = signed_in("processledare")
    assert client.get("/admin/activities/9.9.9").status_code == 404
    assert post(client, "/admin/activities/9.9.9", FORM).status_code == 404


def test_the_upkeep_page_lists_new_activities_with_what_they_lack(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("processledare")
    assert 'href="/admin/plan"' in client.get("/inbox").get_data(as_text=True)  # in the menu
    assert "Styrgruppen har inte godkänt några nya aktiviteter än." in client.get("/admin/plan").get_data(
        as_text=True
    )
    _approve_a_proposal(web)
    with web.transaction() as session:  # the new owner has no office on file: the activity lacks one
        session.scalars(select(Activity).where(Activity.code == "3.4.4")).one().office = None
    html = client.get("/admin/plan").get_data(as_text=True)
    assert "Lokalguide för nyetablerade företag" in html and 'href="/admin/activities/3.4.4"' in html
    assert "Saknar: kontor" in html
    assert 'href="/admin/plan"' in signed_in("admin").get("/admin").get_data(as_text=True)


def _workbook(client: FlaskClient, edits: dict[tuple[str, str], object]) -> bytes:
    download = client.get("/admin/plan.xlsx")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    workbook = openpyxl.load_workbook(io.BytesIO(download.data))
    for (sheet, cell), value in edits.items():
        workbook[sheet][cell] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _upload(client: FlaskClient, data: bytes | None) -> Any:
    form: dict[str, Any] = {"csrf_token": csrf_token(client, "/admin/plan")}
    if data is not None:
        form["file"] = (io.BytesIO(data), "planen.xlsx")
    return client.post("/admin/plan/import", data=form, content_type="multipart/form-data")


def test_the_plan_goes_out_to_excel_and_back(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    client = signed_in("processledare")
    done = _upload(client, _workbook(client, {("Fokusområde 2", "C2"): "Ny rubrik från Excel"}))
    assert done.status_code == 302
    assert "1 aktiviteter ändrade" in client.get("/admin/plan").get_data(as_text=True)
    assert _activity(web, "2.1.1")["title"] == "Ny rubrik från Excel"

    bad = _upload(
        client, _workbook(client, {("Fokusområde 3", "D5"): "ingen.sadan", ("Fokusområde 1", "C2"): "X"})
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Fokusområde 3, rad 5, kolumn D: ingen aktiv användare heter ingen.sadan" in html
    assert _activity(web, "1.1.1")["title"] != "X"

    missing = _upload(client, None)
    assert (
        missing.status_code == 400
        and '<p class="error" id="e-file">måste fyllas i</p>' in missing.get_data(as_text=True)
    )
    foreign = _upload(client, b"not a workbook")
    assert foreign.status_code == 400 and "är ingen Excel-arbetsbok" in foreign.get_data(as_text=True)
