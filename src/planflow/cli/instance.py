"""`planflow init` and `planflow serve`: make the database and load a plan, then serve it."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from .. import migrate
from ..db import EXTENSION
from ..services.chain import instances
from ..services.plan import demo as demo_data
from ..services.plan import plans
from ..services.records.audit import OPERATOR_ACTOR
from .base import OneLineError, app, database, echo, error, quoted, say
from .jobs import jobs_context


@click.command()
@click.option("--demo", is_flag=True, help="Also create demo users for every role and demo owners.")
@click.option(
    "--plan", "plan_file", type=click.Path(path_type=Path), help="Plan data file (default: the seed plan)."
)
def init(demo: bool, plan_file: Path | None) -> None:
    """Create or upgrade the database and load a plan (the seed plan, or --plan FILE next to the
    plans already there); running it again changes nothing. Runs as the local operator."""
    with database(initialised=False) as db:
        document = plans.read_plan_document(plan_file)
        before = migrate.current_revision(db.engine)
        migrate.upgrade(db.engine)
        with db.transaction() as session:
            instances.store_specs(session)
            loaded = plans.load_plan(session, OPERATOR_ACTOR, document)
            accounts = demo_data.create_demo_data(session) if demo else []
    changes = []
    if before != migrate.head_revision():
        changes.append(say("cli.init.migrated", revision=migrate.head_revision()))
    if loaded:
        changes.append(say("cli.init.plan_loaded", title=document["title"]))
    if accounts:
        changes.append(say("cli.init.demo_accounts", count=len(accounts)))
    if not changes:
        echo("cli.init.nothing_to_do")
        return
    click.echo("; ".join(changes) + ".")
    if accounts:
        echo("cli.init.demo_passwords")
        for username, password in accounts:
            click.echo(f"  {username:<18} {password}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
def serve(host: str, port: int) -> None:
    """Serve the web front end (and, embedded, the scheduler)."""
    from waitress import create_server

    from ..scheduling import SchedulerBusy, start_embedded

    flask_app = app()
    if host in ("127.0.0.1", "localhost", "::1"):  # local development over plain HTTP
        flask_app.config["SESSION_COOKIE_SECURE"] = False
    with database():
        pass  # refuse an unreachable or uninitialised database rather than serve errors
    try:  # take the port before anything starts, so that a busy one is said in one line
        server = create_server(flask_app, host=host, port=port, threads=8)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise error("cli.serve.port_busy", host=quoted(host), port=port, reason=reason) from None
    logging.basicConfig()  # waitress's warnings, as waitress.serve() shows them
    scheduler = None
    if flask_app.config["SCHEDULER_ENABLED"]:
        try:
            scheduler = start_embedded(jobs_context(flask_app.extensions[EXTENSION]))
        except SchedulerBusy as exc:
            server.close()
            raise OneLineError(str(exc)) from None
    echo("cli.serve.serving", url=f"http://{host}:{getattr(server, 'effective_port', port)}/")
    try:
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
