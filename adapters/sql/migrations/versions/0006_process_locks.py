"""checkpoints lose their lease (process locks replace it); the outbox is indexed by plan

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_checkpoints") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("holder")
    op.create_index("ix_outbox_plan_position", "outbox", ["plan_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_outbox_plan_position", table_name="outbox")
    with op.batch_alter_table("outbox_checkpoints") as batch:
        batch.add_column(sa.Column("holder", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
