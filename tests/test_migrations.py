"""Migrations: they build the whole schema from nothing, and the models agree with them."""

from __future__ import annotations

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
