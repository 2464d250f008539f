"""`planflow cycle`: reporting cycles."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy.orm import Session

from ..services.chain import cycles
from ..services.records.audit import OPERATOR_ACTOR
from ..services.views import cycleview, plain
from .base import PLAN_HELP, as_user, database, echo, print_json, reading, say
from .params import CalendarDate


@click.group()
def cycle() -> None:
    """Reporting cycles."""


@cycle.command("list")
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--as", "username", help="Read as this user (default: the local operator).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cycle_list(plan_slug: str | None, username: str | None, as_json: bool) -> None:
    """A plan's cycles, the latest first: which one is open, its deadline, and those cancelled.
    The schedule opens each period's cycle by itself; this shows whether it has."""

    def read(session: Session) -> list[cycleview.CycleListed]:
        reader = as_user(session, username) if username else OPERATOR_ACTOR
        return cycleview.list_cycles(session, reader, plan_slug)

    listed = reading(read)
    if as_json:
        print_json(plain.to_json(listed))
        return
    if not listed:
        echo("cli.cycle.none")
    for row in listed:
        state = say(f"ui.cycle.state.{row.state.value}")
        echo("cli.cycle.listed", period=row.period, state=state, deadline=row.deadline.isoformat())


@cycle.command("start")
@click.option("--period", required=True, help="e.g. 2026-Q4")
@click.option("--deadline", required=True, type=CalendarDate(), help="YYYY-MM-DD")
@click.option("--escalation-days", type=int, help="Days before a red deviation without decision escalates.")
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--as", "username", required=True, help="Who starts it: a process leader or an admin.")
def cycle_start(
    period: str, deadline: date, escalation_days: int | None, plan_slug: str | None, username: str
) -> None:
    """Open a reporting cycle: the owner of every activity running in the period gets a
    status-report task. Without --escalation-days, the installation's ESCALATION_DAYS (the
    service applies it, as for the page and the API). The schedule opens each period's cycle by
    itself on its opening day: see `planflow cycle list` first."""
    actor = reading(lambda session: as_user(session, username))
    with database() as db:  # cycles.start opens it batch by batch: no transaction holds the database long
        started = cycles.start(db.transaction, actor, period, deadline, escalation_days, plan_slug)
    echo("cli.cycle.started", period=period, count=started.reports, deadline=deadline.isoformat())


@cycle.command("cancel")
@click.option("--period", required=True, help="e.g. 2027-01")
@click.option(
    "--reason", required=True, help="Why it is cancelled (kept with the cycle and in the audit trail)."
)
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--as", "username", required=True, help="Who cancels it: a process leader or an admin.")
def cycle_cancel(period: str, reason: str, plan_slug: str | None, username: str) -> None:
    """Cancel a cycle started by mistake, while nothing of it is reported: its tasks leave the
    inboxes, nobody is sent anything, and the period may be started again."""
    actor = reading(lambda session: as_user(session, username))
    with database() as db:
        cancelled = cycles.cancel(db.transaction, actor, period, reason, plan_slug)
    echo("cli.cycle.cancelled", period=period, count=cancelled.tasks_withdrawn)
