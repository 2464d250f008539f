"""scheduler and notifications: job runs, date marks, the shared clock, mail delivery per user,
digest channel per notice, calendar feed secrets, open tasks by due date

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import planflow.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = planflow.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("runner", sa.String(length=64), nullable=False),
        sa.Column("as_of", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("repeats", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_job", "job_run", ["job", "id"])
    op.create_table(
        "job_mark",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_mark")),
    )
    op.create_table(
        "shared_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offset_seconds", sa.Integer(), nullable=False),
        sa.Column("set_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_clock")),
    )
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(
            sa.Column("mail_delivery", sa.String(length=16), server_default="digest", nullable=False)
        )
        batch_op.add_column(sa.Column("calendar_token_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_user_calendar_token_hash"), ["calendar_token_hash"])
    with op.batch_alter_table("notice") as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), server_default="mail", nullable=False))
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_notice_digest_id_notice"), "notice", ["digest_id"], ["id"])
        batch_op.create_index("ix_notice_digest", ["channel", "digest_id", "recipient_id"])
    # Notices queued before this revision were for the outbox: due at once.
    op.execute(
        "UPDATE notice SET next_attempt_at = created_at WHERE sent_at IS NULL AND next_attempt_at IS NULL"
    )
    op.create_index("ix_open_task_due_on", "open_task", ["due_on"])


def downgrade() -> None:
    op.drop_index("ix_open_task_due_on", table_name="open_task")
    with op.batch_alter_table("notice") as batch_op:
        batch_op.drop_index("ix_notice_digest")
        batch_op.drop_constraint(batch_op.f("fk_notice_digest_id_notice"), type_="foreignkey")
        batch_op.drop_column("digest_id")
        batch_op.drop_column("channel")
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_user_calendar_token_hash"), type_="unique")
        batch_op.drop_column("calendar_token_hash")
        batch_op.drop_column("mail_delivery")
    op.drop_table("shared_clock")
    op.drop_table("job_mark")
    op.drop_index("ix_job_run_job", table_name="job_run")
    op.drop_table("job_run")
