"""the inbox's order served by an index: a non-null due key and one index per lane (and per lead's
focus area), so a page of a 100,000-task inbox is read in order instead of sorted

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite adds a stored generated column only by rebuilding the table: batch mode does that.
    with op.batch_alter_table("open_task", recreate="auto") as batch:
        batch.add_column(
            sa.Column("due_key", sa.Date(), sa.Computed("coalesce(due_on, '9999-12-31')", persisted=True))
        )
        batch.drop_index("ix_open_task_lane_scope")
        batch.create_index("ix_open_task_inbox", ["lane", "due_key", "created_at", "id"])
        batch.create_index(
            "ix_open_task_inbox_scoped", ["lane", "focus_area_id", "due_key", "created_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("open_task", recreate="auto") as batch:
        batch.drop_index("ix_open_task_inbox_scoped")
        batch.drop_index("ix_open_task_inbox")
        batch.create_index("ix_open_task_lane_scope", ["lane", "focus_area_id"])
        batch.drop_column("due_key")
