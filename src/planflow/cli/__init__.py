"""The `planflow` command: thin wrappers that parse input, call a service and print the outcome,
every line in one language (`planflow --language`, else the configured DEFAULT_LANGUAGE).

A module per command group, each importing what the commands share from `base`; this module makes
the root group and adds theirs to it, so imports go one way: base ← groups ← here."""

from __future__ import annotations

import click

from ..i18n import LANGUAGES
from . import activity, annual_report, archive, audit, cycle, instance, plan, report, scheduler, users
from .base import OneLineGroup

__all__ = ["main"]


@click.group("planflow", cls=OneLineGroup)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    help="The language of every line printed (default: the configured DEFAULT_LANGUAGE).",
)
def main(language: str | None) -> None:
    """planflow: the action plan's follow-up as a workflow."""
    # The run's language is read where it is used (base.language), also by errors raised before
    # this runs.


for command in (
    instance.init,
    plan.plan,
    users.users,
    activity.activity,
    instance.serve,
    scheduler.scheduler,
    scheduler.tick,
    cycle.cycle,
    annual_report.annual_report,
    audit.audit,
    report.report,
    archive.archive,
):
    main.add_command(command)
