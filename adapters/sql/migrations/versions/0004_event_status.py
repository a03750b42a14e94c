"""external events have a status: OPEN, RESOLVED or WITHDRAWN

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("external_events") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), server_default="OPEN", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("external_events") as batch:
        batch.drop_column("status")
