from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from planning.errors import check_version, invalid
from planning.model.enums import TaskStatus
from planning.model.estimate import ThreePointEstimate
from planning.model.limits import MAX_ASSIGNEES, check_days, check_optional_text, check_text

MAX_TITLE_LENGTH = 500
MAX_PLANNER_ID_LENGTH = 100
MAX_ASSIGNEE_LENGTH = 320


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of work in a plan. Every accepted change yields a new Task with ``version + 1``."""

    id: str
    plan_id: str
    title: str
    status: TaskStatus
    percent_complete: int
    start_date: date | None
    due_date: date | None
    duration_days: float | None
    estimate: ThreePointEstimate | None
    assignees: tuple[str, ...]
    planner_task_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        check_task_fields(
            title=self.title,
            status=self.status,
            percent_complete=self.percent_complete,
            start_date=self.start_date,
            due_date=self.due_date,
            duration_days=self.duration_days,
            assignees=self.assignees,
            planner_task_id=self.planner_task_id,
        )

    @classmethod
    def new(
        cls,
        *,
        id: str,  # noqa: A002 - the entity's field name
        plan_id: str,
        at: datetime,
        title: str,
        status: TaskStatus,
        percent_complete: int,
        start_date: date | None = None,
        due_date: date | None = None,
        duration_days: float | None = None,
        estimate: ThreePointEstimate | None = None,
        assignees: tuple[str, ...] = (),
        planner_task_id: str | None = None,
    ) -> Task:
        """A task at version 1: title trimmed, assignees trimmed and without repeats."""
        assignees = clean_assignees(assignees)
        check_task_input(
            {
                "title": title,
                "planner_task_id": planner_task_id,
                "assignees": assignees,
                "duration_days": duration_days,
                "estimate": estimate,
            }
        )
        return cls(
            id=id,
            plan_id=plan_id,
            title=title.strip(),
            status=status,
            percent_complete=percent_complete,
            start_date=start_date,
            due_date=due_date,
            duration_days=duration_days,
            estimate=estimate,
            assignees=assignees,
            planner_task_id=planner_task_id or None,
            version=1,
            created_at=at,
            updated_at=at,
        )

    @property
    def scheduling_points(self) -> tuple[float, float, float] | None:
        return scheduling_points(self.estimate, self.duration_days)

    def changed(self, changes: dict[str, Any], *, at: datetime, expected_version: int | None) -> Task:
        """Apply a partial update; status and percent complete follow each other when one is omitted."""
        check_version("task", self.version, expected_version)
        check_task_input(changes)
        changes = dict(changes)
        if "status" in changes and "percent_complete" not in changes:
            changes["percent_complete"] = implied_percent(changes["status"], self.percent_complete)
        elif "percent_complete" in changes and "status" not in changes:
            changes["status"] = implied_status(changes["percent_complete"], self.status)
        return replace(self, **changes, version=self.version + 1, updated_at=at)


def check_task_input(fields: Mapping[str, Any]) -> None:
    """The bounds of values a caller sends (by attribute name); only the fields given are checked.

    Kept apart from the invariants so that a task stored under older, looser bounds can still
    be read, and changed in its other fields.
    """
    if "title" in fields:
        check_text(fields["title"], "title", max_length=MAX_TITLE_LENGTH)
    if "planner_task_id" in fields:
        check_optional_text(fields["planner_task_id"], "plannerTaskId", max_length=MAX_PLANNER_ID_LENGTH)
    if "assignees" in fields:
        if len(fields["assignees"]) > MAX_ASSIGNEES:
            raise invalid(f"a task has at most {MAX_ASSIGNEES} assignees", "assignees")
        for assignee in fields["assignees"]:
            check_text(assignee, "assignees", max_length=MAX_ASSIGNEE_LENGTH)
    if fields.get("duration_days") is not None:
        check_days(fields["duration_days"], "durationDays")
    estimate = fields.get("estimate")
    if estimate is not None:
        for point in (estimate.optimistic_days, estimate.most_likely_days, estimate.pessimistic_days):
            check_days(point, "estimate")


def scheduling_points(
    estimate: ThreePointEstimate | None, duration_days: float | None
) -> tuple[float, float, float] | None:
    """The three points scheduling uses: the estimate, else ``durationDays`` for all three."""
    if estimate is not None:
        return (estimate.optimistic_days, estimate.most_likely_days, estimate.pessimistic_days)
    if duration_days is not None:
        return (duration_days, duration_days, duration_days)
    return None


def clean_assignees(assignees: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.strip() for a in assignees if a.strip()))


def implied_percent(status: TaskStatus, current: int) -> int:
    if status is TaskStatus.COMPLETED:
        return 100
    if status is TaskStatus.NOT_STARTED:
        return 0
    return 50 if current == 100 else current


def implied_status(percent: int, current: TaskStatus) -> TaskStatus:
    if percent == 100:
        return TaskStatus.COMPLETED
    if percent > 0:
        return TaskStatus.IN_PROGRESS
    return current if current is TaskStatus.IN_PROGRESS else TaskStatus.NOT_STARTED


def check_task_fields(
    *,
    title: str,
    status: TaskStatus,
    percent_complete: int,
    start_date: date | None,
    due_date: date | None,
    duration_days: float | None,
    assignees: tuple[str, ...] = (),
    planner_task_id: str | None = None,
) -> None:
    """The task invariants, in one place. They hold for every task, stored ones included."""
    del assignees, planner_task_id  # bounded on input only: see check_task_input
    if not title.strip():
        raise invalid("title must not be empty", "title")
    if isinstance(percent_complete, bool) or not 0 <= percent_complete <= 100:
        raise invalid(f"percentComplete must be between 0 and 100, got {percent_complete}", "percentComplete")
    if status is TaskStatus.COMPLETED and percent_complete != 100:
        raise invalid("a COMPLETED task is 100 percent complete", "percentComplete")
    if status is not TaskStatus.COMPLETED and percent_complete == 100:
        raise invalid(f"a task at 100 percent is COMPLETED, not {status.value}", "status")
    if status is TaskStatus.NOT_STARTED and percent_complete != 0:
        raise invalid("a NOT_STARTED task is 0 percent complete", "percentComplete")
    if start_date is not None and due_date is not None and start_date > due_date:
        raise invalid(f"startDate {start_date} is after dueDate {due_date}", "startDate")
    if duration_days is not None and (not math.isfinite(duration_days) or duration_days < 0):
        raise invalid("durationDays must be a finite number of working days, 0 or more", "durationDays")
