"""The whole chain over HTTP: a red activity from the owner's report to the steering group's
decision and the board's note, with a wrong value, an unknown field, an intruder and a second
completion refused on the way."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.models import AuditEvent, User

from ...services.chain import Chain
from .conftest import Api


def task_of(api: Api, user: str, name: str, activity: str | None = None) -> dict[str, Any]:
    response = api("GET", "/inbox?limit=200", user)
    assert response.status_code == 200
    items = [t for t in response.json["items"] if t["name"] == name and t["activity_code"] == activity]
    assert items, f"{user} has no {name}"
    return items[0]


def complete(api: Api, user: str, task: dict[str, Any], data: dict[str, Any], **kwargs: Any) -> Any:
    return api("POST", f"/tasks/{task['id']}/complete", user, json={"data": data}, **kwargs)


def test_a_red_activity_from_report_to_decision_and_board_note(api: Api, chain: Chain) -> None:
    report = task_of(api, "anna.nilsson", "report_status", "1.1.1")
    assert report["title"] == "Rapportera status" and report["role"] == "activity_owner"
    assert api("GET", "/inbox", "anna.nilsson", headers={"Accept-Language": "en"}).json["items"][0]["title"]

    detail = api("GET", f"/tasks/{report['id']}", "anna.nilsson").json
    assert detail["form"]["properties"]["status"]["enum"] == ["green", "yellow", "red"]
    assert detail["case"]["activity"]["code"] == "1.1.1"

    wrong = complete(api, "anna.nilsson", report, {"status": "purple"}, headers={"Accept-Language": "en"})
    assert wrong.status_code == 400 and wrong.mimetype == "application/problem+json"
    assert wrong.json["errors"]["data.status"]["code"] == "form.one_of"
    assert wrong.headers["Content-Language"] == "en"
    unknown = complete(api, "anna.nilsson", report, {"status": "green", "colour": "blue"})
    assert unknown.json["errors"]["data.colour"]["code"] == "form.unknown_field"
    assert unknown.headers["Content-Language"] == "sv"  # the user's own language
    intruder = complete(api, "erik.berg", report, {"status": "red", "cause": "Ingen budget."})
    assert intruder.status_code == 403

    key = {"Idempotency-Key": "report-1.1.1-2026-Q4"}
    data = {"status": "red", "comment": "Stoppad.", "cause": "Ingen budget."}
    first = complete(api, "anna.nilsson", report, data, headers=key)
    assert first.status_code == 200 and first.json["completed_by"] == "anna.nilsson"
    retried = complete(api, "anna.nilsson", report, data, headers=key)
    assert (retried.status_code, retried.json) == (200, first.json)
    again = complete(api, "anna.nilsson", report, data)
    assert again.status_code == 409 and again.json["code"] == "error.task.done_by"
    assert "Anna Nilsson" in again.json["detail"]  # who did it

    steps = [
        ("lead1", "review_report", "1.1.1", {"outcome": "accept"}),
        ("processledare", "draft_recommendation", "1.1.1", {"recommendation": "Skjut upp ett år."}),
        ("lead1", "agree_recommendation", "1.1.1", {"outcome": "agree"}),
        ("ordforande", "steering_decision", "1.1.1", {"decision": "approve", "rationale": "Budget saknas."}),
    ]
    for user, name, activity, step_data in steps:
        response = complete(api, user, task_of(api, user, name, activity), step_data)
        assert response.status_code == 200, (name, response.json)

    history = api("GET", "/activities/1.1.1", "styrgrupp.nk").json
    deviation = history["deviations"][0]
    assert deviation["cause"] == "Ingen budget." and deviation["recommendation"] == "Skjut upp ett år."
    assert deviation["decisions"][0]["rationale"] == "Budget saknas."
    assert history["reports"][0]["status"] == "red"

    assert api("POST", "/annual-reports", "processledare", json={"year": 2026}).status_code == 201
    for user, name, step_data in [
        ("processledare", "compile_annual_report", {"summary": "Planen följs, med en röd aktivitet."}),
        ("ordforande", "approve_annual_report", {"outcome": "approve"}),
        (
            "kommunstyrelsen",
            "board_note",
            {"noted": True, "decided_on": "2026-12-14", "paragraph": "§ 201", "comment": "Noterat."},
        ),
    ]:
        response = complete(api, user, task_of(api, user, name), step_data)
        assert response.status_code == 200, (name, response.json)

    noted = api("GET", "/audit?action=annual_report.noted", "processledare").json["items"]
    assert noted and noted[0]["actor"] == "kommunstyrelsen"
    verified = api("GET", "/audit/verify", "processledare").json
    assert verified["intact"] and verified["events"] == api("GET", "/audit/head", "admin").json["seq"]
    stands = api("GET", "/cycles/2026-Q4", "processledare").json
    assert stands["focus_areas"][0]["reports_accepted"] == 1


def test_the_activity_page_tells_the_story_the_api_sends(
    api: Api, chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    """One read of an activity's story (services.history): the page shows the reports, the
    decisions and the events that GET /activities/{code} sends, in the same order, with people's
    names where the API gives their usernames, and the same events, the deviations' steps' among them."""
    code = "1.1.1"
    chain.do("anna.nilsson", "report_status", {"status": "green", "comment": "Enligt plan."}, code)
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange orsaken."}, code)
    chain.do(
        "anna.nilsson",
        "report_status",
        {"status": "red", "comment": "Stoppad.", "cause": "Ingen budget."},
        code,
    )
    chain.do("lead1", "review_report", {"outcome": "accept"}, code)
    for decision in ["return", "approve"]:
        chain.do(
            "processledare", "draft_recommendation", {"recommendation": f"Skjut upp ({decision})."}, code
        )
        chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, code)
        chain.do(
            "ordforande", "steering_decision", {"decision": decision, "rationale": f"Skäl: {decision}."}, code
        )

    story = api("GET", f"/activities/{code}", "styrgrupp.nk").json
    page = signed_in("styrgrupp.nk").get(f"/activities/{code}").get_data(as_text=True)
    with api.db.reading() as session:
        name = dict(session.execute(select(User.username, User.display_name)).all())

    def in_order(texts: list[str], html: str) -> bool:
        places = [html.find(text) for text in texts]
        return -1 not in places and places == sorted(places)

    reports, decisions = story["reports"], story["deviations"][0]["decisions"]
    assert [r["comment"] for r in reports] == ["Stoppad.", "Enligt plan."]  # newest first
    assert [r["reporter"] for r in reports] == ["anna.nilsson", "anna.nilsson"]  # usernames in the API
    assert reports[1]["review"] == "returned" and reports[1]["review_comment"] == "Ange orsaken."
    assert in_order([r["comment"] for r in reports], page) and name["anna.nilsson"] in page
    assert [(d["decision"], d["decided_by"]) for d in decisions] == [
        ("return", "ordforande"),
        ("approve", "ordforande"),
    ]
    assert in_order([f"{d['rationale']} ({name[d['decided_by']]}," for d in decisions], page)

    shown = [int(seq) for seq in re.findall(r"<tr><td>(\d+)</td>", page.split('id="ev-h"')[1])]
    sent = [e["seq"] for e in story["events"]]  # newest first
    assert sent and shown == sent
    with api.db.reading() as session:
        subjects = dict(session.execute(select(AuditEvent.seq, AuditEvent.subject_type)).all())
    assert {"activity", "deviation"} <= {subjects[seq] for seq in sent}  # the steps' events too
