from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Id = String(36)
Timestamp = DateTime(timezone=True)

plans = Table(
    "plans",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("planner_plan_id", String(100), unique=True),
    Column("event_date", Date),
    Column("working_weekdays", String(20), nullable=False, server_default="0,1,2,3,4"),
    Column("holidays", Json, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # Grows with every change of the plan itself (name, dates, calendar), not of its tasks.
    Column("version", Integer, nullable=False, server_default="1"),
    # How many tasks the plan has, moved by triggers on ``tasks`` in the transaction of every insert,
    # delete or move of a task (migration 0011), so that a list of plans reads its counts without
    # counting. Not part of a Plan: nothing that writes a plan's own fields can set it from a copy.
    Column("task_count", Integer, nullable=False, server_default="0"),
)

# The seed's planner_tasks, generalised: a task may come from Microsoft Planner or not.
tasks = Table(
    "tasks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("planner_task_id", String(100)),
    Column("planner_bucket_id", String(100)),
    Column("planner_etag", String(200)),
    # The Planner-owned fields as the last Planner sync wrote them (JSON): a local edit since
    # shows as a difference (planning.services.planner_sync).
    Column("planner_synced", Json),
    Column("title", String(500), nullable=False),
    Column("status", String(20), nullable=False),
    Column("percent_complete", Integer, nullable=False),
    Column("start_date", Date),
    Column("due_date", Date),
    Column("duration_days", Float),
    Column("optimistic_days", Float),
    Column("most_likely_days", Float),
    Column("pessimistic_days", Float),
    Column("version", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("plan_id", "planner_task_id", name="uq_tasks_plan_planner_task"),
    CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_complete_range"),
)

task_assignees = Table(
    "task_assignees",
    metadata,
    Column("task_id", Id, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("assignee", String(320), nullable=False, index=True),
)

task_dependencies = Table(
    "task_dependencies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("predecessor_id", Id, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("successor_id", Id, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("type", String(30), nullable=False),
    Column("lag_days", Float, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("predecessor_id", "successor_id", name="uq_task_dependencies_edge"),
    CheckConstraint("predecessor_id <> successor_id", name="not_self"),
)

external_events = Table(
    "external_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("event_type", String(100), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("title", String(500), nullable=False),
    Column("description", Text),
    Column("source", String(200)),
    Column("occurred_at", Timestamp, nullable=False),
    Column("received_at", Timestamp, nullable=False),
    Column("delay_days", Float, nullable=False),
    Column("probability", Float),
    Column("payload", Json),
    Column("idempotency_key", String(200)),
    Column("status", String(20), nullable=False, server_default="OPEN"),
    # The last status change (resolveExternalEvent): when, by whom, and the note given.
    Column("status_changed_at", Timestamp),
    Column("status_changed_by", String(320)),
    Column("status_note", Text),
    UniqueConstraint("plan_id", "idempotency_key", name="uq_external_events_idempotency"),
)

external_event_tasks = Table(
    "external_event_tasks",
    metadata,
    Column("event_id", Id, ForeignKey("external_events.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("task_id", Id, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True),
)

# Room for the optimisation agent's proposals.
proposed_actions = Table(
    "proposed_actions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("task_id", Id, ForeignKey("tasks.id", ondelete="SET NULL")),
    Column("external_event_id", Id, ForeignKey("external_events.id", ondelete="SET NULL")),
    Column("action_type", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("parameters", Json, nullable=False),
    Column("expected_impact", Json),
    Column("created_at", Timestamp, nullable=False),
    Column("decided_at", Timestamp),
    Column("decided_by", String(320)),
    # Since 0008: the order of an event's proposals, the versions of the tasks an action touches
    # when proposed (approving checks them), and a rejection's reason.
    Column("rank", Integer, nullable=False, server_default="1"),
    Column("task_versions", Json),
    Column("decision_note", Text),
)

# The seed's monte_carlo_results: one row a run, its result as JSON.
simulations = Table(
    "simulations",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("iterations", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("shards", Integer, nullable=False, server_default="1"),
    Column("distribution", String(20), nullable=False, server_default="PERT"),
    Column("event_date", Date),
    Column("as_of", Date, nullable=False),
    Column("progress", Float, nullable=False, server_default="0"),
    Column("completed_iterations", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("result", Json),
    Column("requested_by", String(320)),
    Column("created_at", Timestamp, nullable=False),
    Column("started_at", Timestamp),
    Column("completed_at", Timestamp),
    # Written when a worker claims the run and with every progress write: a RUNNING run whose
    # heartbeat is old died with its worker (recover() fails it), a fresh one is alive elsewhere.
    Column("heartbeat_at", Timestamp),
)

# Who may see and change a plan (planning.access): one row a member, its role on the plan.
plan_members = Table(
    "plan_members",
    metadata,
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(320), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("added_at", Timestamp, nullable=False),
    Column("added_by", String(320), nullable=False),
)

# The record of access: each membership change, who made it, when, before and after.
plan_activity = Table(
    "plan_activity",
    metadata,
    Column("id", Id, primary_key=True),
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(320), nullable=False),
    Column("before", Json),
    Column("after", Json),
)

outbox = Table(
    "outbox",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Id, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("entity_id", Id, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("data", Json, nullable=False),
)

outbox_checkpoints = Table(
    "outbox_checkpoints",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)

# Each plan's Microsoft Planner sync: when it last started, succeeded, failed and why, its counts.
planner_sync_state = Table(
    "planner_sync_state",
    metadata,
    Column("plan_id", Id, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    Column("last_started_at", Timestamp),
    Column("last_succeeded_at", Timestamp),
    Column("last_error", Text),
    Column("last_error_at", Timestamp),
    Column("created", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("deleted", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
)

Index("ix_simulations_plan_created", simulations.c.plan_id, simulations.c.id)
# A user's plans (the plans list, and its roles read once a request).
Index("ix_plan_members_user_id", plan_members.c.user_id)
# A plan's record of access, newest first.
Index("ix_plan_activity_plan_id", plan_activity.c.plan_id, plan_activity.c.id)
# Whether the graph has applied a plan's last change: the newest position of one plan.
Index("ix_outbox_plan_position", outbox.c.plan_id, outbox.c.position)
# An event's pending proposals (replaced when the agent runs again for it).
Index("ix_proposed_actions_event_status", proposed_actions.c.external_event_id, proposed_actions.c.status)

# The raw result of each shard of a run fanned out over Lambda (adapters.sql.shard_results),
# kept from the shard until the merge: JSON text, exact for every float.
simulation_shard_results = Table(
    "simulation_shard_results",
    metadata,
    Column("simulation_id", Id, ForeignKey("simulations.id", ondelete="CASCADE"), primary_key=True),
    Column("shard_index", Integer, primary_key=True),
    Column("result", Text, nullable=False),
)
