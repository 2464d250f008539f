"""The plan and the chain around it: the plan's tree, one activity's history, cycles and where
they stand, the steering group's deviation queue, proposals, dialogue feedback, annual reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from ... import clock
from ...db import get_db
from ...models import DeviationState, ReportingCycle
from ...services import annual, cycles, deviations, history, plans, progress, proposals
from ...services.audit import Actor
from ...services.errors import InvalidInput
from . import schemas as sc
from .auth import caller
from .registry import in_data, operation


@operation("GET", "/plan", summary="The plan's tree with every activity's status and last report",
           tag="plan", response=sc.PLAN, query=sc.PLAN_QUERY)  # fmt: skip
def plan(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return plans.plan_status(session, caller(session), query.get("plan"))


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
        edited = plans.change_activity(
            session, Actor(caller(session)), query.get("plan"), code, changes, body["version"]
        )
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in edited.items()}


@operation(
    "POST",
    "/cycles",
    summary="Open a reporting cycle: a report task for every activity that runs in the period",
    tag="cycles",
    response=sc.CYCLE,
    status=201,
    query=sc.PLAN_QUERY,
    body=sc.obj(
        {"period": sc.PERIOD, "deadline": sc.DATE},
        {"escalation_days": {"type": "integer", "minimum": 1, "maximum": 365}},
    ),
)
def start_cycle(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    deadline = date.fromisoformat(body["deadline"])
    database = get_db()
    with database.transaction() as session:
        cycle_id = cycles.start_cycle(
            session,
            Actor(caller(session)),
            body["period"],
            deadline,
            body.get("escalation_days", 14),
            query.get("plan"),
        ).id
    cycles.open_all(database.transaction, cycle_id)  # its reports, in short transactions
    with database.reading() as session:
        cycle = session.get_one(ReportingCycle, cycle_id)
        return {
            "plan": query.get("plan") or plans.get_plan(session).slug,
            "period": cycle.period,
            "deadline": cycle.deadline.isoformat(),
            "escalation_days": cycle.escalation_days,
            "state": cycle.state.value,
            "started_at": cycle.started_at.isoformat(),
        }


@operation("GET", "/cycles/<period>", summary="Where the chain stands for a cycle", tag="cycles",
           response=sc.CYCLE_PROGRESS, query=sc.PLAN_QUERY)  # fmt: skip
def cycle(period: str, query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return progress.cycle_progress(session, caller(session), period, query.get("plan"))


@operation(
    "GET",
    "/deviations",
    summary="The steering group's queue: escalated first, then red, then oldest",
    tag="cycles",
    response=sc.DEVIATIONS,
    query={**sc.PLAN_QUERY, "state": {"enum": [s.value for s in DeviationState]}, "period": sc.s(10)},
)
def deviation_queue(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        queue = deviations.steering_queue(
            session, caller(session), query.get("plan"), query.get("state"), query.get("period")
        )
    return history.to_json(queue)  # type: ignore[no-any-return]


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
