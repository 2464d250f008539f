"""The plan and the chain around it: the plan's tree, one activity's history, cycles and where
they stand, the steering group's deviation queue, proposals, dialogue feedback, annual reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from ... import clock
from ...db import get_db
from ...installation import ESCALATION_DAYS_RANGE as DAYS
from ...services.chain import annual, counsel, cycles, deviations, proposals
from ...services.errors import InvalidInput, NotFound
from ...services.plan import activity_edits, plans
from ...services.records.audit import Actor
from ...services.views import cycleview, history, plain, planview, steeringview
from . import schemas as sc
from . import views
from .auth import caller
from .registry import in_data, operation


@operation("GET", "/plan", summary="The plan's tree with every activity's status and latest report, and "
           "counts per status per focus area, as the plan page shows them: to someone from outside "
           "the municipality only accepted reports, without comments", tag="plan", response=sc.PLAN,
           query=sc.PLAN_QUERY)  # fmt: skip
def plan(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        view = planview.read_plan(session, caller(session), query.get("plan"), per_page=None)
    if view is None:
        raise NotFound("error.plan.not_found", plan="-")
    return _tree(view)


def _tree(view: planview.PlanPage) -> dict[str, Any]:
    """The plan read (planview.read_plan, every activity on one page) as the API's tree."""
    by_area: dict[str, list[planview.Row]] = {}
    for row in view.rows:
        by_area.setdefault(row.intervention_code, []).append(row)
    return {
        "slug": view.slug,
        "title": view.title,
        "organisation": view.organisation,
        "adopted_on": view.adopted_on.isoformat(),
        "focus_areas": [
            {
                "number": number,
                "title": title,
                "counts": view.counts[number],
                "intervention_areas": [
                    {
                        "code": area.code,
                        "title": area.title,
                        "approach": area.approach,
                        "activities": [_activity(row) for row in by_area.get(area.code, [])],
                    }
                    for area in view.intervention_areas
                    if area.focus_area == number
                ],
            }
            for number, title in view.focus_areas
        ],
    }


def _activity(row: planview.Row) -> dict[str, Any]:
    last = row.last
    return {
        "code": row.code,
        "title": row.title,
        "owner": row.owner,
        "office": row.office,
        "starts_on": row.starts_on.isoformat() if row.starts_on else None,
        "ends_on": row.ends_on.isoformat() if row.ends_on else None,
        "status": row.status,
        "state": "closed" if row.closed else "active",
        "demo": row.is_demo,
        "last_report": None
        if last is None
        else {
            "period": last.period,
            "status": last.status,
            "comment": last.comment,
            "reported_at": last.reported_at.isoformat(),
            "review": last.review,
        },
    }


@operation("GET", "/activities/<code>", summary="An activity's history: reports, deviations and "
           "decisions, proposals, audit events", tag="plan", response=sc.ACTIVITY_HISTORY,
           query=sc.PLAN_QUERY)  # fmt: skip
def activity(code: str, query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return history.activity_history(session, caller(session), code, query.get("plan"))


@operation(
    "PATCH",
    "/activities/<code>",
    summary="Change an activity's title, owner, office or dates (process leader, administrators). "
    "Send the `version` GET /activities/{code} gave: if the activity changed since, 409 and nothing "
    "changes. Fields left out stay as they are; null clears an owner, an office or a date",
    tag="plan",
    response=sc.ACTIVITY_EDITED,
    query=sc.PLAN_QUERY,
    body=sc.ACTIVITY_EDIT,
)
def edit_activity(code: str, query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    changes = {
        key: date.fromisoformat(value) if key.endswith("_on") and value else value
        for key, value in body.items()
        if key != "version"
    }
    with get_db().transaction() as session:
        edited = activity_edits.change_activity(
            session, Actor(caller(session)), query.get("plan"), code, changes, body["version"]
        )
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in edited.items()}


@operation(
    "POST",
    "/cycles",
    summary="Open a reporting cycle: a report task for every activity that runs in the period. "
    "Without `escalation_days`, the installation's (PLANFLOW_ESCALATION_DAYS)",
    tag="cycles",
    response=sc.CYCLE,
    status=201,
    query=sc.PLAN_QUERY,
    body=sc.obj(
        {"period": sc.PERIOD, "deadline": sc.DATE},
        {"escalation_days": {"type": "integer", "minimum": DAYS[0], "maximum": DAYS[1]}},
    ),
)
def start_cycle(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The escalation days left out are the installation's (ESCALATION_DAYS): the service's to apply."""
    database = get_db()
    with database.reading() as session:
        actor = Actor(caller(session))
    started = cycles.start(
        database.transaction,
        actor,
        body["period"],
        date.fromisoformat(body["deadline"]),
        body.get("escalation_days"),
        query.get("plan"),
    )
    return views.as_json(started)


@operation(
    "POST",
    "/cycles/<period>/cancel",
    summary="Cancel a cycle started by mistake, while nothing of it is reported: its tasks leave the "
    "inboxes, nobody is told, and the period may start again. The reason is kept and audited",
    tag="cycles",
    response=sc.CYCLE_CANCELLED,
    query=sc.PLAN_QUERY,
    body=sc.obj({"reason": sc.s(cycles.CANCEL_REASON_LIMIT)}),
)
def cancel_cycle(period: str, query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    database = get_db()
    with database.reading() as session:
        actor = Actor(caller(session))
    cancelled = cycles.cancel(database.transaction, actor, period, body["reason"], query.get("plan"))
    return views.as_json(cancelled)


@operation("GET", "/cycles/<period>", summary="Where the chain stands for a cycle: reports due, in, "
           "accepted and returned per focus area, the areas' reconciliation, the dialogue, the "
           "meeting, and the overdue tasks with who should act", tag="cycles",
           response=sc.CYCLE_PROGRESS, query=sc.PLAN_QUERY)  # fmt: skip
def cycle(period: str, query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        stands = cycleview.cycle_progress(session, caller(session), period, query.get("plan"))
    return views.as_json(stands)


@operation(
    "GET",
    "/deviations",
    summary="The steering group's queue: escalated first, then red, then oldest",
    tag="cycles",
    response=sc.DEVIATIONS,
    query={**sc.PLAN_QUERY, "state": {"enum": list(deviations.STATES)}, "period": sc.s(10)},
)
def deviation_queue(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        queue = deviations.steering_queue(
            session, caller(session), query.get("plan"), query.get("state"), query.get("period")
        )
    return plain.to_json(queue)  # type: ignore[no-any-return]


@operation(
    "POST",
    "/proposals",
    summary="A focus-area lead proposes a new activity in its area",
    tag="cycles",
    response=sc.PROPOSAL,
    status=201,
    query=sc.PLAN_QUERY,
    body=sc.obj({"data": {"$ref": "#/components/schemas/form.propose_activity"}}),
)
def propose(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    try:
        with get_db().transaction() as session:
            proposal = proposals.propose_activity(session, caller(session), body["data"], query.get("plan"))
            return {
                "id": proposal.id,
                "state": proposal.state.value,
                "focus_area": proposal.focus_area_id,
                "title": proposal.title,
            }
    except InvalidInput as error:
        raise in_data(error) from None


@operation(
    "POST",
    "/dialogue-feedback",
    summary="A business-organisation representative adds feedback while the dialogue is open",
    tag="cycles",
    response=sc.FEEDBACK,
    status=201,
    query=sc.PLAN_QUERY,
    body=sc.obj({"period": sc.PERIOD, "data": {"$ref": "#/components/schemas/form.dialogue_feedback"}}),
)
def dialogue_feedback(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    try:
        with get_db().transaction() as session:
            feedback = cycles.give_dialogue_feedback(
                session, caller(session), body["period"], body["data"], query.get("plan")
            )
            return {"id": feedback.id, "period": body["period"], "given_at": feedback.given_at.isoformat()}
    except InvalidInput as error:
        raise in_data(error) from None


@operation(
    "POST",
    "/annual-reports",
    summary="Open the plan's report of a year for the process leader to compile",
    tag="cycles",
    response=sc.ANNUAL_REPORT,
    status=201,
    query=sc.PLAN_QUERY,
    body=sc.obj({"year": {"type": "integer", "minimum": clock.FIRST_YEAR, "maximum": clock.LAST_YEAR}}),
)
def annual_report(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    with get_db().transaction() as session:
        actor = Actor(caller(session))
        report = annual.start_annual_report(session, actor, body["year"], query.get("plan"))
        slug = plans.get_plan(session, query.get("plan")).slug
        return {"plan": slug, "year": report.year, "state": report.state.value}


@operation(
    "GET",
    "/steering/awaiting",
    summary="Everything awaiting the steering group: deviations whose decision it owes, proposed "
    "activities, the annual report, each with its members' comments so far; and the deviations it "
    "returned to the process leader",
    tag="cycles",
    response=sc.AWAITING_GROUP,
    query=sc.PLAN_QUERY,
)
def steering_awaiting(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        waiting = steeringview.awaiting_group(session, caller(session), query.get("plan"))
    return views.as_json(waiting)


@operation(
    "POST",
    "/steering/comments",
    summary="A steering-group member's (or the chair's) comment on something awaiting the group, "
    "before the chair records its decision: kept with the decision once it is recorded; refused "
    "(409) when the subject does not await the group",
    tag="cycles",
    response=sc.STEERING_COMMENT,
    status=201,
    body=sc.obj(
        {
            "subject_type": {"type": "string", "enum": list(counsel.SUBJECTS)},
            "subject_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            "comment": sc.s(counsel.COMMENT_MAX, minLength=1, pattern="\\S"),
        }
    ),
)
def steering_comment(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    with get_db().transaction() as session:
        said = counsel.comment(
            session, caller(session), body["subject_type"], body["subject_id"], body["comment"]
        )
    return views.as_json(said)
