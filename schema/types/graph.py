from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

if TYPE_CHECKING:
    from schema.types.tasks import TaskType

TaskRef = Annotated["TaskType", strawberry.lazy("schema.types.tasks")]


@strawberry.type(
    name="CriticalPath",
    description="The chain of zero-slack tasks that decides the finish, scheduled from today on most-likely "
    "remaining durations.",
)
class CriticalPathType:
    tasks: list[TaskRef]
    duration_days: float = strawberry.field(description="Working days from today to the finish.")
    start_date: date | None
    finish_date: date | None


@strawberry.type(
    name="EventImpact",
    description="What the event's delay on its affected tasks does to the schedule.",
)
class EventImpactType:
    affected_task_count: int
    critical_path_delay_days: float = strawberry.field(description="Working days the finish moves.")
    finish_date_before: date
    finish_date_after: date
    downstream_tasks: list[TaskRef] = strawberry.field(description="Tasks that wait, directly or not, for one hit.")
