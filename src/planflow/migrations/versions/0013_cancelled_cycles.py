"""a cycle started by mistake can be cancelled: cycle and instance states "cancelled", when and
why it was cancelled, and one live (not cancelled) cycle per plan and period instead of one cycle

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from planflow.models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LIVE = sa.text("state != 'cancelled'")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table("reporting_cycle") as batch:
        batch.add_column(sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch.alter_column(
            "state",
            existing_type=_enum("cyclestate", "opening", "open", "reported"),
            type_=_enum("cyclestate", "opening", "open", "reported", "cancelled"),
            existing_nullable=False,
        )
        batch.drop_constraint("uq_reporting_cycle_plan_id", type_="unique")
    op.create_index(
        "uq_reporting_cycle_live_period",
        "reporting_cycle",
        ["plan_id", "period"],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    with op.batch_alter_table("process_instance") as batch:
        batch.alter_column(
            "status",
            existing_type=_enum("instancestate", "running", "completed"),
            type_=_enum("instancestate", "running", "completed", "cancelled"),
            existing_nullable=False,
        )


def downgrade() -> None:
    # The older schema knows no cancelled cycle and allows one cycle per period: a cancelled one
    # is kept, as reported, under its period marked with its id (2027-01~7), and its instances
    # read as completed. Nothing that refers to it is lost.
    op.execute("UPDATE process_instance SET status = 'completed' WHERE status = 'cancelled'")
    op.execute(
        "UPDATE reporting_cycle SET period = period || '~' || CAST(id AS VARCHAR(12)), "
        "state = 'reported', reported_at = cancelled_at WHERE state = 'cancelled'"
    )
    with op.batch_alter_table("process_instance") as batch:
        batch.alter_column(
            "status",
            existing_type=_enum("instancestate", "running", "completed", "cancelled"),
            type_=_enum("instancestate", "running", "completed"),
            existing_nullable=False,
        )
    op.drop_index("uq_reporting_cycle_live_period", table_name="reporting_cycle")
    with op.batch_alter_table("reporting_cycle") as batch:
        batch.create_unique_constraint("uq_reporting_cycle_plan_id", ["plan_id", "period"])
        batch.alter_column(
            "state",
            existing_type=_enum("cyclestate", "opening", "open", "reported", "cancelled"),
            type_=_enum("cyclestate", "opening", "open", "reported"),
            existing_nullable=False,
        )
        batch.drop_column("cancel_reason")
        batch.drop_column("cancelled_at")
