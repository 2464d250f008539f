"""The diarienummer (case number) the municipality's registry gives a record: a cycle's steering
report, a decision of the steering group, the year's annual report. The process leader registers it
(or an admin); the documents print it and the archive keeps it. One function sets every kind, so the
same number is refused or kept alike from every front end, and the trail holds each setting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...engine.forms import CONTROL
from ...i18n import Message
from ...models import Activity, AnnualReport, DecidingBody, Decision, Deviation, ReportingCycle
from ...models.reporting import CASE_NUMBER_LENGTH
from ..authority import access
from ..authority.access import UseCase
from ..chain import cycles
from ..errors import InvalidInput, NotFound, quote
from ..plan import plans
from . import audit
from .audit import Actor

# What carries a case number, by the name the front ends and the trail use for it.
SUBJECTS = ("cycle", "decision", "annual_report")


@dataclass(frozen=True)
class CaseNumber:
    """A record's case number as set: which record, and the number (None: cleared)."""

    subject: str
    key: str  # the period, the decision's id or the year
    number: str | None


def checked(number: str) -> str | None:
    """The case number as it is kept (surrounding spaces dropped; blank clears it), or InvalidInput
    on the field `case_number`: one line of at most CASE_NUMBER_LENGTH characters."""
    kept = number.strip()
    problem = None
    if len(kept) > CASE_NUMBER_LENGTH:
        problem = Message("form.too_long", {"max": CASE_NUMBER_LENGTH})
    elif CONTROL.search(kept) or "\n" in kept or "\t" in kept:
        problem = Message("form.control_characters")
    if problem is not None:
        raise InvalidInput("error.case_number.invalid", fields={"case_number": problem}, number=quote(kept))
    return kept or None


def set_case_number(
    session: Session, actor: Actor, subject: str, key: str, number: str, plan_slug: str | None = None
) -> CaseNumber:
    """Register `number` as the case number of a cycle's steering report (`key` its period), a
    steering decision (its id) or an annual report (its year), in a plan; blank clears it. For the
    process leader or an admin, who issue the reports these numbers are printed on."""
    actor = access.require(session, actor, UseCase.ISSUE_REPORT)
    kept = checked(number)
    record = _record(session, subject, key, plan_slug)
    before = record.case_number
    record.case_number = kept
    audit.record(
        session,
        actor,
        "case_number.set",
        subject,
        key,
        {"record": record.id, "case_number": kept, "before": before},
    )
    return CaseNumber(subject, key, kept)


@dataclass(frozen=True)
class NumberedDecision:
    """A steering decision whose case number may be registered: which, on what, and its number."""

    id: int
    activity_code: str
    activity_title: str
    decision: str  # its decision.* key
    decided_at: datetime
    case_number: str | None


def cycle_decisions(
    session: Session, asking: Actor, period: str, plan_slug: str | None = None
) -> list[NumberedDecision]:
    """The steering group's decisions on the deviations of a plan's cycle, oldest first: those its
    steering report prints with their case numbers (the latest of each deviation), and any the group
    took before on the same deviations, which the registry may also have numbered."""
    access.require(session, asking, UseCase.READ_INTERNAL)
    cycle = cycles.get_cycle(session, period, plan_slug)
    rows = session.execute(
        select(Decision, Activity.code, Activity.title)
        .join(Deviation, Deviation.id == Decision.subject_id)
        .join(Activity, Activity.id == Deviation.activity_id)
        .where(
            Decision.subject_type == "deviation",
            Decision.body == DecidingBody.STEERING_GROUP,
            Deviation.cycle_id == cycle.id,
        )
        .order_by(Decision.id)
    ).all()
    return [
        NumberedDecision(d.id, code, title, d.decision, d.decided_at, d.case_number)
        for d, code, title in rows
    ]


def _record(
    session: Session, subject: str, key: str, plan_slug: str | None
) -> ReportingCycle | Decision | AnnualReport:
    """The record a case number is set on: a plan's cycle (the one its steering report is of) or
    annual report, or a decision of the steering group (its id names it in every plan)."""
    found: ReportingCycle | Decision | AnnualReport | None = None
    if subject == "cycle":
        return cycles.get_cycle(session, key, plan_slug)
    if subject == "annual_report" and key.isdigit():
        plan = plans.get_plan(session, plan_slug)
        found = session.scalar(
            select(AnnualReport).where(AnnualReport.plan_id == plan.id, AnnualReport.year == int(key))
        )
    elif subject == "decision" and key.isdigit():
        found = session.get(Decision, int(key))
        if found is not None and found.body is not DecidingBody.STEERING_GROUP:
            found = None
    elif subject not in SUBJECTS:
        raise InvalidInput("error.case_number.subject", subject=quote(subject), choices=", ".join(SUBJECTS))
    if found is None:
        raise NotFound("error.case_number.not_found", subject=quote(subject), key=quote(key))
    return found
