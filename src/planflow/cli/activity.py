"""`planflow activity`: an activity of a plan."""

from __future__ import annotations

import click

from ..services.authority import people
from ..services.records.audit import OPERATOR_ACTOR
from .base import PLAN_HELP, echo, in_transaction


@click.group()
def activity() -> None:
    """Activities of a plan."""


@activity.command("owner")
@click.argument("code")
@click.argument("username")
@click.option("--plan", "plan_slug", help=PLAN_HELP)
def activity_owner(code: str, username: str, plan_slug: str | None) -> None:
    """Make USERNAME the owner of activity CODE (the local operator's act, audited); its open
    reporting tasks follow the new owner."""
    in_transaction(
        lambda session: people.set_activity_owner(session, OPERATOR_ACTOR, code, username, plan_slug)
    )
    echo("cli.activity.owner_changed", code=code, username=username)
