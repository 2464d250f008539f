"""Schema migrations: Alembic, configured in code so it works the same from a wheel or a checkout."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from .i18n import Message

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema up to `revision`.

    On SQLite a migration may recreate a table that others refer to (batch mode), which its
    foreign keys forbid row by row: they are turned off for the migration (a pragma that only
    works outside a transaction) and every reference is checked once at its end."""
    config = _config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"the migration left {len(broken)} broken reference(s): {broken[:3]}")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def readiness(engine: Engine) -> Message | None:
    """Why this planflow cannot work on the database as it is, or None when it is at the head:
    a predicate to follow "the database at <url>", in the reader's words."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not url.query.get("uri") and not Path(url.database).exists():
            return Message("migrate.not_initialised")  # and do not create an empty file
    revision = current_revision(engine)
    if revision is None:
        return Message("migrate.not_initialised")
    scripts = ScriptDirectory(str(MIGRATIONS))
    head = scripts.get_current_head()
    if revision == head:
        return None
    if revision in {script.revision for script in scripts.walk_revisions()}:
        return Message("migrate.behind", {"revision": revision, "head": head})
    return Message("migrate.unknown_revision", {"revision": revision})


def problem(engine: Engine) -> str | None:
    """readiness() in English, for the server's log (wsgi)."""
    found = readiness(engine)
    return found.render("en") if found else None


def revise(engine: Engine, message: str, rev_id: str) -> None:
    """Autogenerate a new revision from the models (a developer's tool: `planflow db revision`)."""
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
