"""The `planflow` command: thin wrappers that parse input, call a service and print the outcome."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from . import audit_keys, clock, migrate
from .app import create_app
from .db import EXTENSION, Database, get_db
from .i18n import LANGUAGES
from .services import (
    annual,
    calendar_feed,
    checkpoints,
    clockshift,
    cycles,
    instances,
    jobruns,
    mailer,
    notices,
    people,
    plans,
)
from .services import demo as demo_data
from .services.audit import OPERATOR_ACTOR, Actor
from .services.errors import ServiceError, quote

T = TypeVar("T")
# The years a time or date given on the command line may fall in: anything else is a typo.
YEARS = (clock.FIRST_YEAR, clock.LAST_YEAR)


@contextmanager
def _usage_in_one_line() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        if exc.ctx is None or type(exc).show is not click.UsageError.show:
            raise  # already one line, or the help a bare `planflow` shows
        raise click.UsageError(f"{exc.format_message()} (see `{exc.ctx.command_path} --help`)") from None


class _OneLineErrors(click.Group):
    """The `planflow` group: a usage error is one line too, like every other error."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _usage_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_in_one_line():
            return super().invoke(ctx)


class _CalendarDate(click.ParamType):
    """A YYYY-MM-DD date that is in the calendar and in the years planflow works with."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            self.fail(f"{_quoted(value)} is not a date such as 2026-12-15", param, ctx)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(f"{_quoted(value)} is not a date in the calendar", param, ctx)
        if not YEARS[0] <= day.year <= YEARS[1]:
            self.fail(f"{_quoted(value)} is outside the years {YEARS[0]} to {YEARS[1]}", param, ctx)
        return day


def _app() -> Flask:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        try:
            root.obj = create_app()
        except ValueError as exc:  # configuration errors
            raise click.ClickException(str(exc)) from None
        root.call_on_close(root.obj.extensions[EXTENSION].dispose)
    app: Flask = root.obj
    return app


@contextmanager
def _database(initialised: bool = True) -> Iterator[Database]:
    """The app's database inside an app context, with database and service errors as one line;
    unless `initialised` is False (init), a database `planflow init` has not made is refused."""
    app = _app()
    with app.app_context():
        database = get_db()
        url = database.url.render_as_string(hide_password=True)
        try:
            problem = migrate.problem(database.read_engine) if initialised else None
            if problem:
                raise click.ClickException(f"the database at {url} {problem}")
            yield database
        except ServiceError as exc:
            raise click.ClickException(exc.render(app.config["DEFAULT_LANGUAGE"])) from None
        except IntegrityError as exc:  # a unique key: a racing command wrote the same thing first
            raise click.ClickException(
                f"conflict: someone else made this change at the same moment ({_first_line(exc)});"
                " nothing was changed"
            ) from None
        except (OperationalError, DBAPIError) as exc:
            raise click.ClickException(f"cannot use the database at {url}: {_first_line(exc)}") from None


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig).strip() if exc.orig else str(exc)
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:160] + "…"


def _in_transaction(work: Callable[[Session], T]) -> T:
    with _database() as database, database.transaction() as session:
        return work(session)


def _reading(work: Callable[[Session], T]) -> T:
    with _database() as database, database.reading() as session:
        return work(session)


def _quoted(text: str) -> str:
    """Someone's input in a message: a short prefix, quoted."""
    return repr(quote(text))


@click.group(cls=_OneLineErrors)
def main() -> None:
    """planflow: the action plan's follow-up as a workflow."""


@main.command()
@click.option("--demo", is_flag=True, help="Also create demo users for every role and demo owners.")
@click.option(
    "--plan", "plan_file", type=click.Path(path_type=Path), help="Plan data file (default: the seed plan)."
)
def init(demo: bool, plan_file: Path | None) -> None:
    """Create or upgrade the database and load a plan (the seed plan, or --plan FILE next to the
    plans already there); running it again changes nothing. Runs as the local operator."""
    with _database(initialised=False) as database:
        document = plans.read_plan_document(plan_file)
        before = migrate.current_revision(database.engine)
        migrate.upgrade(database.engine)
        with database.transaction() as session:
            instances.store_specs(session)
            loaded = plans.load_plan(session, OPERATOR_ACTOR, document)
            accounts = demo_data.create_demo_data(session) if demo else []
    changes = []
    if before != migrate.head_revision():
        changes.append(f"database migrated to {migrate.head_revision()}")
    if loaded:
        changes.append(f"plan loaded: {document['title']}")
    if accounts:
        changes.append(f"{len(accounts)} demo accounts created")
    if not changes:
        click.echo("Nothing to do: the database is up to date and the plan is loaded.")
        return
    click.echo("; ".join(changes) + ".")
    if accounts:
        click.echo("Demo accounts (demo data; the passwords are shown only now):")
        for username, password in accounts:
            click.echo(f"  {username:<18} {password}")


@main.group()
def plan() -> None:
    """The plan."""


@plan.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json", show_default=True)
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The file (needed for xlsx).")
def plan_export(fmt: str, plan_slug: str | None, out: Path | None) -> None:
    """Print the plan tree (JSON), or write it as an Excel workbook that `plan import` reads back."""
    if fmt == "xlsx":
        from .cli_reports import export_xlsx

        export_xlsx(out, plan_slug)
        return
    tree = _reading(lambda session: plans.export_plan(session, plan_slug))
    if tree is None:
        raise click.ClickException("no plan is loaded: run `planflow init` first")
    _print_json(tree)


@main.group()
def users() -> None:
    """Users, roles and API tokens: the local operator's administration, audited as such."""


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def users_list(as_json: bool) -> None:
    """List users with their roles and scopes."""
    rows = _reading(people.list_users)
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        roles = ", ".join(_role_text(r) for r in row["roles"]) or "-"
        demo_mark = " [demo]" if row["demo"] else ""
        click.echo(f"{row['username']:<18} {row['display_name']}{demo_mark}: {roles}")


def _role_text(role: dict[str, Any]) -> str:
    scope = role["activity"] or role["focus_area"]
    return f"{role['role']}:{scope}" if scope is not None else role["role"]


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--email", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="ROLE, ROLE:<focus area> (focus_area_lead:3), activity_owner:<code> (activity_owner:1.1.1);"
    " a scope in another plan as ROLE:<plan>/<scope>; repeatable.",
)
@click.option("--language", type=click.Choice(LANGUAGES), default="sv", show_default=True)
@click.option("--office")
@click.option("--password", help="Sets a login password (or use `users password` later).")
def users_add(
    username: str,
    display_name: str,
    email: str,
    roles: tuple[str, ...],
    language: str,
    office: str | None,
    password: str | None,
) -> None:
    """Add a user."""

    def add(session: Session) -> None:
        specs = [people.RoleSpec.parse(text) for text in roles]
        people.add_user(
            session, OPERATOR_ACTOR, username, display_name, email, specs, password, language, office
        )

    _in_transaction(add)
    click.echo(f"User {username} added.")


@users.command("password")
@click.argument("username")
@click.password_option()
def users_password(username: str, password: str) -> None:
    """Set a user's login password."""
    _in_transaction(lambda session: people.set_password(session, OPERATOR_ACTOR, username, password))
    click.echo(f"Password of {username} set.")


@users.command("token")
@click.argument("username")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Valid for this many days.")
def users_token(username: str, expires_days: int | None) -> None:
    """Print a new API bearer token for USERNAME (shown once; stored hashed)."""
    click.echo(
        _in_transaction(lambda session: people.issue_token(session, OPERATOR_ACTOR, username, expires_days))
    )


@users.command("revoke-tokens")
@click.argument("username")
def users_revoke_tokens(username: str) -> None:
    """Revoke every API token of USERNAME."""
    count = _in_transaction(lambda session: people.revoke_tokens(session, OPERATOR_ACTOR, username))
    click.echo(f"{count} token(s) revoked.")


@users.command("grant")
@click.argument("username")
@click.argument("role")
def users_grant(username: str, role: str) -> None:
    """Give USERNAME a ROLE (as for `users add --role`)."""

    def grant(session: Session) -> None:
        people.grant_role(
            session, OPERATOR_ACTOR, people.get_user(session, username), people.RoleSpec.parse(role)
        )

    _in_transaction(grant)
    click.echo(f"{username}: {role} granted.")


@users.command("revoke")
@click.argument("username")
@click.argument("role")
def users_revoke(username: str, role: str) -> None:
    """Take ROLE from USERNAME; the right to act on tasks ends at once."""
    count = _in_transaction(
        lambda session: people.revoke_role(session, OPERATOR_ACTOR, username, people.RoleSpec.parse(role))
    )
    click.echo(f"{username}: {role} revoked ({count}).")


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Stop USERNAME from signing in and acting (nothing is deleted)."""
    _in_transaction(lambda session: people.set_active(session, OPERATOR_ACTOR, username, False))
    click.echo(f"{username} deactivated.")


@users.command("mail")
@click.argument("username")
@click.option(
    "--delivery",
    type=click.Choice(["digest", "immediate", "off"]),
    required=True,
    help="digest: one mail a day (escalations at once); immediate: every notice at once; off: inbox only.",
)
def users_mail(username: str, delivery: str) -> None:
    """How USERNAME's notices reach them by mail."""
    _in_transaction(lambda session: notices.set_mail_delivery(session, OPERATOR_ACTOR, username, delivery))
    click.echo(f"{username}: mail {delivery}.")


@users.command("calendar")
@click.argument("username")
def users_calendar(username: str) -> None:
    """Print a new calendar feed address for USERNAME (the old one stops working): the deadlines of
    their tasks and the steering meetings, for Outlook or any calendar to subscribe to."""
    secret = _in_transaction(lambda session: calendar_feed.rotate_secret(session, OPERATOR_ACTOR, username))
    click.echo(f"{_app().config['BASE_URL'].rstrip('/')}/calendar/{secret}.ics")


@main.group()
def activity() -> None:
    """Activities of a plan."""


@activity.command("owner")
@click.argument("code")
@click.argument("username")
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
def activity_owner(code: str, username: str, plan_slug: str | None) -> None:
    """Make USERNAME the owner of activity CODE (the local operator's act, audited); its open
    reporting tasks follow the new owner."""
    _in_transaction(
        lambda session: people.set_activity_owner(session, OPERATOR_ACTOR, code, username, plan_slug)
    )
    click.echo(f"Activity {code}: owner is now {username}.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
def serve(host: str, port: int) -> None:
    """Serve the web front end (and, embedded, the scheduler)."""
    from waitress import create_server

    from .scheduling import start_embedded

    app = _app()
    if host in ("127.0.0.1", "localhost", "::1"):  # local development over plain HTTP
        app.config["SESSION_COOKIE_SECURE"] = False
    with _database():
        pass  # refuse an unreachable or uninitialised database rather than serve errors
    try:  # take the port before anything starts, so that a busy one is said in one line
        server = create_server(app, host=host, port=port, threads=8)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise click.ClickException(f"cannot serve on {_quoted(host)} port {port}: {reason}") from None
    logging.basicConfig()  # waitress's warnings, as waitress.serve() shows them
    database = app.extensions[EXTENSION]
    enabled = app.config["SCHEDULER_ENABLED"]
    scheduler = None
    if enabled:
        from .scheduling import SchedulerBusy, context

        try:
            scheduler = start_embedded(_scheduler_context(context, database))
        except SchedulerBusy as exc:
            server.close()
            raise click.ClickException(str(exc)) from None
    click.echo(f"planflow serves http://{host}:{getattr(server, 'effective_port', port)}/  (Ctrl-C stops)")
    try:
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def _scheduler_context(make: Callable[..., Any], database: Database) -> Any:
    """The jobs' context: the schedule refused in one line when it is wrong."""
    from .scheduling import ScheduleError

    try:
        return make(database, _app().config, _signing_key())
    except ScheduleError as exc:
        raise click.ClickException(str(exc)) from None


@main.group(invoke_without_command=True)
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Run the scheduler alone (production: one beside the web workers); `runs` and `outbox`
    show what it did and what mail waits."""
    if ctx.invoked_subcommand is not None:
        return
    from .scheduling import SchedulerBusy, context, run_forever

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("planflow").setLevel(logging.INFO)  # the jobs' lines; others warn only
    with _database() as database:
        jobs = _scheduler_context(context, database)
    try:
        run_forever(jobs)
    except SchedulerBusy as exc:
        raise click.ClickException(str(exc)) from None


@scheduler.command("runs")
@click.option("--job", help="Only this job's runs.")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 1000))
def scheduler_runs(job: str | None, limit: int) -> None:
    """The latest job runs, newest first: when, as of which time, what each did."""
    language = _app().config["DEFAULT_LANGUAGE"]

    def lines(session: Session) -> list[str]:
        return [
            f"{run.finished_at:%Y-%m-%d %H:%M:%S} {run.job:<20} {run.outcome:<8}"
            f" as of {run.as_of:%Y-%m-%d %H:%M} {run.runner}: {_describe(run.summary, run.error, language)}"
            + (f" (and {run.repeats} more time(s) alike)" if run.repeats else "")
            for run in jobruns.recent(session, limit, job)
        ]

    for line in _reading(lines) or ["No job has run yet."]:
        click.echo(line)


@scheduler.command("outbox")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 1000))
def scheduler_outbox(limit: int) -> None:
    """Mail that waits to be sent (no SMTP configured, or failing): to whom, tries, last error."""
    from sqlalchemy import select

    from .models import Notice, User

    def lines(session: Session) -> list[str]:
        rows = session.execute(
            select(Notice, User.username)
            .join(User, User.id == Notice.recipient_id)
            .where(Notice.sent_at.is_(None), Notice.next_attempt_at.is_not(None))
            .order_by(Notice.next_attempt_at, Notice.id)
            .limit(limit)
        ).all()
        total = mailer.waiting(session)
        out = [
            f"{total} mail(s) waiting"
            + ("" if _app().config["SMTP_HOST"] else " (no PLANFLOW_SMTP_HOST set)")
        ]
        for notice, username in rows:
            error = f"; last error: {notice.last_error}" if notice.last_error else ""
            out.append(
                f"  #{notice.id} {notice.template} to {username},"
                f" next try {notice.next_attempt_at:%Y-%m-%d %H:%M}, {notice.attempts} attempt(s){error}"
            )
        return out

    for line in _reading(lines):
        click.echo(line)


LABELS = {
    "cycles_opened": "cycle(s) opened",
    "reports_started": "status report(s) started",
    "timers_fired": "timer(s) fired",
    "deviations_escalated": "red deviation(s) escalated",
    "reminders": "reminder(s) queued",
    "overdue_reminders": "overdue reminder(s) queued",
    "escalated_to_lead": "overdue task(s) escalated to the lead",
    "escalated_to_process_leader": "overdue task(s) escalated to the process leader",
    "annual_reports_started": "annual report(s) started",
    "digests": "digest(s) made",
    "mails_sent": "mail(s) sent",
    "mails_failed": "mail(s) failed (tried again later)",
    "mails_waiting": "mail(s) waiting",
    "anchored_through": "audit chain anchored through event",
}


def _describe(summary: dict[str, Any], error: str | None, language: str) -> str:
    from .i18n import text

    parts = []
    for key, value in summary.items():
        if key in LABELS:
            parts.append(f"{LABELS[key]} {value}" if key == "anchored_through" else f"{value} {LABELS[key]}")
        elif key in ("opened", "started"):
            parts.append(f"({', '.join(value)})")
        elif key == "skipped":
            parts.extend(f"skipped: {text(language, m['key'], m.get('params'))}" for m in value)
    if error:
        parts.append(f"failed: {error}")
    return ", ".join(parts) or "nothing due"


@main.command()
@click.option("--at", "moment", required=True, help="The time to move to, e.g. 2026-12-31T09:00 (UTC).")
def tick(moment: str) -> None:
    """Travel in time: run everything due as of --at once (cycles, timers, reminders, escalations,
    the annual report, digests, mail) and say what it did. On a demo instance the shared clock
    moves there too, and a running serve and scheduler follow; elsewhere it stays."""
    from .scheduling import context
    from .scheduling import tick as run_all

    at = _parse_time(moment)
    language = _app().config["DEFAULT_LANGUAGE"]
    with _database() as database:
        jobs = _scheduler_context(context, database)
        try:
            with database.transaction() as session:
                clockshift.move(session, at)
            moved = "the shared clock moved: a running serve and scheduler follow"
        except ServiceError as exc:
            moved = f"the shared clock stays: {exc.render(language)}"
        clock.set_now(at)
        runs = run_all(jobs)
    click.echo(f"{at.isoformat()}: {moved}.")
    for run in runs:
        did = (
            "running in another scheduler now"
            if run.outcome == "busy"
            else _describe(run.summary, run.error, language)
        )
        click.echo(f"  {run.job}: {did}")


def _parse_time(text: str, option: str = "--at") -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"{_quoted(text)} is not an ISO time such as 2026-12-31T09:00"
        raise click.BadParameter(message, param_hint=f"'{option}'") from None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        message = f"{_quoted(text)} is outside the years {YEARS[0]} to {YEARS[1]}"
        raise click.BadParameter(message, param_hint=f"'{option}'")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as(session: Session, username: str) -> Actor:
    """The named user, who is refused like anyone else if they may not do what is asked."""
    return Actor(people.get_user(session, username))


@main.group()
def cycle() -> None:
    """Reporting cycles."""


@cycle.command("start")
@click.option("--period", required=True, help="e.g. 2026-Q4")
@click.option("--deadline", required=True, type=_CalendarDate(), help="YYYY-MM-DD")
@click.option("--escalation-days", type=int, help="Days before a red deviation without decision escalates.")
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
@click.option("--as", "username", required=True, help="Who starts it: a process leader or an admin.")
def cycle_start(
    period: str, deadline: date, escalation_days: int | None, plan_slug: str | None, username: str
) -> None:
    """Open a reporting cycle: the owner of every activity running in the period gets a
    status-report task."""
    days = _app().config["ESCALATION_DAYS"] if escalation_days is None else escalation_days

    def start(session: Session) -> int:
        return cycles.start_cycle(session, _as(session, username), period, deadline, days, plan_slug).id

    cycle_id = _in_transaction(start)
    with _database() as database:  # the reports, batch by batch: no transaction holds the database long
        count = cycles.open_all(database.transaction, cycle_id)
    click.echo(f"Cycle {period} started: {count} status report(s) due {deadline}.")


@main.group("annual-report")
def annual_report() -> None:
    """The annual report to the municipal board."""


@annual_report.command("start")
@click.option("--year", required=True, type=int)
@click.option("--plan", "plan_slug", help="The plan's slug (default: the first plan loaded).")
@click.option("--as", "username", required=True, help="Who starts it: a process leader or an admin.")
def annual_report_start(year: int, plan_slug: str | None, username: str) -> None:
    """Open the year's report for the process leader to compile."""
    _in_transaction(
        lambda session: annual.start_annual_report(session, _as(session, username), year, plan_slug)
    )
    click.echo(f"Annual report {year} opened for the process leader.")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


def _signing_key() -> audit_keys.SigningKey:
    """The checkpoint signing key from the configuration (made in the instance folder if unset)."""
    app = _app()
    try:
        return audit_keys.load_signing_key(app.config["AUDIT_SIGNING_KEY"], Path(app.instance_path))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@audit_group.command("verify")
@click.option(
    "--public-key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify the checkpoints with this published public key (default: this installation's key).",
)
def audit_verify(key_file: Path | None) -> None:
    """Check the hash chain and its signed checkpoints; exits non-zero naming the first bad event,
    or when checkpoints exist that no key is at hand to check."""
    try:
        app = _app()
        key = (
            audit_keys.read_public_key(key_file.read_bytes(), str(key_file))
            if key_file
            else audit_keys.verifying_key(app.config, app.instance_path)
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    result = _reading(lambda session: checkpoints.integrity(session, OPERATOR_ACTOR, key))
    if result.verdict is checkpoints.Verdict.BROKEN:
        raise click.ClickException(f"audit chain broken at event {result.first_bad}: {result.problem}")
    if result.verdict is checkpoints.Verdict.UNCHECKED:
        raise click.ClickException(f"audit chain not shown intact: {result.problem}")
    if result.anchored_at is None:
        click.echo(
            f"Audit chain intact: {result.events} event(s); not anchored by any signed checkpoint "
            "(`planflow audit checkpoint` makes one)."
        )
        return
    text = (
        f"Audit chain intact: {result.events} event(s); anchored by {result.checkpoints_verified} signed "
        f"checkpoint(s) up to event {result.anchored_seq} at {result.anchored_at.isoformat()}"
    )
    unanchored = result.unanchored
    click.echo(text + (f"; {unanchored} later event(s) not yet anchored." if unanchored else "."))


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head now and keep the checkpoint (the same one if the head has not moved)."""
    signer = _signing_key()
    made = _in_transaction(lambda session: checkpoints.as_dict(checkpoints.make_checkpoint(session, signer)))
    click.echo(f"Checkpoint at event {made['seq']}, made {made['made_at']}")
    click.echo(f"  hash       {made['hash']}")
    click.echo(f"  key        {made['key_id']}")
    click.echo(f"  signature  {made['signature']}")


@audit_group.command("checkpoints")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def audit_checkpoints(as_json: bool) -> None:
    """List the signed checkpoints, oldest first."""
    rows = _reading(checkpoints.list_checkpoints)
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(f"event {row['seq']:<8} {row['made_at']}  {row['hash']}  key {row['key_id'][:16]}")


@audit_group.command("public-key")
def audit_public_key() -> None:
    """Print the PEM public key that verifies the checkpoints (publish it outside planflow)."""
    click.echo(_signing_key().public_key.pem(), nl=False)


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


# The report, plan import and archive commands live beside this module; importing it registers them.
from . import cli_reports  # noqa: E402, F401
