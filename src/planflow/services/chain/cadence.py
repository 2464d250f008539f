"""The reporting cadence: which period's cycle is due to open on a day, and its deadline; the
scheduler opens it as the system, and starts the annual report in December."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ...i18n import Message
from ...models import AnnualReport, CycleState, Plan, ReportingCycle
from .. import workdays
from ..errors import Conflict, ServiceError
from ..records.audit import SYSTEM_ACTOR
from . import annual, cycles
from .timers import Transaction

# Months a period of each kind covers, and the letter its name carries (2026-Q4, 2026-T2, 2026-H1).
PERIOD_KINDS = {"quarter": 3, "tertial": 4, "half": 6, "month": 1}
LETTERS = {"quarter": "Q", "tertial": "T", "half": "H"}


@dataclass(frozen=True)
class Cadence:
    period: str  # quarter | tertial | half | month
    open_month: int  # the month of the period in which its cycle opens (1: its first)
    open_day: int
    deadline_month: int
    deadline_day: int
    # The schedule's own escalation days for the cycles it opens; None (the schedule names none):
    # the installation's ESCALATION_DAYS, as for a cycle started by hand.
    escalation_days: int | None = None

    @property
    def months(self) -> int:
        return PERIOD_KINDS[self.period]

    def periods(self, year: int) -> list[str]:
        if self.period == "month":
            return [f"{year}-{month:02d}" for month in range(1, 13)]
        return [f"{year}-{LETTERS[self.period]}{n}" for n in range(1, 12 // self.months + 1)]

    def period_of(self, day: date) -> str:
        if self.period == "month":
            return f"{day.year}-{day.month:02d}"
        return f"{day.year}-{LETTERS[self.period]}{(day.month - 1) // self.months + 1}"

    def month_of(self, period: str, nth: int) -> int:
        """The calendar month of the period's `nth` month."""
        return cycles.period_bounds(period)[0].month + nth - 1

    def opens_on(self, period: str) -> date:
        year = int(period[:4])
        return date(year, self.month_of(period, self.open_month), self.open_day)

    def deadline(self, period: str) -> date:
        """The period's deadline, moved to the working day before when it falls on a day off."""
        year = int(period[:4])
        month = self.month_of(period, self.deadline_month)
        day = min(self.deadline_day, calendar.monthrange(year, month)[1])
        return workdays.on_or_before(date(year, month, day))


def open_due_cycles(transaction: Transaction, cadence: Cadence, today: date) -> dict[str, Any]:
    """Open, in every plan, the cycle of the period `today` falls in once its opening day has come
    (cycles.start, as the system); finish any opening that stopped half-way. A plan whose previous
    cycle is not yet reported (one unfinished cycle per plan), or whose period's deadline has
    passed, is skipped with the reason. A period whose cycle was cancelled is not opened again:
    someone cancelled it on purpose, and a person starts it again (cycles.cancel)."""
    period = cadence.period_of(today)
    opened: list[str] = []
    skipped: list[dict[str, Any]] = []
    reports = 0
    if today >= cadence.opens_on(period):
        with transaction() as session:
            plans = session.execute(select(Plan.id, Plan.slug).order_by(Plan.id)).all()
        deadline = cadence.deadline(period)
        for plan_id, slug in plans:
            with transaction() as session:
                of_plan = session.scalars(
                    select(ReportingCycle).where(ReportingCycle.plan_id == plan_id)
                ).all()
            if any(c.period == period for c in of_plan):
                continue
            reason = _reason_to_skip(of_plan, slug, period, deadline, today)
            if reason is not None:
                skipped.append(reason.as_dict())
                continue
            try:
                started = cycles.start(
                    transaction, SYSTEM_ACTOR, period, deadline, cadence.escalation_days, slug
                )
            except Conflict:  # another process opened it first
                continue
            except ServiceError as exc:
                skipped.append(exc.message.as_dict())
                continue
            opened.append(f"{slug} {period}")
            reports += started.reports
    with transaction() as session:
        unfinished_openings = cycles.opening(session)
    for cycle_id in unfinished_openings:
        reports += cycles.open_all(transaction, cycle_id)
    summary: dict[str, Any] = {"cycles_opened": len(opened), "reports_started": reports}
    if opened:
        summary["opened"] = opened
    if skipped:
        summary["skipped"] = skipped
    return summary


def _reason_to_skip(
    of_plan: Sequence[ReportingCycle], slug: str, period: str, deadline: date, today: date
) -> Message | None:
    """Why a plan's cycle of `period` may not open now (`of_plan`: the plan's cycles), or None."""
    unfinished = [c.period for c in of_plan if c.state in (CycleState.OPENING, CycleState.OPEN)]
    if unfinished:
        return Message("job.skip.cycle_unfinished", {"plan": slug, "period": period, "open": unfinished[0]})
    if deadline < today:
        return Message(
            "job.skip.deadline_passed", {"plan": slug, "period": period, "deadline": deadline.isoformat()}
        )
    return None


def start_due_annual_reports(transaction: Transaction, month: int, day: int, today: date) -> dict[str, Any]:
    """From `month`-`day` to the end of the year, start every plan's report of the year (once)."""
    started: list[str] = []
    if (today.month, today.day) >= (month, day):
        with transaction() as session:
            missing = session.scalars(
                select(Plan.slug)
                .where(
                    ~select(AnnualReport.id)
                    .where(AnnualReport.plan_id == Plan.id, AnnualReport.year == today.year)
                    .exists()
                )
                .order_by(Plan.id)
            ).all()
        for slug in missing:
            try:
                with transaction() as session:
                    annual.start_annual_report(session, SYSTEM_ACTOR, today.year, slug)
            except Conflict:  # another process started it first
                continue
            started.append(f"{slug} {today.year}")
    summary: dict[str, Any] = {"annual_reports_started": len(started)}
    if started:
        summary["started"] = started
    return summary
