"""Domain events: what changed in a plan. Recorded in the outbox in the change's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class PlanEventKind(StrEnum):
    TASK_CREATED = "TASK_CREATED"
    TASK_UPDATED = "TASK_UPDATED"
    TASK_DELETED = "TASK_DELETED"
    DEPENDENCY_ADDED = "DEPENDENCY_ADDED"
    DEPENDENCY_REMOVED = "DEPENDENCY_REMOVED"
    EXTERNAL_EVENT_RECEIVED = "EXTERNAL_EVENT_RECEIVED"
    ACTION_PROPOSED = "ACTION_PROPOSED"
    ACTION_APPROVED = "ACTION_APPROVED"
    ACTION_REJECTED = "ACTION_REJECTED"
    ACTION_APPLIED = "ACTION_APPLIED"
    SIMULATION_STARTED = "SIMULATION_STARTED"
    SIMULATION_COMPLETED = "SIMULATION_COMPLETED"
    SIMULATION_FAILED = "SIMULATION_FAILED"
    CRITICAL_PATH_RECALCULATED = "CRITICAL_PATH_RECALCULATED"
    PLANNER_SYNC_STARTED = "PLANNER_SYNC_STARTED"
    PLANNER_SYNC_COMPLETED = "PLANNER_SYNC_COMPLETED"
    PLAN_CREATED = "PLAN_CREATED"
    PLAN_UPDATED = "PLAN_UPDATED"
    PLAN_DELETED = "PLAN_DELETED"
    EXTERNAL_EVENT_UPDATED = "EXTERNAL_EVENT_UPDATED"
    SIMULATION_CANCELLED = "SIMULATION_CANCELLED"
    # Changes of who may see the plan: whoever follows a plan (a live subscription) checks again.
    MEMBER_ADDED = "MEMBER_ADDED"
    MEMBER_UPDATED = "MEMBER_UPDATED"
    MEMBER_REMOVED = "MEMBER_REMOVED"
    # A running simulation reached another tenth of its iterations (at most ten a run): what
    # ``onSimulationProgress`` follows, from whichever process runs it. ``onPlanEvent`` leaves it out.
    SIMULATION_PROGRESS = "SIMULATION_PROGRESS"


@dataclass(frozen=True, slots=True)
class PlanEvent:
    """``data`` is a JSON-ready snapshot of the changed entity (see ``planning.snapshots``)."""

    plan_id: str
    kind: PlanEventKind
    entity_id: str
    occurred_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A committed event with its position in the outbox; positions only grow."""

    position: int
    event: PlanEvent
