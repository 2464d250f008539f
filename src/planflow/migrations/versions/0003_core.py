"""core: plans as scope, decisions by body, states as enums, notices for delivery

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 20:20:03.660360
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import planflow.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New NOT NULL columns are added nullable, filled from what the rows already say, then tightened:
    # a database with data from 0002 upgrades without loss.
    enum = _enum
    with op.batch_alter_table("plan") as batch_op:
        batch_op.add_column(sa.Column("slug", sa.String(length=64), nullable=True))
    op.execute("UPDATE plan SET slug = 'plan-' || CAST(id AS VARCHAR(20))")
    op.execute(
        "UPDATE plan SET slug = 'sodertalje-2016' WHERE id = (SELECT MIN(id) FROM plan) "
        "AND organisation = 'Södertälje kommun' AND strategy_start = 2016"
    )
    with op.batch_alter_table("plan") as batch_op:
        batch_op.alter_column("slug", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_plan_slug"), ["slug"])

    with op.batch_alter_table("activity") as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE activity SET plan_id = (SELECT focus_area.plan_id FROM intervention_area "
        "JOIN focus_area ON focus_area.id = intervention_area.focus_area_id "
        "WHERE intervention_area.id = activity.intervention_area_id)"
    )
    with op.batch_alter_table("activity") as batch_op:
        batch_op.alter_column("plan_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_activity_code"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_activity_plan_id"), ["plan_id", "code"])
        batch_op.create_foreign_key(batch_op.f("fk_activity_plan_id_plan"), "plan", ["plan_id"], ["id"])

    # A cycle now opens in batches: "opening" until every report is started.
    with op.batch_alter_table("reporting_cycle") as batch_op:
        batch_op.add_column(sa.Column("opened_through", sa.Integer(), nullable=True))
        batch_op.alter_column(
            "state",
            existing_type=enum("cyclestate", "open", "reported"),
            type_=enum("cyclestate", "opening", "open", "reported"),
            existing_nullable=False,
        )
    for table, unique_before, columns in (
        ("reporting_cycle", "uq_reporting_cycle_period", ["plan_id", "period"]),
        ("annual_report", "uq_annual_report_year", ["plan_id", "year"]),
    ):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET plan_id = (SELECT MIN(id) FROM plan)")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("plan_id", existing_type=sa.Integer(), nullable=False)
            batch_op.drop_constraint(unique_before, type_="unique")
            batch_op.create_unique_constraint(op.f(f"uq_{table}_plan_id"), columns)
            batch_op.create_foreign_key(op.f(f"fk_{table}_plan_id_plan"), "plan", ["plan_id"], ["id"])

    with op.batch_alter_table("activity_proposal") as batch_op:
        batch_op.alter_column(
            "state",
            existing_type=sa.VARCHAR(length=16),
            type_=enum("proposalstate", "drafting", "proposed", "checked", "approved", "rejected"),
            existing_nullable=False,
        )
    with op.batch_alter_table("annual_report") as batch_op:
        batch_op.alter_column(
            "state",
            existing_type=sa.VARCHAR(length=16),
            type_=enum("annualreportstate", "compiling", "compiled", "approved", "noted"),
            existing_nullable=False,
        )

    with op.batch_alter_table("area_review") as batch_op:
        batch_op.add_column(
            sa.Column(
                "state", enum("areareviewstate", "summarising", "summarised", "confirmed"), nullable=True
            )
        )
    op.execute(
        "UPDATE area_review SET state = CASE WHEN confirmed_at IS NOT NULL THEN 'confirmed' "
        "WHEN summary IS NOT NULL AND (outcome IS NULL OR outcome <> 'return') THEN 'summarised' "
        "ELSE 'summarising' END"
    )
    with op.batch_alter_table("area_review") as batch_op:
        batch_op.alter_column("state", existing_type=sa.String(length=24), nullable=False)
        batch_op.drop_column("outcome")

    with op.batch_alter_table("decision") as batch_op:
        batch_op.add_column(sa.Column("body", enum("decidingbody", "steering_group", "board"), nullable=True))
    # Until now only the steering group's decisions were recorded; its meeting notes were one too.
    op.execute("DELETE FROM decision WHERE subject_type = 'steering_meeting'")
    op.execute("UPDATE decision SET body = 'steering_group'")
    with op.batch_alter_table("decision") as batch_op:
        batch_op.alter_column("body", existing_type=sa.String(length=24), nullable=False)
        batch_op.create_index("ix_decision_subject", ["subject_type", "subject_id"], unique=False)

    with op.batch_alter_table("deviation") as batch_op:
        batch_op.drop_column("decision")

    # Notices were Swedish prose; they become template keys with parameters. Unsent old ones keep
    # their words as parameters of a template that shows them as they were.
    with op.batch_alter_table("notice") as batch_op:
        batch_op.add_column(sa.Column("template", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_until", planflow.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("next_attempt_at", planflow.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("read_at", planflow.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    notice = sa.table(
        "notice",
        sa.column("id", sa.Integer),
        sa.column("subject", sa.String),
        sa.column("body", sa.Text),
        sa.column("template", sa.String),
        sa.column("params", sa.JSON),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(notice.c.id, notice.c.subject, notice.c.body)).all():
        connection.execute(
            notice.update()
            .where(notice.c.id == row.id)
            .values(template="notice.verbatim", params={"subject": row.subject, "body": row.body})
        )
    with op.batch_alter_table("notice") as batch_op:
        batch_op.alter_column("template", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("params", existing_type=sa.JSON(), nullable=False)
        batch_op.create_index("ix_notice_outbox", ["sent_at", "next_attempt_at"], unique=False)
        batch_op.drop_column("kind")
        batch_op.drop_column("body")
        batch_op.drop_column("subject")

    with op.batch_alter_table("open_task") as batch_op:
        batch_op.drop_column("title")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("reporting_cycle", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reporting_cycle_plan_id_plan"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_reporting_cycle_plan_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_reporting_cycle_period"), ["period"])
        batch_op.drop_column("plan_id")

    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_plan_slug"), type_="unique")
        batch_op.drop_column("slug")

    with op.batch_alter_table("open_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.VARCHAR(length=200), nullable=False))

    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.VARCHAR(length=300), nullable=False))
        batch_op.add_column(sa.Column("body", sa.TEXT(), nullable=False))
        batch_op.add_column(sa.Column("kind", sa.VARCHAR(length=32), nullable=False))
        batch_op.drop_index("ix_notice_outbox")
        batch_op.drop_column("read_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("params")
        batch_op.drop_column("template")

    with op.batch_alter_table("deviation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision", sa.VARCHAR(length=24), nullable=True))

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_subject")
        batch_op.drop_column("body")

    with op.batch_alter_table("area_review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.VARCHAR(length=16), nullable=True))
        batch_op.drop_column("state")

    with op.batch_alter_table("annual_report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_annual_report_plan_id_plan"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_annual_report_plan_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_annual_report_year"), ["year"])
        batch_op.alter_column(
            "state",
            existing_type=sa.Enum(
                "compiling",
                "compiled",
                "approved",
                "noted",
                name="annualreportstate",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            type_=sa.VARCHAR(length=16),
            existing_nullable=False,
        )
        batch_op.drop_column("plan_id")

    with op.batch_alter_table("activity_proposal", schema=None) as batch_op:
        batch_op.alter_column(
            "state",
            existing_type=sa.Enum(
                "drafting",
                "proposed",
                "checked",
                "approved",
                "rejected",
                name="proposalstate",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            type_=sa.VARCHAR(length=16),
            existing_nullable=False,
        )

    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_activity_plan_id_plan"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_activity_plan_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_activity_code"), ["code"])
        batch_op.drop_column("plan_id")

    # ### end Alembic commands ###
