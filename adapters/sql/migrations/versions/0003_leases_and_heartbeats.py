"""outbox checkpoints take a lease; simulations keep a heartbeat

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_checkpoints") as batch:
        batch.add_column(sa.Column("holder", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("simulations") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("simulations") as batch:
        batch.drop_column("heartbeat_at")
    with op.batch_alter_table("outbox_checkpoints") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("holder")
