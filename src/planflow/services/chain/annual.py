"""The annual report: in December the process leader compiles the status of all decided and
completed activities, the steering group approves it, the municipal board takes note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import clock
from ...i18n import Message
from ...models import (
    Activity,
    ActivityState,
    AnnualReport,
    AnnualReportState,
    DecidingBody,
    Decision,
    Deviation,
    Plan,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import Conflict, InvalidInput
from ..plan import plans
from ..records import audit
from ..records.audit import Actor
from . import instances
from .steps import Step, on_complete, on_passed, start_process


def start_annual_report(
    session: Session, actor: Actor, year: int, plan_slug: str | None = None
) -> AnnualReport:
    """Open a plan's report of the year for the process leader to compile (once per year)."""
    actor = access.require(session, actor, UseCase.START_ANNUAL_REPORT)
    plan = plans.get_plan(session, plan_slug)
    if not clock.valid_year(year):
        raise InvalidInput(
            "error.annual.year",
            fields={"year": Message("form.out_of_range", {"limit": f"{clock.FIRST_YEAR}–{clock.LAST_YEAR}"})},
            year=year,
        )
    existing = select(AnnualReport.id).where(AnnualReport.plan_id == plan.id, AnnualReport.year == year)
    if session.scalar(existing) is not None:
        raise Conflict("error.annual.exists", year=year, plan=plan.title)
    report = AnnualReport(plan_id=plan.id, year=year, snapshot={}, state=AnnualReportState.COMPILING)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:  # another process started it between our check and our insert
        raise Conflict("error.annual.exists", year=year, plan=plan.title) from None
    audit.record(session, actor, "annual_report.started", "annual_report", year, {"plan": plan.slug})
    start_process(
        session,
        actor,
        "annual_report",
        instances.Subject(subject_type="annual_report", subject_id=report.id),
        {"year": year},
    )
    return report


@dataclass(frozen=True)
class AnnualReportView:
    """A started annual report and how far it has come (compiled, approved, noted by the board)."""

    year: int
    state: str
    compiled_at: datetime | None
    approved_at: datetime | None
    noted_at: datetime | None
    board_decided_on: date | None  # the board's decision, as its minutes record it
    board_paragraph: str | None


def list_reports(session: Session, plan: Plan) -> list[AnnualReportView]:
    """The plan's started annual reports, newest year first."""
    rows = session.scalars(
        select(AnnualReport).where(AnnualReport.plan_id == plan.id).order_by(AnnualReport.year.desc())
    )
    return [
        AnnualReportView(
            r.year,
            r.state.value,
            r.compiled_at,
            r.approved_at,
            r.noted_at,
            r.board_decided_on,
            r.board_paragraph,
        )
        for r in rows
    ]


def snapshot(session: Session, plan_id: int, year: int) -> dict[str, Any]:
    """Every activity's status, and every decision of the year on a deviation: what the board reads.
    The year is the installation's local year, as in the report's content (clock.year_span)."""
    start, end = clock.year_span(year)
    activities = session.scalars(
        select(Activity).where(Activity.plan_id == plan_id).order_by(Activity.id)
    ).all()
    decided = session.execute(
        select(Decision, Deviation)
        .join(Deviation, (Decision.subject_type == "deviation") & (Decision.subject_id == Deviation.id))
        .join(Activity, Activity.id == Deviation.activity_id)
        .where(
            Activity.plan_id == plan_id,
            Decision.decided_at >= start,
            Decision.decided_at < end,
            Decision.decision != "return",
        )
        .order_by(Decision.id)
    ).all()
    return {
        "year": year,
        "activities": [
            {
                "code": a.code,
                "title": a.title,
                "status": a.status.value if a.status else None,
                "completed": a.state is ActivityState.CLOSED,
            }
            for a in activities
        ],
        "decisions": [
            {
                "deviation": deviation.id,
                "activity": deviation.activity.code,
                "decision": decision.decision,
                "rationale": decision.rationale,
                "decided_on": clock.local(decision.decided_at).date().isoformat(),
            }
            for decision, deviation in decided
        ],
    }


@on_complete("compile_annual_report")
def _compiled(session: Session, step: Step, data: dict[str, Any]) -> None:
    report = step.subject(session, AnnualReport)
    report.summary, report.snapshot = data["summary"], snapshot(session, report.plan_id, report.year)
    report.state, report.compiled_at = AnnualReportState.COMPILED, clock.now()
    audit.record(
        session,
        step.actor,
        "annual_report.compiled",
        "annual_report",
        report.year,
        {
            "report": report.id,  # the year names it in one plan only; the case finds it by this
            "summary": data["summary"],
            "activities": len(report.snapshot["activities"]),
            "decisions": len(report.snapshot["decisions"]),
            "snapshot_sha256": audit.content_sha256(report.snapshot),
            "compiled_at": report.compiled_at.isoformat(),
        },
    )


@on_complete("approve_annual_report")
def _answered(session: Session, step: Step, data: dict[str, Any]) -> None:
    report = step.subject(session, AnnualReport)
    step.decide(
        session,
        DecidingBody.STEERING_GROUP,
        "annual_report",
        report.id,
        data["outcome"],
        data.get("comment") or "",
    )


@on_passed("annual_report_returned")
def _returned(session: Session, step: Step) -> None:
    report = step.subject(session, AnnualReport)
    report.state, report.approved_at = AnnualReportState.COMPILING, None
    step.send_back(step.data.get("comment"))
    audit.record(
        session,
        step.actor,
        "annual_report.returned",
        "annual_report",
        report.year,
        {"report": report.id},
        step.data.get("comment"),
    )


@on_passed("annual_report_approved")
def _approved(session: Session, step: Step) -> None:
    report = step.subject(session, AnnualReport)
    report.state, report.approved_at = AnnualReportState.APPROVED, clock.now()
    audit.record(
        session,
        step.actor,
        "annual_report.approved",
        "annual_report",
        report.year,
        {"report": report.id, "approved_at": report.approved_at.isoformat()},
        step.data.get("comment"),
    )


@on_complete("board_note")
def _board_noted(session: Session, step: Step, data: dict[str, Any]) -> None:
    """The board's secretary records the board's decision as its minutes do: the meeting's date
    and the §. The decision's rationale stays the secretary's comment; the date and the § are the
    report's (and the audit event's), where the report and its documents read them."""
    report = step.subject(session, AnnualReport)
    decided_on = date.fromisoformat(data["decided_on"])
    if not clock.valid_year(decided_on.year):
        limits = f"{clock.FIRST_YEAR}–{clock.LAST_YEAR}"
        raise InvalidInput(
            "error.annual.decided_on",
            fields={"decided_on": Message("form.out_of_range", {"limit": limits})},
            date=data["decided_on"],
        )
    report.board_decided_on, report.board_paragraph = decided_on, data["paragraph"].strip()
    step.decide(session, DecidingBody.BOARD, "annual_report", report.id, "noted", data.get("comment") or "")


@on_passed("annual_report_noted")
def _noted(session: Session, step: Step) -> None:
    report = step.subject(session, AnnualReport)
    report.state, report.noted_at = AnnualReportState.NOTED, clock.now()
    decided_on = report.board_decided_on.isoformat() if report.board_decided_on else None
    audit.record(
        session,
        step.actor,
        "annual_report.noted",
        "annual_report",
        report.year,
        {
            "report": report.id,
            "decided_on": decided_on,
            "paragraph": report.board_paragraph,
            "noted_at": report.noted_at.isoformat(),
        },
        step.data.get("comment"),
    )
