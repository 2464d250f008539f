"""`planflow cycle`: reporting cycles."""

from __future__ import annotations

from datetime import date

import click

from ..services.chain import cycles
from .base import PLAN_HELP, as_user, database, echo, reading
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
    status-report task. Without --escalation-days, the installation's ESCALATION_DAYS (the
    service applies it, as for the page and the API)."""
    actor = reading(lambda session: as_user(session, username))
    with database() as db:  # cycles.start opens it batch by batch: no transaction holds the database long
        started = cycles.start(db.transaction, actor, period, deadline, escalation_days, plan_slug)
    echo("cli.cycle.started", period=period, count=started.reports, deadline=deadline.isoformat())
