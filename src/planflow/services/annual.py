"""The annual report: in December the process leader compiles the status of all decided and
completed activities, the steering group approves it, the municipal board takes note."""

from __future__ import annotations

from typing import Any

from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from .. import clock
from ..models import Activity, ActivityState, AnnualReport, Decision, Deviation
from . import audit, instances
from .audit import Actor
from .errors import Conflict, InvalidInput
from .steps import Step, on_complete, start_process


def start_annual_report(session: Session, actor: Actor, year: int) -> AnnualReport:
    """Open the year's report for the process leader to compile (once per year)."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"year {year} is out of range")
    if session.scalar(select(AnnualReport.id).where(AnnualReport.year == year)) is not None:
        raise Conflict(f"the annual report for {year} is already under way")
    report = AnnualReport(year=year, snapshot={}, state="compiling")
    session.add(report)
    session.flush()
    audit.record(session, actor, "annual_report.started", "annual_report", year)
    start_process(
        session,
        actor,
        "annual_report",
        instances.Subject(subject_type="annual_report", subject_id=report.id),
        {"year": year},
    )
    return report


def snapshot(session: Session, year: int) -> dict[str, Any]:
    """Every activity's status, and every decision of the year on a deviation: what the board reads."""
    activities = session.scalars(select(Activity).order_by(Activity.id)).all()
    decided = session.execute(
        select(Decision, Deviation)
        .join(Deviation, (Decision.subject_type == "deviation") & (Decision.subject_id == Deviation.id))
        .where(extract("year", Decision.decided_at) == year, Decision.decision != "return")
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
                "decided_on": decision.decided_at.date().isoformat(),
            }
            for decision, deviation in decided
        ],
    }


@on_complete("compile_annual_report")
def _compiled(session: Session, step: Step, data: dict[str, Any]) -> None:
    report = step.subject(session, AnnualReport)
    report.summary, report.snapshot = data["summary"], snapshot(session, report.year)
    report.state, report.compiled_at = "compiled", clock.now()
    audit.record(
        session,
        step.actor,
        "annual_report.compiled",
        "annual_report",
        report.year,
        {
            "summary": data["summary"],
            "activities": len(report.snapshot["activities"]),
            "decisions": len(report.snapshot["decisions"]),
        },
    )


@on_complete("approve_annual_report")
def _approved(session: Session, step: Step, data: dict[str, Any]) -> None:
    report = step.subject(session, AnnualReport)
    approved = data["outcome"] == "approve"
    report.state = "approved" if approved else "compiling"
    report.approved_at = clock.now() if approved else None
    step.decide(session, "annual_report", report.id, data["outcome"], data.get("comment") or "")
    action = "annual_report.approved" if approved else "annual_report.returned"
    audit.record(session, step.actor, action, "annual_report", report.year, data, data.get("comment"))


@on_complete("board_note")
def _noted(session: Session, step: Step, data: dict[str, Any]) -> None:
    report = step.subject(session, AnnualReport)
    report.state, report.noted_at = "noted", clock.now()
    audit.record(
        session, step.actor, "annual_report.noted", "annual_report", report.year, data, data.get("comment")
    )
