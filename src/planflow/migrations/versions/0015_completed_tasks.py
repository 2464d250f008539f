"""who completed each human task and when, whatever kind of task it was: a second submit of a done
task, or a link to one, says who did it (only tasks with a record of their own could say so)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from planflow.models.base import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "completed_task",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "instance_id",
            sa.Integer(),
            sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("completed_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("on_behalf_of_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("completed_task")
