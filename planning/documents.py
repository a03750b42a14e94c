"""The JSON plan document: one file holding a plan, its tasks and dependencies.

Parsing checks the whole document before anything is stored, and every complaint names the
task (by its ``key``) and the field, so that a person can fix the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from planning.errors import DomainError, ErrorCode
from planning.model import DependencyType, TaskStatus, ThreePointEstimate, WorkCalendar
from planning.model.dag import path_between
from planning.model.limits import check_days
from planning.model.task import check_task_fields, check_task_input, implied_percent, implied_status

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DocumentError(DomainError):
    def __init__(self, message: str, *field: str) -> None:
        super().__init__(ErrorCode.INVALID_INPUT, message, tuple(field) or None)


@dataclass(frozen=True, slots=True)
class DocumentTask:
    key: str
    title: str
    status: TaskStatus
    percent_complete: int
    start_date: date | None
    due_date: date | None
    duration_days: float | None
    estimate: ThreePointEstimate | None
    assignees: tuple[str, ...]
    planner_task_id: str | None


@dataclass(frozen=True, slots=True)
class DocumentDependency:
    predecessor: str
    successor: str
    type: DependencyType
    lag_days: float


@dataclass(frozen=True, slots=True)
class PlanDocument:
    name: str
    event_date: date | None
    planner_plan_id: str | None
    calendar: WorkCalendar
    as_of: date | None
    tasks: tuple[DocumentTask, ...]
    dependencies: tuple[DocumentDependency, ...]

    def shifted(self, days: int) -> PlanDocument:
        """The same plan moved ``days`` later (dates, holidays and as-of alike)."""
        delta = timedelta(days=days)

        def move(d: date | None) -> date | None:
            return None if d is None else d + delta

        from dataclasses import replace

        return replace(
            self,
            event_date=move(self.event_date),
            as_of=move(self.as_of),
            calendar=WorkCalendar(self.calendar.working_weekdays, frozenset(h + delta for h in self.calendar.holidays)),
            tasks=tuple(replace(t, start_date=move(t.start_date), due_date=move(t.due_date)) for t in self.tasks),
        )


def parse_document(doc: Any) -> PlanDocument:
    if not isinstance(doc, dict):
        raise DocumentError("a plan document is a JSON object")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DocumentError("the document needs a non-empty name", "name")
    raw_tasks = doc.get("tasks")
    if not isinstance(raw_tasks, list):
        raise DocumentError("tasks must be a list", "tasks")
    tasks = []
    seen: set[str] = set()
    planner_ids: set[str] = set()
    for index, raw in enumerate(raw_tasks):
        task = _task(raw, index)
        if task.key in seen:
            raise DocumentError(f"task {task.key!r}: key is used by another task", "tasks", str(index), "key")
        if task.planner_task_id is not None:
            if task.planner_task_id in planner_ids:
                raise DocumentError(
                    f"task {task.key!r}: plannerTaskId: {task.planner_task_id!r} is used by another task",
                    "tasks",
                    str(index),
                    "plannerTaskId",
                )
            planner_ids.add(task.planner_task_id)
        seen.add(task.key)
        tasks.append(task)
    raw_deps = doc.get("dependencies", [])
    if not isinstance(raw_deps, list):
        raise DocumentError("dependencies must be a list", "dependencies")
    deps = [_dependency(raw, index, seen) for index, raw in enumerate(raw_deps)]
    _check_edges(deps)
    return PlanDocument(
        name=name.strip(),
        event_date=_date(doc.get("eventDate"), "eventDate"),
        planner_plan_id=_optional_text(doc.get("plannerPlanId"), "plannerPlanId"),
        calendar=_calendar(doc.get("calendar")),
        as_of=_date(doc.get("asOf"), "asOf"),
        tasks=tuple(tasks),
        dependencies=tuple(deps),
    )


def _task(raw: Any, index: int) -> DocumentTask:
    where = ("tasks", str(index))
    if not isinstance(raw, dict):
        raise DocumentError(f"tasks[{index}] must be an object", *where)
    key = raw.get("key")
    if not isinstance(key, str) or not key.strip():
        raise DocumentError(f"tasks[{index}] needs a key", *where, "key")
    label = f"task {key!r}"

    def fail(message: str, field: str) -> DocumentError:
        return DocumentError(f"{label}: {field}: {message}", *where, field)

    title = raw.get("title")
    if not isinstance(title, str):
        raise fail("a title is required", "title")
    status, percent = _status_and_percent(raw, fail)
    estimate = _estimate(raw.get("estimate"), fail)
    duration = raw.get("durationDays")
    if duration is not None and not _is_number(duration):
        raise fail(f"must be a number of working days, not {duration!r}", "durationDays")
    if estimate is None and duration is None:
        raise fail("a task needs an estimate or durationDays", "estimate")
    assignees = raw.get("assignees", [])
    if not isinstance(assignees, list) or not all(isinstance(a, str) for a in assignees):
        raise fail("must be a list of strings", "assignees")
    start = _date(raw.get("startDate"), "startDate", label, where)
    due = _date(raw.get("dueDate"), "dueDate", label, where)
    try:
        check_task_fields(
            title=title,
            status=status,
            percent_complete=percent,
            start_date=start,
            due_date=due,
            duration_days=None if duration is None else float(duration),
        )
        check_task_input(
            {
                "title": title,
                "planner_task_id": _optional_text(raw.get("plannerTaskId"), "plannerTaskId", label, where),
                "assignees": tuple(a.strip() for a in assignees if a.strip()),
                "duration_days": None if duration is None else float(duration),
                "estimate": estimate,
            }
        )
    except DomainError as exc:
        field = exc.field[-1] if exc.field else "task"
        raise DocumentError(f"{label}: {field}: {exc.message}", *where, field) from None
    return DocumentTask(
        key=key,
        title=title.strip(),
        status=status,
        percent_complete=percent,
        start_date=start,
        due_date=due,
        duration_days=None if duration is None else float(duration),
        estimate=estimate,
        assignees=tuple(a.strip() for a in assignees if a.strip()),
        planner_task_id=_optional_text(raw.get("plannerTaskId"), "plannerTaskId", label, where),
    )


def _status_and_percent(raw: dict[str, Any], fail: Callable[[str, str], DocumentError]) -> tuple[TaskStatus, int]:
    status_raw, percent_raw = raw.get("status"), raw.get("percentComplete")
    try:
        status = None if status_raw is None else TaskStatus(status_raw)
    except ValueError:
        raise fail(f"must be one of NOT_STARTED, IN_PROGRESS, COMPLETED, not {status_raw!r}", "status") from None
    if percent_raw is None:
        status = status or TaskStatus.NOT_STARTED
        return status, implied_percent(status, 0)
    if isinstance(percent_raw, bool) or not isinstance(percent_raw, int):
        raise fail(f"must be a whole number from 0 to 100, not {percent_raw!r}", "percentComplete")
    return status or implied_status(percent_raw, TaskStatus.NOT_STARTED), percent_raw


def _estimate(est: Any, fail: Callable[[str, str], DocumentError]) -> ThreePointEstimate | None:
    if est is None:
        return None
    if not isinstance(est, dict):
        raise fail("must be {optimisticDays, mostLikelyDays, pessimisticDays}", "estimate")
    points: list[Any] = [est.get(k) for k in ("optimisticDays", "mostLikelyDays", "pessimisticDays")]
    numbers = [float(p) for p in points if _is_number(p)]
    if len(numbers) != 3:
        raise fail("needs numbers optimisticDays, mostLikelyDays and pessimisticDays", "estimate")
    try:
        return ThreePointEstimate(*numbers)
    except DomainError as exc:
        raise fail(exc.message.removeprefix("estimate "), "estimate") from None


def _dependency(raw: Any, index: int, keys: set[str]) -> DocumentDependency:
    where = ("dependencies", str(index))
    if not isinstance(raw, dict):
        raise DocumentError(f"dependencies[{index}] must be an object", *where)
    ends = []
    for end in ("predecessor", "successor"):
        key = raw.get(end)
        if not isinstance(key, str) or key not in keys:
            raise DocumentError(f"dependencies[{index}]: {end}: no task has the key {key!r}", *where, end)
        ends.append(key)
    try:
        dep_type = DependencyType(raw.get("type", "FINISH_TO_START"))
    except ValueError:
        raise DocumentError(
            f"dependencies[{index}]: type: only FINISH_TO_START is supported, not {raw.get('type')!r}", *where, "type"
        ) from None
    lag = raw.get("lagDays", 0)
    if not _is_number(lag):
        raise DocumentError(f"dependencies[{index}]: lagDays: must be a number, not {lag!r}", *where, "lagDays")
    try:
        check_days(float(lag), "lagDays", negative=True)
    except DomainError as exc:
        raise DocumentError(f"dependencies[{index}]: {exc.message}", *where, "lagDays") from None
    return DocumentDependency(ends[0], ends[1], dep_type, float(lag))


def _check_edges(deps: list[DocumentDependency]) -> None:
    seen: set[tuple[str, str]] = set()
    edges: list[tuple[str, str]] = []
    for index, dep in enumerate(deps):
        pair = (dep.predecessor, dep.successor)
        where = ("dependencies", str(index))
        if dep.predecessor == dep.successor:
            raise DocumentError(f"dependencies[{index}]: task {dep.predecessor!r} cannot depend on itself", *where)
        if pair in seen:
            raise DocumentError(
                f"dependencies[{index}]: {dep.successor!r} already depends on {dep.predecessor!r}", *where
            )
        cycle = path_between(edges, dep.successor, dep.predecessor)
        if cycle is not None:
            loop = " -> ".join([*cycle, cycle[0]])
            raise DomainError(ErrorCode.CYCLE, f"dependencies[{index}] closes a cycle: {loop}", where)
        seen.add(pair)
        edges.append(pair)


def _calendar(raw: Any) -> WorkCalendar:
    if raw is None:
        return WorkCalendar()
    if not isinstance(raw, dict):
        raise DocumentError("calendar must be an object", "calendar")
    days = raw.get("workingDays", ["MON", "TUE", "WED", "THU", "FRI"])
    if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
        raise DocumentError('calendar: workingDays must be a list such as ["MON", "TUE"]', "calendar")
    holidays = raw.get("holidays", [])
    if not isinstance(holidays, list):
        raise DocumentError("calendar: holidays must be a list of dates", "calendar")
    parsed = [_date(h, "holidays") for h in holidays]
    return WorkCalendar.from_names(days, [h for h in parsed if h is not None])


def _date(value: Any, field: str, label: str | None = None, where: tuple[str, ...] = ()) -> date | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and _ISO_DATE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    prefix = f"{label}: " if label else ""
    raise DocumentError(f"{prefix}{field}: expected a date such as 2025-02-04, got {value!r}", *where, field)


def _optional_text(value: Any, field: str, label: str | None = None, where: tuple[str, ...] = ()) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        prefix = f"{label}: " if label else ""
        raise DocumentError(f"{prefix}{field}: must be text", *where, field)
    return value.strip() or None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
