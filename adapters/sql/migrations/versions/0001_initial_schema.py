"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('position', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_outbox'))
    )
    op.create_table('outbox_checkpoints',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', name=op.f('pk_outbox_checkpoints'))
    )
    op.create_table('plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('planner_plan_id', sa.String(length=100), nullable=True),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('working_weekdays', sa.String(length=20), server_default='0,1,2,3,4', nullable=False),
    sa.Column('holidays', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('planner_plan_id', name=op.f('uq_plans_planner_plan_id'))
    )
    op.create_table('external_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delay_days', sa.Float(), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_external_events_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_events')),
    sa.UniqueConstraint('plan_id', 'idempotency_key', name='uq_external_events_idempotency')
    )
    with op.batch_alter_table('external_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_events_plan_id'), ['plan_id'], unique=False)

    op.create_table('simulations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('iterations', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('shards', sa.Integer(), server_default='1', nullable=False),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('progress', sa.Float(), server_default='0', nullable=False),
    sa.Column('completed_iterations', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('requested_by', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_simulations_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulations'))
    )
    with op.batch_alter_table('simulations', schema=None) as batch_op:
        batch_op.create_index('ix_simulations_plan_created', ['plan_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_simulations_plan_id'), ['plan_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('planner_task_id', sa.String(length=100), nullable=True),
    sa.Column('planner_bucket_id', sa.String(length=100), nullable=True),
    sa.Column('planner_etag', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('percent_complete', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('duration_days', sa.Float(), nullable=True),
    sa.Column('optimistic_days', sa.Float(), nullable=True),
    sa.Column('most_likely_days', sa.Float(), nullable=True),
    sa.Column('pessimistic_days', sa.Float(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('percent_complete BETWEEN 0 AND 100', name=op.f('ck_tasks_percent_complete_range')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_tasks_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('plan_id', 'planner_task_id', name='uq_tasks_plan_planner_task')
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_plan_id'), ['plan_id'], unique=False)

    op.create_table('external_event_tasks',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['external_events.id'], name=op.f('fk_external_event_tasks_event_id_external_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_external_event_tasks_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'position', name=op.f('pk_external_event_tasks'))
    )
    with op.batch_alter_table('external_event_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_event_tasks_task_id'), ['task_id'], unique=False)

    op.create_table('proposed_actions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('external_event_id', sa.String(length=36), nullable=True),
    sa.Column('action_type', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('expected_impact', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['external_event_id'], ['external_events.id'], name=op.f('fk_proposed_actions_external_event_id_external_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_proposed_actions_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_proposed_actions_task_id_tasks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposed_actions'))
    )
    with op.batch_alter_table('proposed_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposed_actions_plan_id'), ['plan_id'], unique=False)

    op.create_table('task_assignees',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('assignee', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_assignees_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'position', name=op.f('pk_task_assignees'))
    )
    with op.batch_alter_table('task_assignees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_assignees_assignee'), ['assignee'], unique=False)

    op.create_table('task_dependencies',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.String(length=36), nullable=False),
    sa.Column('predecessor_id', sa.String(length=36), nullable=False),
    sa.Column('successor_id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('lag_days', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('predecessor_id <> successor_id', name=op.f('ck_task_dependencies_not_self')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_task_dependencies_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['predecessor_id'], ['tasks.id'], name=op.f('fk_task_dependencies_predecessor_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['successor_id'], ['tasks.id'], name=op.f('fk_task_dependencies_successor_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_dependencies')),
    sa.UniqueConstraint('predecessor_id', 'successor_id', name='uq_task_dependencies_edge')
    )
    with op.batch_alter_table('task_dependencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_dependencies_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_dependencies_predecessor_id'), ['predecessor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_dependencies_successor_id'), ['successor_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_dependencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_dependencies_successor_id'))
        batch_op.drop_index(batch_op.f('ix_task_dependencies_predecessor_id'))
        batch_op.drop_index(batch_op.f('ix_task_dependencies_plan_id'))

    op.drop_table('task_dependencies')
    with op.batch_alter_table('task_assignees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_assignees_assignee'))

    op.drop_table('task_assignees')
    with op.batch_alter_table('proposed_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposed_actions_plan_id'))

    op.drop_table('proposed_actions')
    with op.batch_alter_table('external_event_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_event_tasks_task_id'))

    op.drop_table('external_event_tasks')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_plan_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('simulations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_simulations_plan_id'))
        batch_op.drop_index('ix_simulations_plan_created')

    op.drop_table('simulations')
    with op.batch_alter_table('external_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_events_plan_id'))

    op.drop_table('external_events')
    op.drop_table('plans')
    op.drop_table('outbox_checkpoints')
    op.drop_table('outbox')
