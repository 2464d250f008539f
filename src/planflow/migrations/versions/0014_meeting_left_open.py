"""a steering meeting's minutes list the deviations the chair left open to the next meeting

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 15:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("steering_meeting") as batch:
        batch.add_column(sa.Column("left_open", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("steering_meeting") as batch:
        batch.drop_column("left_open")
