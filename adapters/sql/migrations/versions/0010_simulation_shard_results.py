"""simulation shard results: what each shard of a fanned-out run computed, until the merge

A run above the fan-out size runs as shards in separate Lambda invocations (a Step Functions
Map); their raw results (a finish time per iteration) are far beyond Step Functions' 256 KB
payload, so each shard stores its result here and the merge reads them all, then deletes them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulation_shard_results",
        sa.Column("simulation_id", sa.String(length=36), nullable=False),
        sa.Column("shard_index", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["simulation_id"],
            ["simulations.id"],
            name="fk_simulation_shard_results_simulation_id_simulations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("simulation_id", "shard_index", name="pk_simulation_shard_results"),
    )


def downgrade() -> None:
    op.drop_table("simulation_shard_results")
