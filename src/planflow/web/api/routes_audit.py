"""The audit trail: events queried with filters and a cursor, the chain verified, its head."""

from __future__ import annotations

from typing import Any

from ...db import get_db
from ...services import history
from . import schemas as sc
from .auth import caller
from .registry import operation


@operation(
    "GET",
    "/audit",
    summary="Audit events, newest first, filtered; next_cursor continues the list",
    tag="audit",
    response=sc.AUDIT_PAGE,
    query={
        "activity": sc.s(32),
        "actor": sc.s(64),
        "action": sc.s(64),
        "since": sc.TIME,
        "until": sc.TIME,
        "cursor": sc.s(32),
        "limit": {"type": "integer", "minimum": 1, "maximum": history.AUDIT_PAGE_MAX},
    },
)
def audit_events(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return history.audit_page(session, caller(session), **query)


@operation("GET", "/audit/verify", summary="Recompute the whole hash chain: intact, or the first bad event",
           tag="audit", response=sc.VERIFICATION)  # fmt: skip
def audit_verify(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        result = history.verify_chain(session, caller(session))
    return {
        "intact": result.intact,
        "events": result.checked,
        "first_bad": result.first_bad,
        "problem": result.problem,
    }


@operation("GET", "/audit/head", summary="The latest event's sequence number and hash, to keep "
           "checkpoints of the chain elsewhere", tag="audit", response=sc.HEAD)  # fmt: skip
def audit_head(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return history.audit_head(session, caller(session))
