"""an index of the running instances only: "is any of this area's reports still running?" is
answered from it whatever the history (PostgreSQL planned the query, with its LIMIT 1, as a scan
of every instance ever started)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_index(
        "ix_process_instance_running",
        "process_instance",
        ["cycle_id", "focus_area_id", "process_id", "id"],
        postgresql_where=RUNNING,
        sqlite_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("ix_process_instance_running", table_name="process_instance")
