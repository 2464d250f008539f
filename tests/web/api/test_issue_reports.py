"""POST /api/v1/reports/issued issues a report as the report page and the CLI do (one service,
issued.issue_report): 201 with the issue's summary, the row and its audit event; a second issue is
number 2; an expected number another issue took is 409; without the right, 403 and nothing issued."""

from __future__ import annotations

from sqlalchemy import func, select

from planflow.models import IssuedReport
from planflow.services.records import audit

from ...services.chain import Chain
from ...services.steering import annual_report_approved
from .conftest import Api


def _count(api: Api) -> int:
    with api.db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(IssuedReport)) or 0)


def test_the_process_leader_issues_a_steering_report_and_reads_it_back(api: Api, chain: Chain) -> None:
    done = api("POST", "/reports/issued", "processledare", json={"kind": "steering", "subject": "2026-Q4"})
    assert done.status_code == 201, done.json
    body = done.json
    assert body is not None
    assert {k: body[k] for k in ("kind", "subject", "number", "language", "plan", "issued_by")} == {
        "kind": "steering",
        "subject": "2026-Q4",
        "number": 1,
        "language": "sv",
        "plan": "sodertalje-2016",
        "issued_by": "processledare",
    }
    assert body["formats"] == ["docx", "html", "pdf"] and len(body["sha256"]) == 64
    with api.db.reading() as session:
        (event,) = audit.events(session, action="report.issued")
        assert event.subject_id == str(body["id"]) and event.data["sha256"] == body["sha256"]
    assert api("GET", f"/reports/issued/{body['id']}", "anna.nilsson").json == body

    again = api(
        "POST", "/reports/issued", "admin", json={"kind": "steering", "subject": "2026-Q4", "language": "en"}
    )
    assert again.status_code == 201 and again.json is not None
    assert (again.json["number"], again.json["language"]) == (2, "en")


def test_an_expected_number_another_issue_took_is_a_conflict(api: Api, chain: Chain) -> None:
    annual_report_approved(chain)
    first = {"kind": "annual", "subject": "2026", "number": 1}
    assert api("POST", "/reports/issued", "processledare", json=first).status_code == 201
    stale = api("POST", "/reports/issued", "admin", json=first)
    assert stale.status_code == 409 and stale.json is not None
    assert stale.json["code"] == "error.report.number_taken"
    assert _count(api) == 1


def test_without_the_right_nothing_is_issued(api: Api, chain: Chain) -> None:
    for user in ("anna.nilsson", "lead1", "ordforande", "kommunstyrelsen"):
        refused = api("POST", "/reports/issued", user, json={"kind": "steering", "subject": "2026-Q4"})
        assert refused.status_code == 403, user
    assert _count(api) == 0


def test_the_operation_is_documented(api: Api) -> None:
    document = api("GET", "/openapi.json", None).json
    assert document is not None
    post = document["paths"]["/api/v1/reports/issued"]["post"]
    assert post["summary"].startswith("Issue a report") and post["tags"] == ["reports"]
    assert document["components"]["schemas"]["IssuedReport"]["required"]
    assert "/api/v1/reports/issued/{report_id}" in document["paths"]
