"""`planflow scheduler` (run the jobs, see their runs and the outbox) and `planflow tick` (run
everything due as of a time, now)."""

from __future__ import annotations

import logging
from datetime import datetime

import click

from .. import clock
from ..services import clockshift
from ..services.errors import ServiceError
from ..services.outputs import mailer
from ..services.records import jobruns
from .base import OneLineError, app, database, echo, language, reading, say
from .jobs import describe, jobs_context
from .params import Moment

# What a recorded run may have come to (jobruns.outcome_of), each worded by cli.scheduler.outcome.*.
OUTCOMES = ("done", "nothing", "skipped", "failed")


@click.group(invoke_without_command=True)
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Run the scheduler alone (production: one beside the web workers); `runs` and `outbox`
    show what it did and what mail waits."""
    if ctx.invoked_subcommand is not None:
        return
    from ..scheduling import SchedulerBusy, run_forever

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("planflow").setLevel(logging.INFO)  # the jobs' lines; others warn only
    with database() as db:
        jobs = jobs_context(db)
    try:
        run_forever(jobs)
    except SchedulerBusy as exc:
        raise OneLineError(str(exc)) from None


@scheduler.command("runs")
@click.option("--job", help="Only this job's runs.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 1000))
def scheduler_runs(job: str | None, limit: int) -> None:
    """The latest job runs, newest first: when, as of which time, what each did."""
    runs = reading(lambda session: jobruns.recent(session, limit, job))
    if not runs:
        echo("cli.scheduler.no_runs")
    outcomes = {outcome: say(f"cli.scheduler.outcome.{outcome}") for outcome in OUTCOMES}
    width = max(map(len, outcomes.values()))
    for run in runs:
        line = say(
            "cli.scheduler.run",
            finished=f"{run.finished_at:%Y-%m-%d %H:%M:%S}",
            job=f"{run.job:<20}",
            outcome=outcomes[run.outcome].ljust(width),
            as_of=f"{run.as_of:%Y-%m-%d %H:%M}",
            runner=run.runner,
            did=describe(run.summary, run.error),
        )
        click.echo(f"{line} {say('cli.scheduler.repeats', count=run.repeats)}" if run.repeats else line)


@scheduler.command("outbox")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 1000))
def scheduler_outbox(limit: int) -> None:
    """Mail that waits to be sent (no SMTP configured, or failing): to whom, tries, last error; and
    mail given up because it cannot be composed (fix the person's address, then queue it again)."""
    outbox = reading(lambda session: mailer.outbox(session, limit))
    waiting = say("cli.scheduler.waiting", count=outbox.waiting)
    click.echo(waiting if app().config["SMTP_HOST"] else f"{waiting} {say('cli.scheduler.no_smtp')}")
    for row in outbox.rows:
        line = say(
            "cli.scheduler.outbox_row",
            id=row.id,
            template=row.template,
            recipient=row.recipient,
            next=f"{row.next_attempt_at:%Y-%m-%d %H:%M}",
            attempts=row.attempts,
        )
        error = f"; {say('cli.scheduler.last_error', error=row.last_error)}" if row.last_error else ""
        click.echo(f"  {line}{error}")
    if outbox.failed:  # given up: they cannot be composed, so no attempt would ever send them
        click.echo(say("cli.scheduler.failed", count=len(outbox.failed)))
    for row in outbox.failed:
        line = say(
            "cli.scheduler.failed_row",
            id=row.id,
            template=row.template,
            recipient=row.recipient,
            queued=f"{row.queued_at:%Y-%m-%d %H:%M}",
        )
        click.echo(f"  {line}; {say('cli.scheduler.last_error', error=row.last_error)}")


@click.command()
@click.option(
    "--at", "at", type=Moment(), required=True, help="The time to move to, e.g. 2026-12-31T09:00 (UTC)."
)
def tick(at: datetime) -> None:
    """Travel in time: run everything due as of --at once (cycles, timers, reminders, escalations,
    the annual report, digests, mail) and say what it did. On a demo instance the shared clock
    moves there too, and a running serve and scheduler follow; elsewhere it stays."""
    from ..scheduling import tick as run_all

    with database() as db:
        jobs = jobs_context(db)
        try:
            with db.transaction() as session:
                clockshift.move(session, at)
            moved = say("cli.tick.moved", at=at.isoformat())
        except ServiceError as exc:
            moved = say("cli.tick.stays", at=at.isoformat(), reason=exc.render(language()))
        clock.set_now(at)
        runs = run_all(jobs)
    click.echo(moved)
    for run in runs:
        did = say("cli.tick.busy") if run.outcome == "busy" else describe(run.summary, run.error)
        click.echo(f"  {run.job}: {did}")
