"""SAML response and assertion IDs seen: a replayed response is refused by every web worker

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import planflow.models.base

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saml_seen_id",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("seen_at", planflow.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("keep_until", planflow.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_saml_seen_id")),
    )
    op.create_index(op.f("ix_saml_seen_id_keep_until"), "saml_seen_id", ["keep_until"])


def downgrade() -> None:
    op.drop_index(op.f("ix_saml_seen_id_keep_until"), table_name="saml_seen_id")
    op.drop_table("saml_seen_id")
