"""issued reports: frozen content and rendered files with their SHA-256

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import planflow.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("issued_at", planflow.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=64), nullable=True),
        sa.Column("checkpoint_seq", sa.Integer(), nullable=False),
        sa.Column("checkpoint_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_issued_report_plan_id_plan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_report")),
        sa.UniqueConstraint("plan_id", "kind", "subject", "number", name=op.f("uq_issued_report_plan_id")),
    )
    op.create_table(
        "issued_report_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["issued_report.id"], name=op.f("fk_issued_report_file_report_id_issued_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_report_file")),
        sa.UniqueConstraint("report_id", "format", name=op.f("uq_issued_report_file_report_id")),
    )
    op.create_index(
        op.f("ix_issued_report_file_report_id"), "issued_report_file", ["report_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_report_file_report_id"), table_name="issued_report_file")
    op.drop_table("issued_report_file")
    op.drop_table("issued_report")
