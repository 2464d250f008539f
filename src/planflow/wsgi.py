"""The WSGI app for a production server (README, Production):

    gunicorn -c python:planflow.gunicorn_conf

Configured from the PLANFLOW_* environment like every `planflow` command. A database that
`planflow init` has not made (or not yet upgraded) is refused here, before any worker starts.
The web workers never run the scheduler: `planflow scheduler` runs beside them."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from . import migrate
from .app import create_app
from .db import EXTENSION, Database
from .services.chain import instances

try:
    app = create_app()
except ValueError as exc:  # a configuration error, said in one line as the `planflow` command says it
    raise SystemExit(f"planflow: {exc}") from None
database: Database = app.extensions[EXTENSION]
_url = database.url.render_as_string(hide_password=True)
try:
    _problem = migrate.problem(database.read_engine)
except DBAPIError as exc:  # unreachable, refused, no such database
    _problem = f"cannot be used: {str(exc.orig or exc).strip().splitlines()[0]}"
if _problem:
    raise SystemExit(f"planflow: the database at {_url} {_problem}")
# Every process definition is parsed and checked here, once, before gunicorn forks the workers:
# their threads then never parse BPMN at the same time. libxml2's schema code does not survive
# that: under load, a worker whose first completions raced failed every later one (SpecError,
# "xmlSchemaPValAttrNodeValue"; benchmarks/load.py), and 1 in 30 forked processes whose four
# threads parsed at once died of "double free or corruption".
instances.library()
# With --preload this module is imported in gunicorn's master: no connection opened for the
# check above may cross the fork into a worker (gunicorn_conf.post_fork forgets any that would).
database.dispose()
