"""identities at OpenID Connect and SAML providers, and which roles a provider's groups gave

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import planflow.models.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", planflow.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", planflow.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_user_identity_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identity")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_user_identity_issuer")),
    )
    op.create_index(op.f("ix_user_identity_user_id"), "user_identity", ["user_id"])
    with op.batch_alter_table("role_assignment") as batch:
        batch.add_column(sa.Column("granted_by_provider", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("role_assignment") as batch:
        batch.drop_column("granted_by_provider")
    op.drop_index(op.f("ix_user_identity_user_id"), table_name="user_identity")
    op.drop_table("user_identity")
