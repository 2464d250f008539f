"""`planflow cycle`: reporting cycles."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy.orm import Session

from ..services import cycles
from .base import PLAN_HELP, app, as_user, database, echo, in_transaction
from .params import CalendarDate


@click.group()
def cycle() -> None:
    """Reporting cycles."""


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
    status-report task."""
    # TODO(issue 17): the configured ESCALATION_DAYS is applied here; cycles.start_cycle should
    # apply it itself (the page and the API do not), and the command pass only --escalation-days.
    days = app().config["ESCALATION_DAYS"] if escalation_days is None else escalation_days

    def start(session: Session) -> int:
        return cycles.start_cycle(session, as_user(session, username), period, deadline, days, plan_slug).id

    cycle_id = in_transaction(start)
    # TODO(issue 17): a cycle's start and its opening are one use case; the service should run
    # its own batches (the page, the API and the scheduler repeat these two steps).
    with database() as db:  # the reports, batch by batch: no transaction holds the database long
        count = cycles.open_all(db.transaction, cycle_id)
    echo("cli.cycle.started", period=period, count=count, deadline=deadline.isoformat())
