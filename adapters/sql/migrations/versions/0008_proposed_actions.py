"""proposed actions keep their rank, the task versions they were proposed on, a decision note

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("proposed_actions") as batch_op:
        batch_op.add_column(sa.Column("rank", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("task_versions", Json, nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.Text(), nullable=True))
    op.create_index("ix_proposed_actions_event_status", "proposed_actions", ["external_event_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_proposed_actions_event_status", table_name="proposed_actions")
    with op.batch_alter_table("proposed_actions") as batch_op:
        batch_op.drop_column("decision_note")
        batch_op.drop_column("task_versions")
        batch_op.drop_column("rank")
