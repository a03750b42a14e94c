from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from planning.errors import check_version, invalid
from planning.model.calendar import WorkCalendar
from planning.model.limits import check_optional_text, check_text

MAX_NAME_LENGTH = 200
MAX_PLANNER_ID_LENGTH = 100

# What updatePlan may change, by name: the plan's own attributes, and the calendar's two parts
# (``working_days`` as MON..SUN names, ``holidays`` as dates), each replacing only itself.
UPDATABLE_FIELDS = frozenset({"name", "event_date", "planner_plan_id", "working_days", "holidays"})


@dataclass(frozen=True, slots=True)
class Plan:
    """A project that must be ready by ``event_date``; its tasks and dependencies live apart.

    ``version`` grows with every change of the plan itself (not of its tasks).
    """

    id: str
    name: str
    planner_plan_id: str | None
    event_date: date | None
    calendar: WorkCalendar
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise invalid("name must not be empty", "name")

    def check_input(self) -> None:
        """The bounds of what a caller sends; stored plans are not held to them when read."""
        check_text(self.name, "name", max_length=MAX_NAME_LENGTH)
        check_optional_text(self.planner_plan_id, "plannerPlanId", max_length=MAX_PLANNER_ID_LENGTH)

    def changed(self, changes: Mapping[str, Any], *, at: datetime, expected_version: int | None) -> Plan:
        """Apply a partial update: only the fields in ``changes`` change (see UPDATABLE_FIELDS).

        ``event_date`` or ``planner_plan_id`` set to None clears it; the name is trimmed and an
        empty Planner id means none. Answers the plan itself (same version) when nothing changes.
        """
        check_version("plan", self.version, expected_version)
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        fields: dict[str, Any] = {}
        if "name" in changes:
            check_text(changes["name"], "name", max_length=MAX_NAME_LENGTH)
            fields["name"] = changes["name"].strip()
        if "event_date" in changes:
            fields["event_date"] = changes["event_date"]
        if "planner_plan_id" in changes:
            planner_id = changes["planner_plan_id"] or None
            check_optional_text(planner_id, "plannerPlanId", max_length=MAX_PLANNER_ID_LENGTH)
            fields["planner_plan_id"] = planner_id
        if "working_days" in changes or "holidays" in changes:
            names = changes.get("working_days")
            holidays = changes.get("holidays")
            fields["calendar"] = WorkCalendar.from_names(
                list(self.calendar.weekday_names if names is None else names),
                list(self.calendar.holidays if holidays is None else holidays),
            )
        if all(getattr(self, name) == value for name, value in fields.items()):
            return self
        return replace(self, **fields, version=self.version + 1, updated_at=at)
