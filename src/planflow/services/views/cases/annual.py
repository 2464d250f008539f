"""The cases of the annual report's tasks: the process leader compiles it, the steering group
approves it, the municipal board takes note. Each shows the report itself (its page and key
figures) and who did what when; the board's note its date and paragraph."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....models import AnnualReport, AuditEvent, Plan
from ...chain import annual
from ...plan import plans
from .. import history
from .builders import Task, builds, names_of
from .model import AnnualSection, Case, FormValue
from .returns import decision_returns, last

COMPILED_EVENTS = 20  # of a year's `annual_report.compiled` events, the last read to find its own


def _compiled_by(session: Session, report: AnnualReport) -> str | None:
    """Who compiled the report last: the event names the year, its data (since issue 18) the report."""
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == "annual_report.compiled",
            AuditEvent.subject_type == "annual_report",
            AuditEvent.subject_id == str(report.year),
        )
        .order_by(AuditEvent.seq.desc())
        .limit(COMPILED_EVENTS)
    ).all()
    mine = next((e for e in events if e.data.get("report", report.id) == report.id), None)
    return names_of(session, [mine.actor])[mine.actor] if mine is not None else None


def annual_section(session: Session, report: AnnualReport, plan: str) -> AnnualSection:
    # The figures the report prints, as compiled (none before it is).
    content = annual.compiled_content(report) if annual.has_figures(report) else None
    totals = content.totals if content else {}
    return AnnualSection(
        year=report.year,
        plan=plan,
        page=f"/reports/annual/{report.year}"
        + ("" if plan == plans.get_plan(session).slug else f"?plan={plan}"),
        state=report.state.value,
        summary=report.summary,
        activities=sum(totals.values()),
        green=totals.get("green", 0),
        yellow=totals.get("yellow", 0),
        red=totals.get("red", 0),
        unreported=totals.get("unreported", 0),
        completed=len(content.completed) if content else 0,
        decisions=content.decisions if content else 0,
        compiled_at=report.compiled_at,
        compiled_by=_compiled_by(session, report) if report.compiled_at else None,
        approved_at=report.approved_at,
        noted_at=report.noted_at,
        board_decided_on=report.board_decided_on,
        board_paragraph=report.board_paragraph,
        approvals=tuple(history.decisions_on(session, "annual_report", [report.id])),
        returns=tuple(decision_returns(session, "annual_report", report.id, "approve_annual_report")),
    )


@builds("compile_annual_report", "approve_annual_report", "board_note")
def annual_report(session: Session, task: Task, case: Case) -> Case:
    """The report (a link to its page, its figures), who compiled and approved it when; for the
    compiler, when the steering group returned it, why, and the form filled with the summary."""
    report = session.get(AnnualReport, task.subject_id)
    if report is None:
        return case
    plan = session.scalar(select(Plan.slug).where(Plan.id == report.plan_id)) or ""
    section = annual_section(session, report, plan)
    case = replace(case, plan=plan, subject_code=str(report.year), annual=section)
    if task.task.name != "compile_annual_report":
        return case
    returned = last(list(section.returns))
    if returned is None:
        return case
    sent = (FormValue("summary", report.summary),) if report.summary else ()
    return replace(case, returned=returned, sent_before=sent)
