from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from planning.errors import invalid
from planning.model.calendar import WorkCalendar
from planning.model.limits import check_optional_text, check_text

MAX_NAME_LENGTH = 200
MAX_PLANNER_ID_LENGTH = 100


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

    def check_input(self) -> None:
        """The bounds of what a caller sends; stored plans are not held to them when read."""
        check_text(self.name, "name", max_length=MAX_NAME_LENGTH)
        check_optional_text(self.planner_plan_id, "plannerPlanId", max_length=MAX_PLANNER_ID_LENGTH)
