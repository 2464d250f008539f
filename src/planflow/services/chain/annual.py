"""The annual report: in December the process leader compiles the status of all decided and
completed activities, the steering group approves it, the municipal board takes note."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import clock
from ...documents.content import AnnualReportContent, as_json, from_json
from ...i18n import Message
from ...models import AnnualReport, AnnualReportState, DecidingBody, Plan
from ..authority import access
from ..authority.access import UseCase
from ..errors import Conflict, InvalidInput
from ..outputs.reports import annual_report_content
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


def has_figures(report: AnnualReport) -> bool:
    """Whether the report was compiled with all its figures (not before issue 19 kept them all)."""
    return "totals" in report.snapshot


def compiled_content(report: AnnualReport) -> AnnualReportContent:
    """The report's content as it was compiled: the process leader's summary and the year's figures,
    frozen then, so that what the steering group approves, the board notes and an issue prints is the
    same, figure by figure, however the plan moves on. Where the report stands (its state, the
    group's approval, the board's note, its case number) is read from the report as it is now."""
    if not has_figures(report):
        raise Conflict("error.annual.compile_again", year=report.year)
    content = from_json(AnnualReportContent, report.snapshot)
    return replace(
        content,
        state=report.state.value,
        approved_on=clock.local(report.approved_at).date() if report.approved_at else None,
        board_decided_on=report.board_decided_on,
        board_paragraph=report.board_paragraph,
        case_number=report.case_number,
    )


def year_content(session: Session, plan: Plan, year: int, *, approved: bool = False) -> AnnualReportContent:
    """What a year's report says: once compiled, the content compiled (`compiled_content`); before,
    the year as the records say it now. `approved`: only a report the steering group has approved
    (an issue freezes what the group approved and the board notes, never a draft)."""
    report = session.scalar(
        select(AnnualReport).where(AnnualReport.plan_id == plan.id, AnnualReport.year == year)
    )
    if approved and (report is None or report.state not in APPROVED_STATES):
        raise Conflict("error.annual.not_approved", year=year, plan=plan.title)
    if report is None or report.state is AnnualReportState.COMPILING:
        return annual_report_content(session, plan, year)
    return compiled_content(report)


APPROVED_STATES = (AnnualReportState.APPROVED, AnnualReportState.NOTED)


@on_complete("compile_annual_report")
def _compiled(session: Session, step: Step, data: dict[str, Any]) -> None:
    report = step.subject(session, AnnualReport)
    plan = session.get(Plan, report.plan_id)
    assert plan is not None
    report.summary, report.state = data["summary"], AnnualReportState.COMPILED
    report.compiled_at = clock.now()
    content = annual_report_content(session, plan, report.year)
    report.snapshot = as_json(content)
    audit.record(
        session,
        step.actor,
        "annual_report.compiled",
        "annual_report",
        report.year,
        {
            "report": report.id,  # the year names it in one plan only; the case finds it by this
            "summary": data["summary"],
            "activities": sum(content.totals.values()),
            "decisions": content.decisions,
            # What the steering group is asked to approve, so the trail holds it (and verify
            # checks the record against it).
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
