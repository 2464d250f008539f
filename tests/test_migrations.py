"""Migrations: they build the whole schema from nothing, and the models agree with them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from planflow import migrate
from planflow.db import Database
from planflow.models import Base


def test_migrations_run_up_from_empty_and_match_the_models(db: Database) -> None:
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrading_twice_is_a_no_op(db: Database) -> None:
    migrate.upgrade(db.engine)
    assert migrate.current_revision(db.engine) == migrate.head_revision()


def test_a_database_behind_or_ahead_of_this_planflow_is_named_with_what_to_do(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert "is not initialised: run `planflow init`" in (migrate.problem(database.read_engine) or "")
        migrate.upgrade(database.engine, "0001")
        assert "run `planflow init` to upgrade it" in (migrate.problem(database.read_engine) or "")
        migrate.upgrade(database.engine)
        assert migrate.problem(database.read_engine) is None
        with database.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
        assert "a newer planflow made it" in (migrate.problem(database.read_engine) or "")
    finally:
        database.dispose()
