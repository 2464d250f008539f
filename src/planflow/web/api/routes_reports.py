"""Reports: issue one (frozen, audited, anchored by a signed checkpoint), as the report page and
`planflow report … --issue` do, and read what an issue froze. The files themselves are downloaded
from the report pages (/reports/issued/<id>.<format>)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ... import audit_keys, reports
from ...db import get_db
from ...documents.files import FORMATS
from ...i18n import LANGUAGES
from ...services.outputs import issued
from ...services.records.audit import Actor
from . import schemas as sc
from .auth import caller
from .problems import ApiError
from .registry import component, operation
from .views import as_json, schema_of

ISSUED = component("IssuedReport", schema_of(issued.IssuedSummary))
ISSUE = sc.obj(
    {
        "kind": {"type": "string", "enum": sorted(FORMATS)},
        "subject": sc.s(
            16, description="The period (2026-Q4) of a steering report, the year (2026) of an annual one"
        ),
    },
    {
        "language": {"type": "string", "enum": list(LANGUAGES), "description": "Default: Swedish"},
        "number": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1_000_000,
            "description": "The issue number expected (as a confirmation showed it): refused (409) "
            "when another issue of the report took it meanwhile",
        },
    },
)


@operation("POST", "/reports/issued", summary="Issue a report in every format it comes in: its content "
           "and files frozen with their SHA-256, anchored by a signed audit checkpoint, audited; a "
           "second issue of a report gets the next number and leaves the first as it was (the process "
           "leader or an admin)", tag="reports", response=ISSUED, status=201, query=sc.PLAN_QUERY,
           body=ISSUE)  # fmt: skip
def issue_report(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    try:
        signer = audit_keys.signing_key(current_app.config, current_app.instance_path)
    except ValueError:
        current_app.logger.exception("the audit signing key cannot be loaded: nothing is issued")
        raise ApiError(500, "error.api.server") from None
    with get_db().transaction() as session:
        actor = Actor(caller(session))
        row = issued.issue_report(
            session,
            actor,
            signer,
            body["kind"],
            body["subject"],
            query.get("plan"),
            body.get("language"),
            render=reports.render,
            expected_number=body.get("number"),
        )
        return as_json(issued.get_issued(session, actor, row.id))


@operation("GET", "/reports/issued/<int:report_id>", summary="An issued report: which, when, by whom, "
           "its SHA-256, the checkpoint it anchors and the formats of its frozen files",
           tag="reports", response=ISSUED)  # fmt: skip
def issued_report(query: dict[str, Any], body: None, report_id: int) -> dict[str, Any]:
    with get_db().reading() as session:
        return as_json(issued.get_issued(session, Actor(caller(session)), report_id))
