"""Migrations: they build the whole schema from nothing, and the models agree with them."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from planflow import migrate
from planflow.db import Database, make_engine
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


def test_upgrade_keeps_the_data_of_a_database_made_before_plans_were_a_scope(database_url: str) -> None:
    """0003 fills the new columns from the rows already there: nothing is lost on upgrade."""
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0002")  # the schema of 0002, with one of everything
    now = "2026-11-02 09:00:00"
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO plan (id, title, organisation, adopted_on, strategy_start, strategy_end, source)"
                " VALUES (1, 'P', 'Södertälje kommun', '2016-03-08', 2016, 2022, 's')"
            )
        )
        c.execute(text("INSERT INTO focus_area (id, plan_id, number, title) VALUES (1, 1, 1, 'F')"))
        c.execute(
            text("INSERT INTO intervention_area (id, focus_area_id, number, title) VALUES (1, 1, 1, 'I')")
        )
        c.execute(
            text(
                "INSERT INTO activity (id, intervention_area_id, number, code, title, state, is_demo)"
                " VALUES (1, 1, 1, '1.1.1', 'A', 'active', false)"
            )
        )
        c.execute(
            text(
                'INSERT INTO "user" (id, username, display_name, email, language, active, is_demo,'
                f" created_at) VALUES (1, 'u', 'U', 'u@x.se', 'sv', true, false, '{now}')"
            )
        )
        c.execute(
            text(
                "INSERT INTO reporting_cycle (id, period, deadline, escalation_days, state, started_at)"
                f" VALUES (1, '2026-Q4', '2026-12-15', 14, 'open', '{now}')"
            )
        )
        c.execute(
            text("INSERT INTO annual_report (id, year, snapshot, state) VALUES (1, 2026, '{}', 'noted')")
        )
        c.execute(
            text(
                "INSERT INTO area_review (id, cycle_id, focus_area_id, summary, outcome, confirmed_at)"
                f" VALUES (1, 1, 1, 'S', 'confirm', '{now}')"
            )
        )
        c.execute(
            text(
                "INSERT INTO decision (id, subject_type, subject_id, decision, rationale, decided_by_id,"
                f" decided_at) VALUES (1, 'deviation', 1, 'approve', 'R', 1, '{now}')"
            )
        )
        c.execute(
            text(
                "INSERT INTO notice (id, recipient_id, kind, subject, body, dedupe_key, created_at)"
                f" VALUES (1, 1, 'decision', 'Ämne', 'Text', 'k', '{now}')"
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT slug FROM plan")).scalar() == "sodertalje-2016"
        assert c.execute(text("SELECT plan_id FROM activity")).scalar() == 1
        assert c.execute(text("SELECT plan_id, state FROM reporting_cycle")).one() == (1, "open")
        assert c.execute(text("SELECT plan_id, state FROM annual_report")).one() == (1, "noted")
        assert c.execute(text("SELECT state FROM area_review")).scalar() == "confirmed"
        assert c.execute(text("SELECT body FROM decision")).scalar() == "steering_group"
        template, params = c.execute(text("SELECT template, params FROM notice")).one()
    engine.dispose()
    params = params if isinstance(params, dict) else json.loads(params)
    assert (template, params) == ("notice.verbatim", {"subject": "Ämne", "body": "Text"})
