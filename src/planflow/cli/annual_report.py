"""`planflow annual-report`: the annual report's process."""

from __future__ import annotations

import click

from ..services.chain import annual
from .base import PLAN_HELP, as_user, echo, in_transaction


@click.group("annual-report")
def annual_report() -> None:
    """The annual report to the municipal board."""


@annual_report.command("start")
@click.option("--year", required=True, type=int)
@click.option("--plan", "plan_slug", help=PLAN_HELP)
@click.option("--as", "username", required=True, help="Who starts it: a process leader or an admin.")
def annual_report_start(year: int, plan_slug: str | None, username: str) -> None:
    """Open the year's report for the process leader to compile."""
    in_transaction(
        lambda session: annual.start_annual_report(session, as_user(session, username), year, plan_slug)
    )
    echo("cli.annual_report.started", year=year)
