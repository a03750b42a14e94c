"""Labels and property keys of the dependency graph, and the mapping of read rows to port types.

Vertex identity: the task id is stored in the ``task_id`` property, not as the vertex's
``T.id``. Neptune accepts user-supplied string ids, but gremlite 0.1.2 does not: its ids are
SQLite integers it allocates itself, ``V()`` accepts only ints, and ``property()`` rejects a
non-string key such as ``T.id``. One traversal shape for both targets therefore looks vertices
up by ``has('Task', 'task_id', id)`` (an index lookup on both: Neptune indexes every
property, gremlite keeps a (predicate, object) index).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planning.ports.graph import GraphTask

TASK = "Task"
DEPENDS_ON = "depends_on"

TASK_ID = "task_id"
PLAN_ID = "plan_id"
STATUS = "status"
PERCENT_COMPLETE = "percent_complete"
OPTIMISTIC = "optimistic_days"
MOST_LIKELY = "most_likely_days"
PESSIMISTIC = "pessimistic_days"
DURATION_KEYS = (OPTIMISTIC, MOST_LIKELY, PESSIMISTIC)
TASK_KEYS = (TASK_ID, PLAN_ID, STATUS, PERCENT_COMPLETE, *DURATION_KEYS)

DEPENDENCY_ID = "dependency_id"
LAG_DAYS = "lag_days"


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def task_from_row(row: Mapping[Any, Any]) -> GraphTask:
    """A ``GraphTask`` from an ``elementMap(*TASK_KEYS)`` row; absent durations are ``None``."""
    return GraphTask(
        task_id=str(row[TASK_ID]),
        plan_id=str(row[PLAN_ID]),
        status=str(row.get(STATUS, "")),
        percent_complete=int(row.get(PERCENT_COMPLETE, 0)),
        optimistic_days=_optional_float(row.get(OPTIMISTIC)),
        most_likely_days=_optional_float(row.get(MOST_LIKELY)),
        pessimistic_days=_optional_float(row.get(PESSIMISTIC)),
    )
