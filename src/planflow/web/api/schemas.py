"""The shapes of requests and responses, as JSON Schema 2020-12 published in the document's
components (registry.component). Nullable values are `["…", "null"]`, as OpenAPI 3.1 writes it."""

from __future__ import annotations

from typing import Any

from ...services.authority import access
from ...services.chain import counsel, cycles, deviations, reviews
from ...services.plan import activity_edits
from ...services.records import trail_check
from ...services.views import cases, cycleview, steeringview
from .registry import component
from .views import schema_of

Schema = dict[str, Any]


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def s(max_length: int = 10000, **more: Any) -> Schema:
    return {"type": "string", "maxLength": max_length, **more}


def opt(schema: Schema) -> Schema:
    """The schema, or null."""
    if "$ref" in schema or "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:  # an enum holds its values: null must be one of them too
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


INT = {"type": "integer"}
BOOL = {"type": "boolean"}
DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
TIME = {"type": "string", "format": "date-time"}
OBJECT = {"type": "object"}
STATUS = {"type": "string", "enum": ["green", "yellow", "red"]}
USERNAME = s(64, pattern="^[a-z0-9._-]{2,64}$")
PERIOD = s(10, pattern="^(20[0-9]{2}|21[0-9]{2})-(Q[1-4]|T[1-3]|H[12]|0[1-9]|1[0-2])$")
SLUG = s(64, pattern="^[a-z0-9][a-z0-9-]{1,63}$")
CODE = s(32, pattern="^[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}$")
LANE = {"type": "string", "enum": sorted(access.LANES)}
PLAN_QUERY = {"plan": SLUG}
VERSION = s(16, pattern="^[0-9a-f]{16}$")  # of an activity's editable facts (activity_edits.ActivityEdit)

PROBLEM = component(
    "Problem",
    {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": s(300),
            "title": s(),
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": s(),
            "code": s(200),
            "errors": {
                "type": "object",
                "additionalProperties": obj({"code": s(200), "message": s()}),
            },
        },
    },
)

LAST_REPORT = obj(
    {
        "period": opt(s(32)),
        "status": STATUS,
        "comment": opt(s()),
        "reported_at": TIME,
        "review": s(16),
    }
)
ACTIVITY = obj(
    {
        "code": s(32),
        "title": s(300),
        "owner": opt(s(64)),
        "office": opt(s(200)),
        "starts_on": opt(DATE),
        "ends_on": opt(DATE),
        "status": opt(STATUS),
        "state": {"enum": ["active", "closed"]},
        "demo": BOOL,
        "last_report": opt(LAST_REPORT),
    }
)
PLAN = component(
    "Plan",
    obj(
        {
            "slug": s(64),
            "title": s(300),
            "organisation": s(200),
            "adopted_on": DATE,
            "focus_areas": array(
                obj(
                    {
                        "number": INT,
                        "title": s(300),
                        # active activities per status (unreported: no accepted report yet)
                        "counts": obj({status: INT for status in ("green", "yellow", "red", "unreported")}),
                        "intervention_areas": array(
                            obj(
                                {
                                    "code": s(16),
                                    "title": s(),
                                    "approach": opt(s()),
                                    "activities": array(component("PlanActivity", ACTIVITY)),
                                }
                            )
                        ),
                    }
                )
            ),
        }
    ),
)

REPORT = component(
    "Report",
    obj(
        {
            "period": opt(s(32)),
            "status": STATUS,
            "comment": opt(s()),
            "cause": opt(s()),
            "reporter": s(64),
            "reported_at": TIME,
            "review": {"enum": ["pending", "accepted", "returned"]},
            "review_comment": opt(s()),
        }
    ),
)
DECISION = component(
    "Decision",
    obj(
        {
            "subject_type": s(32),
            "subject_id": INT,
            "body": {"enum": ["steering_group", "board"]},
            "decision": s(24),
            "rationale": s(),
            "decided_by": s(64),
            "on_behalf_of": opt(s(64)),
            "decided_at": TIME,
        }
    ),
)
DEVIATION_FIELDS: dict[str, Schema] = {
    "id": INT,
    "period": opt(s(32)),
    "level": STATUS,
    "cause": s(),
    "recommendation": opt(s()),
    "state": {"enum": list(deviations.STATES)},
    "opened_at": TIME,
    "escalated_at": opt(TIME),
    "decided_at": opt(TIME),
    "decisions": array(DECISION),
}
DEVIATION = component("Deviation", obj(DEVIATION_FIELDS))
EVENT = component(
    "AuditEvent",
    obj(
        {
            "seq": INT,
            "occurred_at": TIME,
            "actor": s(64),
            "on_behalf_of": opt(s(64)),
            "role": opt(s(32)),
            "action": s(64),
            "subject_type": s(32),
            "subject_id": s(64),
            "data": OBJECT,
            "reason": opt(s()),
            "hash": s(64),
        }
    ),
)
ACTIVITY_HISTORY = component(
    "ActivityHistory",
    obj(
        {
            "plan": s(64),
            "code": s(32),
            "title": s(300),
            "description": opt(s()),
            "owner": opt(s(64)),
            "office": opt(s(200)),
            "starts_on": opt(DATE),
            "ends_on": opt(DATE),
            "state": {"enum": ["active", "closed"]},
            "status": opt(STATUS),
            "demo": BOOL,
            "reports": array(REPORT),
            "deviations": array(DEVIATION),
            "proposals": array(
                obj(
                    {
                        "id": INT,
                        "title": opt(s(300)),
                        "state": s(16),
                        "why": opt(s()),
                        "created_at": TIME,
                    }
                )
            ),
            "events": array(EVENT),
            "version": VERSION,
        }
    ),
)

ACTIVITY_FACTS = {
    "title": s(activity_edits.TITLE_LIMIT),
    "owner": opt(USERNAME),
    "office": opt(s(activity_edits.OFFICE_LIMIT)),
    "starts_on": opt(DATE),
    "ends_on": opt(DATE),
}
ACTIVITY_EDIT = obj({"version": VERSION}, ACTIVITY_FACTS)  # inline: a body's fields are read from it
ACTIVITY_EDITED = component(
    "ActivityEdited",
    obj({"code": CODE, **ACTIVITY_FACTS, "version": VERSION, "changed": BOOL}),
)
# A started cycle and where a cycle stands: their schemas are their views' types (views.py).
CYCLE = component("Cycle", schema_of(cycles.CycleStarted))
CYCLE_CANCELLED = component("CycleCancelled", schema_of(cycles.CycleCancelled))
CYCLE_PROGRESS = component("CycleProgress", schema_of(cycleview.CycleProgress))
TASK_FIELDS: dict[str, Schema] = {
    "id": s(36),
    "name": s(64),
    "title": s(300),
    "process": s(64),
    "role": LANE,
    "activity_code": opt(s(32)),
    "activity_title": opt(s(300)),
    "focus_area": opt(INT),
    "period": opt(s(32)),
    "due": opt(DATE),
    "overdue": BOOL,
    "claimed": BOOL,
    "assignee": opt(s(64)),
    # A group's task, to claim; else one person's (services.authority.access.shared_tasks).
    "shared": BOOL,
    # A review's report: its colour and the start of its comment.
    "reported_status": opt(STATUS),
    "report_comment": opt(s(200)),
}
TASK = component("Task", obj(TASK_FIELDS))
INBOX = component("InboxPage", obj({"items": array(TASK), "next_cursor": opt(s(500))}))
TASK_DETAIL = component(
    "TaskDetail",
    obj(
        {
            **TASK_FIELDS,
            "form": {**OBJECT, "description": "The task's form: a JSON Schema 2020-12 (components form.*)."},
            "draft": OBJECT,
            "context": OBJECT,
            # The case beside the form (views.cases.Case): its schema is its view's type.
            "case": component("Case", schema_of(cases.Case)),
        }
    ),
)
COMPLETION = component(
    "Completion",
    obj(
        {
            "id": s(36),
            "name": s(64),
            "process": s(64),
            "completed": {"const": True},
            "completed_at": TIME,
            "completed_by": s(64),
            "on_behalf_of": opt(s(64)),
        }
    ),
)
QUEUE_ITEM = obj(
    {**DEVIATION_FIELDS, "activity_code": s(32), "activity_title": s(300), "task_id": opt(s(36))}
)
DEVIATIONS = component(
    "DeviationQueue",
    obj(
        {
            "plan": s(64),
            "items": array(component("QueuedDeviation", QUEUE_ITEM)),
            "counts": obj({state: INT for state in deviations.STATES}),
        }
    ),
)
STEERING_COMMENT = component("SteeringComment", schema_of(counsel.CommentView))
AWAITING_GROUP = component("AwaitingGroup", schema_of(steeringview.AwaitingGroup))
AUDIT_PAGE = component("AuditPage", obj({"items": array(EVENT), "next_cursor": opt(s(32))}))
VERIFICATION = component(  # trail_check.TrailCheck: its checkpoints.Integrity, and the records
    "Verification",
    obj(
        {
            "intact": BOOL,  # the trail intact and the records agree
            "verdict": {"type": "string", "enum": ["anchored", "unanchored", "unchecked", "broken"]},
            "events": INT,
            "first_bad": opt(INT),
            "problem": opt(s()),
            "chain_intact": BOOL,
            "key_available": BOOL,
            "key_id": opt(s(64)),
            "checkpoints": INT,
            "checkpoints_verified": INT,
            "anchored_seq": INT,
            "anchored_at": opt(TIME),
            "unanchored": INT,
            "records_agree": BOOL,
            "records_differing": INT,
            "differing_records": array(component("DifferingRecord", schema_of(trail_check.DifferingRecord))),
        }
    ),
)
HEAD = component("AuditHead", obj({"seq": INT, "hash": s(64)}))
ROLE = obj({"role": s(32), "plan": opt(s(64)), "focus_area": opt(INT), "activity": opt(s(32))})
ME = component(
    "Me",
    obj(
        {
            "username": s(64),
            "display_name": s(200),
            "email": s(254),
            "language": s(8),
            "office": opt(s(200)),
            "roles": array(ROLE),
            "substituting_for": array(s(64)),
            "may": array({"enum": [u.value for u in access.UseCase]}),
            "scopes": array(
                obj(
                    {
                        "use_case": {"enum": sorted(u.value for u in access.SCOPED_USE_CASES)},
                        "plan": s(64),
                        "focus_area": INT,
                    }
                )
            ),
            "lanes": array(LANE),
        }
    ),
)
USER = component(
    "User",
    obj(
        {
            "username": s(64),
            "display_name": s(200),
            "email": s(254),
            "language": s(8),
            "office": opt(s(200)),
            "active": BOOL,
            "demo": BOOL,
            "roles": array(ROLE),
        }
    ),
)
USERS = component("Users", obj({"items": array(USER)}))
SUBSTITUTION = component(
    "Substitution",
    obj({"id": INT, "absent": s(64), "substitute": s(64), "starts_on": DATE, "ends_on": opt(DATE)}),
)
SUBSTITUTIONS = component("Substitutions", obj({"items": array(SUBSTITUTION)}))
PROPOSAL = component("Proposal", obj({"id": INT, "state": s(16), "focus_area": INT, "title": opt(s(300))}))
FEEDBACK = component("DialogueFeedback", obj({"id": INT, "period": s(32), "given_at": TIME}))
ANNUAL_REPORT = component("AnnualReport", obj({"plan": s(64), "year": INT, "state": s(16)}))
OWNER = component("ActivityOwner", obj({"plan": s(64), "code": s(32), "owner": s(64)}))
REVOKED = component("Revoked", obj({"revoked": INT}))

TASK_DATA = {
    **OBJECT,
    "description": "The fields of the task's form (GET /tasks/{id}: `form`; every form is in "
    "components/schemas as form.<task>). Checked against that form; unknown fields are refused.",
}

TASK_IDS = {"type": "array", "items": s(36), "minItems": 1, "maxItems": reviews.ACCEPT_MOST}
REFUSED = obj({"id": s(36), "activity_code": opt(s(32)), "code": s(100), "detail": s()})
REVIEWS_ACCEPTED = component(
    "ReviewsAccepted",
    obj(
        {
            "accepted": array(obj({"id": s(36), "activity_code": opt(s(32))})),
            "refused": array(component("RefusedReview", REFUSED)),
        }
    ),
)
TOKEN = obj(
    {
        "id": INT,
        "username": s(64),
        "display_name": s(200),
        "created_at": TIME,
        "expires_at": opt(TIME),
        "last_used_at": opt(TIME),
    }
)
TOKENS = component("ApiTokens", obj({"items": array(TOKEN)}))
ROLE_CHOICE = obj(
    {
        "spec": s(100),
        "role": s(32),
        "plan": opt(s(64)),
        "plan_title": opt(s(300)),
        "focus_area": opt(INT),
        "focus_area_title": opt(s(300)),
    }
)
ROLE_CHOICES = component("RoleChoices", obj({"items": array(ROLE_CHOICE)}))
