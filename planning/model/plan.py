from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from planning.errors import invalid
from planning.model.calendar import WorkCalendar

MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Plan:
    """A project that must be ready by ``event_date``; its tasks and dependencies live apart."""

    id: str
    name: str
    planner_plan_id: str | None
    event_date: date | None
    calendar: WorkCalendar
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise invalid("name must not be empty", "name")
        if len(self.name) > MAX_NAME_LENGTH:
            raise invalid(f"name is longer than {MAX_NAME_LENGTH} characters", "name")
