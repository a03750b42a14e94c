"""The GraphQL shape of a live event: global ids (``resolvers.ids``) in place of the store's.

``PlanEvent.data`` is the snapshot that the outbox holds (``planning.snapshots``: camelCase keys,
as in the schema); here its ids become the ids the API hands out everywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planning.events import PlanEventKind
from resolvers.ids import to_global_id

#: The GraphQL type of the entity an event of each kind is about (by the kind's prefix).
_ENTITY_TYPES = (
    ("TASK_", "Task"),
    ("DEPENDENCY_", "Dependency"),
    ("EXTERNAL_EVENT_", "ExternalEvent"),
    ("SIMULATION_", "Simulation"),
    ("ACTION_", "ProposedAction"),
    ("MEMBER_", "PlanActivity"),
)
#: Keys of a snapshot that hold the raw id of a task.
_TASK_KEYS = frozenset({"predecessorId", "successorId"})


def entity_type(kind: PlanEventKind) -> str:
    """``Plan`` for the plan's own events (PLAN_*, CRITICAL_PATH_RECALCULATED, PLANNER_SYNC_*)."""
    for prefix, type_name in _ENTITY_TYPES:
        if kind.value.startswith(prefix):
            return type_name
    return "Plan"


def entity_id(kind: PlanEventKind, raw_id: str) -> str:
    return to_global_id(entity_type(kind), raw_id)


def plan_id(raw_id: str) -> str:
    return to_global_id("Plan", raw_id)


def simulation_id(raw_id: str) -> str:
    return to_global_id("Simulation", raw_id)


def event_data(kind: PlanEventKind, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with its ids as global ids: ``id`` (the entity's), ``planId``, and task ids."""
    shaped = dict(data)
    if isinstance(shaped.get("id"), str):
        shaped["id"] = entity_id(kind, shaped["id"])
    if isinstance(shaped.get("planId"), str):
        shaped["planId"] = plan_id(shaped["planId"])
    for key in _TASK_KEYS:
        if isinstance(shaped.get(key), str):
            shaped[key] = to_global_id("Task", shaped[key])
    if isinstance(shaped.get("affectedTaskIds"), list):
        shaped["affectedTaskIds"] = [
            to_global_id("Task", t) if isinstance(t, str) else t for t in shaped["affectedTaskIds"]
        ]
    return shaped
