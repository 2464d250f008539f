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

from . import clock, migrate
from .app import create_app
from .db import EXTENSION, Database, get_db
from .services import annual, audit, cycles, people, plans, timers
from .services import demo as demo_data
from .services.audit import SYSTEM_ACTOR, Actor
from .services.errors import ServiceError, excerpt

T = TypeVar("T")
# The years a time or date given on the command line may fall in: anything else is a typo.
YEARS = (2000, 2200)


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
            self.fail(f"{excerpt(value)} is not a date such as 2026-12-15", param, ctx)
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(f"{excerpt(value)} is not a date in the calendar", param, ctx)
        if not YEARS[0] <= day.year <= YEARS[1]:
            self.fail(f"{excerpt(value)} is outside the years {YEARS[0]} to {YEARS[1]}", param, ctx)
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
            raise click.ClickException(str(exc)) from None
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


@click.group(cls=_OneLineErrors)
def main() -> None:
    """planflow: the action plan's follow-up as a workflow."""


@main.command()
@click.option("--demo", is_flag=True, help="Also create demo users for every role and demo owners.")
@click.option(
    "--plan", "plan_file", type=click.Path(path_type=Path), help="Plan data file (default: the seed plan)."
)
def init(demo: bool, plan_file: Path | None) -> None:
    """Create or upgrade the database and load the plan; running it again changes nothing."""
    try:
        document = plans.read_plan_document(plan_file)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    with _database(initialised=False) as database:
        before = migrate.current_revision(database.engine)
        migrate.upgrade(database.engine)
        with database.transaction() as session:
            loaded = plans.load_plan(session, document)
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
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
def plan_export(fmt: str) -> None:
    """Print the plan tree: focus areas, intervention areas, activities."""
    tree = _reading(plans.export_plan)
    if tree is None:
        raise click.ClickException("no plan is loaded: run `planflow init` first")
    _print_json(tree)


@main.group()
def users() -> None:
    """Users, roles and API tokens."""


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
    "--role", "roles", multiple=True, help="ROLE, ROLE:<focus area> or ROLE:<activity code>; repeatable."
)
@click.option("--language", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
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
        people.add_user(session, username, display_name, email, specs, password, language, office)

    _in_transaction(add)
    click.echo(f"User {username} added.")


@users.command("password")
@click.argument("username")
@click.password_option()
def users_password(username: str, password: str) -> None:
    """Set a user's login password."""
    _in_transaction(lambda session: people.set_password(session, username, password))
    click.echo(f"Password of {username} set.")


@users.command("token")
@click.argument("username")
def users_token(username: str) -> None:
    """Print a new API bearer token for USERNAME (shown once; stored hashed)."""
    click.echo(_in_transaction(lambda session: people.issue_token(session, username)))


@users.command("revoke-tokens")
@click.argument("username")
def users_revoke_tokens(username: str) -> None:
    """Revoke every API token of USERNAME."""
    count = _in_transaction(lambda session: people.revoke_tokens(session, username))
    click.echo(f"{count} token(s) revoked.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
def serve(host: str, port: int) -> None:
    """Serve the web front end (and, embedded, the scheduler)."""
    from waitress import create_server

    from .scheduling import start_embedded

    app = _app()
    with _database():
        pass  # refuse an unreachable or uninitialised database rather than serve errors
    try:  # take the port before anything starts, so that a busy one is said in one line
        server = create_server(app, host=host, port=port, threads=8)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise click.ClickException(f"cannot serve on {excerpt(host)} port {port}: {reason}") from None
    logging.basicConfig()  # waitress's warnings, as waitress.serve() shows them
    database, timezone = app.extensions[EXTENSION], app.config["TIMEZONE"]
    scheduler = start_embedded(database, timezone) if app.config["SCHEDULER_ENABLED"] else None
    click.echo(f"planflow serves http://{host}:{getattr(server, 'effective_port', port)}/  (Ctrl-C stops)")
    try:
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@main.command()
def scheduler() -> None:
    """Run the scheduler alone (production: one beside the web workers)."""
    from .scheduling import run_forever

    app = _app()
    with _database():
        pass  # refuse an unreachable or uninitialised database before the first job
    run_forever(app.extensions[EXTENSION], app.config["TIMEZONE"])


@main.command()
@click.option("--at", "moment", required=True, help="The time to move to, e.g. 2026-12-31T09:00 (UTC).")
def tick(moment: str) -> None:
    """Travel in time: set the clock to --at and run what is due then (timers, escalations)."""
    at = _parse_time(moment)
    clock.set_now(at)
    fired = _in_transaction(lambda session: timers.fire_due_timers(session, at))
    click.echo(f"{at.isoformat()}: {fired} timer(s) fired.")


def _parse_time(text: str, option: str = "--at") -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"{excerpt(text)} is not an ISO time such as 2026-12-31T09:00"
        raise click.BadParameter(message, param_hint=f"'{option}'") from None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        message = f"{excerpt(text)} is outside the years {YEARS[0]} to {YEARS[1]}"
        raise click.BadParameter(message, param_hint=f"'{option}'")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as(session: Session, username: str | None) -> Actor:
    return Actor(people.get_user(session, username)) if username else SYSTEM_ACTOR


@main.group()
def cycle() -> None:
    """Reporting cycles."""


@cycle.command("start")
@click.option("--period", required=True, help="e.g. 2026-Q4")
@click.option("--deadline", required=True, type=_CalendarDate(), help="YYYY-MM-DD")
@click.option("--escalation-days", type=int, help="Days before a red deviation without decision escalates.")
@click.option("--as", "username", help="Who starts it (for the audit trail); default: system.")
def cycle_start(period: str, deadline: date, escalation_days: int | None, username: str | None) -> None:
    """Open a reporting cycle: every active activity's owner gets a status-report task."""
    days = _app().config["ESCALATION_DAYS"] if escalation_days is None else escalation_days

    def start(session: Session) -> int:
        started = cycles.start_cycle(session, _as(session, username), period, deadline, days)
        return cycles.reports_due(session, started.id)

    count = _in_transaction(start)
    click.echo(f"Cycle {period} started: {count} status report(s) due {deadline}.")


@main.group("annual-report")
def annual_report() -> None:
    """The annual report to the municipal board."""


@annual_report.command("start")
@click.option("--year", required=True, type=int)
@click.option("--as", "username", help="Who starts it (for the audit trail); default: system.")
def annual_report_start(year: int, username: str | None) -> None:
    """Open the year's report for the process leader to compile."""
    _in_transaction(lambda session: annual.start_annual_report(session, _as(session, username), year))
    click.echo(f"Annual report {year} opened for the process leader.")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exits non-zero naming the first bad event."""
    result = _reading(audit.verify)
    if not result.intact:
        raise click.ClickException(f"audit chain broken at event {result.first_bad}: {result.problem}")
    click.echo(f"Audit chain intact: {result.checked} event(s).")


def _print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
