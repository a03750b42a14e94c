"""plans have a version; external events remember who changed their status, when, and why

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("external_events") as batch:
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("status_changed_by", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("status_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("external_events") as batch:
        batch.drop_column("status_note")
        batch.drop_column("status_changed_by")
        batch.drop_column("status_changed_at")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("version")
