"""the steering group as a body: members' comments on what awaits the group, kept with the
decision; the board's note records the date and § of its decision

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from planflow.models.base import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "steering_comment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.Column("on_behalf_of_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("written_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("decision.id"), nullable=True),
    )
    op.create_index("ix_steering_comment_subject", "steering_comment", ["subject_type", "subject_id", "id"])
    with op.batch_alter_table("annual_report") as batch:
        batch.add_column(sa.Column("board_decided_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("board_paragraph", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("annual_report") as batch:
        batch.drop_column("board_paragraph")
        batch.drop_column("board_decided_on")
    op.drop_index("ix_steering_comment_subject", table_name="steering_comment")
    op.drop_table("steering_comment")
