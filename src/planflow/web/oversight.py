"""The steering group's queue and meeting, and the audit trail with its verification state: the
audit page and its CSV show what the one search (services.trail) finds and what the one check
(trail_check.check: the chain, its checkpoints and the records) says, as the API does."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import login_required

from .. import audit_keys, i18n
from ..db import get_db
from ..i18n import Message
from ..services.authority import access
from ..services.chain import counsel, deviations
from ..services.errors import Conflict, InvalidInput
from ..services.outputs import csvfile
from ..services.plan import plans
from ..services.records import trail, trail_check
from ..services.views import meetings, steeringview
from .plan import named_plan
from .site import action_words, form_error, me, t

steering = Blueprint("steering", __name__)
audit_log = Blueprint("audit_log", __name__)


@steering.get("/steering")
@login_required
def index() -> tuple[str, int]:
    return _render()


def _render(failed: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    """The steering page: what awaits the group (each with its members' words and a form for one
    more), what it returned, the queue of deviations and the meeting. `failed` is a comment the
    service refused: its subject, its messages and what was typed, shown again beside its item."""
    with get_db().reading() as session:  # the services check who may read what
        user = me(session)
        queue = deviations.steering_queue(
            session, user, named_plan(), request.args.get("state"), request.args.get("period")
        )
        waiting = steeringview.awaiting_group(session, user, named_plan())
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
    if failed is not None:  # its item gone meanwhile (decided): the refusal stands above the rest
        open_forms = {
            *(f"deviation-{d.deviation_id}" for d in waiting.deviations),
            *(f"proposal-{p.proposal_id}" for p in waiting.proposals),
            *(f"annual_report-{r.annual_report_id}" for r in waiting.annual_reports),
        }
        failed = {**failed, "astray": failed["subject"] not in open_forms or not waiting.may_comment}
    return render_template(
        "steering/index.html",
        queue=queue,
        filtered=bool(request.args.get("state")),
        waiting=waiting,
        failed=failed,
        comment_max=counsel.COMMENT_MAX,
        mine=mine,
        meeting=meeting_view,
        plan=named_plan(),
        plan_title=plan_title,
    ), status


@steering.post("/steering/comments")
@login_required
def comment() -> Any:
    """A member's word on something awaiting the group; refused, the page again with the error
    beside that item's form and the words as typed."""
    subject_type = (request.form.get("subject_type") or "")[:32]
    raw_id = request.form.get("subject_id") or ""
    subject_id = int(raw_id) if raw_id.isdigit() and len(raw_id) <= 12 else 0
    text = request.form.get("comment") or ""
    try:
        with get_db().transaction() as session:
            counsel.comment(session, me(session), subject_type, subject_id, text)
    except (InvalidInput, Conflict) as exc:
        refused = form_error(exc)
        failed = {"subject": f"{subject_type}-{subject_id}", "errors": refused.rendered(), "text": text}
        return _render(failed, refused.status)
    flash(t("ui.steering.commented"))
    return redirect(url_for("steering.index", plan=named_plan()) + f"#c-{subject_type}-{subject_id}")


FILTERS = ("activity", "actor", "action", "from", "to", "plan")


def _filters(args: Any) -> dict[str, str]:
    """The search's filters as typed, to show them again."""
    return {k: (args.get(k) or "").strip()[:100] for k in FILTERS}


def _audit_query(filters: dict[str, str], cursor: str | None) -> tuple[trail.AuditQuery, dict[str, Message]]:
    """The search the filters ask for (a page of the most there may be), and what is wrong with
    them: a day that is none is left out of the search and named."""
    days: dict[str, date | None] = {}
    wrong: dict[str, Message] = {}
    for name in ("from", "to"):
        try:
            days[name] = date.fromisoformat(filters[name]) if filters[name] else None
        except ValueError:
            days[name], wrong[name] = None, Message("form.date")
    query = trail.AuditQuery(
        activity=filters["activity"] or None,
        plan=filters["plan"] or None,
        actor=filters["actor"] or None,
        action=filters["action"] or None,
        from_day=days["from"],
        to_day=days["to"],
        cursor=cursor or None,
        limit=trail.AUDIT_PAGE_MAX,
    )
    return query, wrong


@login_required
def index_audit() -> tuple[str, int]:
    filters = _filters(request.args)
    query, wrong = _audit_query(filters, request.args.get("cursor"))
    found, verification, errors, status = trail.AuditPage([], None), None, {}, 200
    with get_db().reading() as session:
        user = me(session)
        try:
            found = trail.search(session, user, query)  # who may read the trail is its to say
            if wrong:
                raise InvalidInput("error.input.invalid", fields=wrong)
        except InvalidInput as exc:  # a day or a cursor that is none: said above the filters
            refused = form_error(exc)
            found, errors, status = trail.AuditPage([], None), refused.rendered(), refused.status
        if request.args.get("verify") == "1":
            key = audit_keys.verifying_key(current_app.config, current_app.instance_path)
            verification = trail_check.check(session, user, key)
    query_args = {k: v for k, v in filters.items() if v}
    return render_template(
        "audit/index.html",
        events=found.items,
        next_cursor=found.next_cursor,
        filters=filters,
        errors=errors,
        verification=verification,
        query=query_args,
        actions=sorted(
            (
                (key.removeprefix("audit.action."), action_words(key.removeprefix("audit.action.")))
                for key in i18n.keys("audit.action.")
                if key != "audit.action.task_done"
            ),
            key=lambda action: action[1],
        ),
    ), status


audit_log.add_url_rule("/audit", endpoint="index", view_func=index_audit, methods=["GET"])


AUDIT_CSV_COLUMNS = (
    "seq occurred_at actor on_behalf_of role action action_text subject_type subject_id reason hash"
).split()


@audit_log.get("/audit.csv")
@login_required
def export() -> Response:
    """The trail the filters find, all of it, as a CSV streamed while it is read (csvfile's:
    what Swedish Excel opens, no cell a formula)."""
    query, wrong = _audit_query(_filters(request.args), None)
    events = trail.export(get_db().reading, me, query)  # checks who asks before a byte is sent
    if wrong:
        raise InvalidInput("error.input.invalid", fields=wrong)
    rows = (
        (
            e.seq,
            e.occurred_at,
            e.actor,
            e.on_behalf_of,
            e.role,
            e.action,
            action_words(e.action),
            e.subject_type,
            e.subject_id,
            e.reason,
            e.hash,
        )
        for e in events
    )
    return Response(
        stream_with_context(csvfile.csv_lines(AUDIT_CSV_COLUMNS, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=planflow-audit.csv"},
    )
