"""The audit trail: events found by the one search (services.trail) with a cursor, the trail's
integrity and the records' agreement with it by the one check (trail_check.check), the chain's
head. The audit page shows the same answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from ... import audit_keys
from ...db import get_db
from ...services.records import trail, trail_check
from ...services.views.plain import to_json
from . import schemas as sc
from .auth import caller
from .registry import operation


@operation(
    "GET",
    "/audit",
    summary="Audit events, newest first, filtered; next_cursor continues the list. `activity` finds "
    "the events about it, its deviations and its reports' tasks (in `plan`, default the first plan); "
    "`actor` who acted or on whose behalf; `action` one action, or a family ending in '.'; `from` and "
    "`to` are days in the installation's zone, `since` and `until` moments",
    tag="audit",
    response=sc.AUDIT_PAGE,
    query={
        "activity": sc.s(32),
        "plan": sc.SLUG,
        "actor": sc.s(64),
        "action": sc.s(64),
        "from": sc.DATE,
        "to": sc.DATE,
        "since": sc.TIME,
        "until": sc.TIME,
        "cursor": sc.s(32),
        "limit": {"type": "integer", "minimum": 1, "maximum": trail.AUDIT_PAGE_MAX},
    },
)
def audit_events(query: dict[str, Any], body: None) -> dict[str, Any]:
    days = {name: date.fromisoformat(query[name]) if name in query else None for name in ("from", "to")}
    search = trail.AuditQuery(
        activity=query.get("activity"),
        plan=query.get("plan"),
        actor=query.get("actor"),
        action=query.get("action"),
        from_day=days["from"],
        to_day=days["to"],
        since=query.get("since"),
        until=query.get("until"),
        cursor=query.get("cursor"),
        limit=query.get("limit", trail.AUDIT_PAGE),
    )
    with get_db().reading() as session:
        return to_json(trail.search(session, caller(session), search))  # type: ignore[no-any-return]


@operation("GET", "/audit/verify", summary="Is the trail intact: the hash chain walked and every signed "
           "checkpoint checked with this installation's public key (without the key the checkpoints "
           "are not checked and the trail is not called intact), and do the records hold what their "
           "events say (the first differing ones named); `intact` only when both hold, as `planflow "
           "audit verify` answers", tag="audit", response=sc.VERIFICATION)  # fmt: skip
def audit_verify(query: dict[str, Any], body: None) -> dict[str, Any]:
    key = audit_keys.verifying_key(current_app.config, current_app.instance_path)
    with get_db().reading() as session:
        answer = trail_check.check(session, caller(session), key)
    # The trail's fields stand at the top, as before the records were checked too.
    return {
        **to_json(answer.trail),
        "intact": answer.intact,
        "records_agree": answer.records_agree,
        "records_differing": answer.records_differing,
        "differing_records": to_json(answer.differing),
    }


@operation("GET", "/audit/head", summary="The latest event's sequence number and hash, to keep "
           "checkpoints of the chain elsewhere", tag="audit", response=sc.HEAD)  # fmt: skip
def audit_head(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return to_json(trail.head(session, caller(session)))  # type: ignore[no-any-return]
