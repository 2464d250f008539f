"""open tasks by activity: the plan page's overdue mark per activity reads it by index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 22:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_open_task_activity_id", "open_task", ["activity_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_open_task_activity_id", table_name="open_task")
