"""The steering group's queue and meeting, and the audit trail with its verification state."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import login_required
from sqlalchemy import select

from .. import audit_keys, i18n
from ..db import get_db
from ..models import AuditEvent
from ..services import access, audit, checkpoints, deviations, history, meetings, plans
from ..services.access import UseCase
from .plan import named_plan
from .site import action_words, me, require

steering = Blueprint("steering", __name__)
audit_log = Blueprint("audit_log", __name__)
AUDIT_PAGE = 200


@steering.get("/steering")
@login_required
def index() -> str:
    with get_db().reading() as session:  # the queue's service checks who may read it
        user = me(session)
        queue = deviations.steering_queue(
            session, user, named_plan(), request.args.get("state"), request.args.get("period")
        )
        mine = {
            d.task_id
            for d in queue.items
            if d.task_id is not None and access.acting_for(session, user, d.task_id) is not None
        }
        plan = plans.get_plan(session, queue.plan)
        meeting = meetings.open_meeting(session, user, plan.slug)
        meeting_view = None
        if meeting is not None and meeting.task_id is not None:
            meeting_view = {
                "id": meeting.task_id,
                "mine": access.acting_for(session, user, meeting.task_id) is not None,
                "due_on": meeting.day,
            }
        plan_title = plan.title
    return render_template(
        "steering/index.html",
        queue=queue,
        mine=mine,
        meeting=meeting_view,
        plan=named_plan(),
        plan_title=plan_title,
    )


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _events(args: Any, limit: int) -> tuple[list[AuditEvent], dict[str, str]]:
    filters = {k: (args.get(k) or "").strip()[:100] for k in ("activity", "actor", "action", "from", "to")}
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if filters["activity"]:
        query = query.where(
            AuditEvent.subject_type == "activity", AuditEvent.subject_id == filters["activity"]
        )
    if filters["actor"]:
        query = query.where(AuditEvent.actor == filters["actor"])
    if filters["action"]:
        query = query.where(AuditEvent.action.startswith(filters["action"]))
    if (start := _day(filters["from"])) is not None:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(start, time(), zone))
    if (end := _day(filters["to"])) is not None:
        query = query.where(AuditEvent.occurred_at < datetime.combine(end + timedelta(days=1), time(), zone))
    with get_db().reading() as session:
        events = list(session.scalars(query))
        session.expunge_all()  # kept as read: the reading's rollback would expire them
        return events, filters


def _public_key() -> audit_keys.PublicKey | None:
    """The checkpoints' public key, when the signing key exists (a page never makes one)."""
    setting = current_app.config.get("AUDIT_SIGNING_KEY")
    path = Path(setting) if setting else Path(current_app.instance_path) / audit_keys.KEY_FILE
    if not path.is_file():
        return None
    return audit_keys.load_signing_key(str(path), Path(current_app.instance_path)).public_key


@login_required
def index_audit() -> str:
    require(UseCase.READ_INTERNAL)
    events, filters = _events(request.args, AUDIT_PAGE)
    verification = None
    if request.args.get("verify") == "1":
        with get_db().reading() as session:
            key = _public_key()
            result = audit.verify(session) if key is None else checkpoints.verify(session, key)
            latest = checkpoints.latest(session)
        verification = {"result": result, "latest": latest, "signed": key is not None}
    return render_template(
        "audit/index.html",
        events=[history.event_view(e) for e in events],
        filters=filters,
        verification=verification,
        query={k: v for k, v in filters.items() if v},
        actions=sorted(
            (
                (key.removeprefix("audit.action."), action_words(key.removeprefix("audit.action.")))
                for key in i18n.keys("audit.action.")
                if key != "audit.action.task_done"
            ),
            key=lambda action: action[1],
        ),
    )


audit_log.add_url_rule("/audit", endpoint="index", view_func=index_audit, methods=["GET"])


@audit_log.get("/audit.csv")
@login_required
def export() -> Response:
    require(UseCase.READ_INTERNAL)
    events, _ = _events(request.args, 100_000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "seq",
            "occurred_at",
            "actor",
            "on_behalf_of",
            "role",
            "action",
            "action_text",
            "subject_type",
            "subject_id",
            "reason",
            "hash",
        ]
    )
    for e in events:
        writer.writerow(
            [
                e.seq,
                e.occurred_at.isoformat(),
                e.actor,
                e.on_behalf_of or "",
                e.role or "",
                e.action,
                action_words(e.action),
                e.subject_type,
                e.subject_id,
                _cell(e.reason or ""),
                e.hash,
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=planflow-audit.csv"},
    )


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
