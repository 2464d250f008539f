"""PATCH /api/v1/activities/{code}: the web page's edit over HTTP, through the same service. An edit
names the version it started from; a change made meanwhile is refused, and nothing changes."""

from __future__ import annotations

from sqlalchemy import select

from planflow.models import Activity, AuditEvent

from .conftest import Api


def _facts(api: Api, code: str = "1.1.1") -> dict[str, object]:
    response = api("GET", f"/activities/{code}", "processledare")
    assert response.status_code == 200
    return response.json


def test_an_edit_changes_what_it_names_and_is_audited(api: Api) -> None:
    before = _facts(api)
    response = api(
        "PATCH",
        "/activities/1.1.1",
        "processledare",
        json={"version": before["version"], "title": "Företagsbesök, politiker", "office": None},
    )
    assert response.status_code == 200, response.json
    edited = response.json
    assert edited["changed"] is True and edited["title"] == "Företagsbesök, politiker"
    assert edited["office"] is None and edited["owner"] == before["owner"]  # left out: unchanged
    assert edited["starts_on"] == before["starts_on"] and edited["version"] != before["version"]
    assert _facts(api)["version"] == edited["version"]
    with api.db.transaction() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "activity.updated")).one()
        assert event.actor == "processledare" and set(event.data["changes"]) == {"title", "office"}

    again = api("PATCH", "/activities/1.1.1", "processledare", json={"version": edited["version"]})
    assert again.status_code == 200 and again.json["changed"] is False


def test_an_edit_started_before_another_save_is_refused(api: Api) -> None:
    seen = _facts(api)["version"]
    first = api("PATCH", "/activities/1.1.1", "admin", json={"version": seen, "title": "Först"})
    assert first.status_code == 200
    late = api("PATCH", "/activities/1.1.1", "processledare", json={"version": seen, "title": "Sen"})
    assert late.status_code == 409 and late.mimetype == "application/problem+json"
    assert late.json["code"] == "error.activity.changed_meanwhile"
    with api.db.transaction() as session:
        assert session.scalar(select(Activity.title).where(Activity.code == "1.1.1")) == "Först"


def test_bad_edits_are_refused_by_field_and_change_nothing(api: Api) -> None:
    version = _facts(api)["version"]
    cases = [
        ({"version": version, "owner": "ingen.alls"}, "owner"),
        ({"version": version, "starts_on": "2027-01-01", "ends_on": "2026-01-01"}, "ends_on"),
        ({"version": version, "starts_on": "2026-02-30"}, "starts_on"),
        ({"version": version, "title": ""}, "title"),
        ({"version": version, "colour": "blue"}, "colour"),
        ({"title": "Utan version"}, "version"),
    ]
    for body, field in cases:
        response = api("PATCH", "/activities/1.1.1", "processledare", json=body)
        assert response.status_code == 400, (body, response.json)
        assert field in response.json["errors"], (body, response.json)
    assert _facts(api)["version"] == version
    assert api("PATCH", "/activities/9.9.9", "processledare", json={"version": version}).status_code == 404
    assert api("PATCH", "/activities/1.1.1", "anna.nilsson", json={"version": version}).status_code == 403
