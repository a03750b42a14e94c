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
    "remaining durations with the delays of open certain external events; completed tasks are never on it.",
)
class CriticalPathType:
    tasks: list[TaskRef]
    duration_days: float = strawberry.field(description="Working days from today to the finish.")
    start_date: date | None
    finish_date: date | None


@strawberry.type(
    name="EventImpact",
    description="What the event's delay on its affected tasks does to the forecast if it occurs, and how likely "
    "that is. The other events count as in the forecast (open certain ones). An open certain event is in the "
    "forecast already: finishDateAfter is the plan's forecastFinishDate. For any other event finishDateBefore is.",
)
class EventImpactType:
    affected_task_count: int
    critical_path_delay_days: float = strawberry.field(description="Working days the finish moves if it occurs.")
    finish_date_before: date = strawberry.field(description="The forecast finish without the event.")
    finish_date_after: date = strawberry.field(description="The forecast finish if it occurs.")
    downstream_tasks: list[TaskRef] = strawberry.field(description="Tasks that wait, directly or not, for one hit.")
    probability: float = strawberry.field(
        description="How likely the delay is: 1 when certain (no probability, or 1), the event's probability for "
        "a risk (counted in simulations, not in the forecast), 0 once resolved or withdrawn."
    )
    expected_delay_days: float = strawberry.field(description="probability * criticalPathDelayDays.")
    in_forecast: bool = strawberry.field(
        description="Whether the plan's forecast and critical path include its delay: open and certain."
    )
