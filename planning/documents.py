"""The JSON plan document: one file holding a plan, its tasks, dependencies and external events.

Parsing checks the whole document before anything is stored, and every complaint names where
it is (the task by its ``key``, an event by its index and title, an unknown key by its path)
and the field, so that a person can fix the file. Every object accepts only its known keys: a
misspelled key is an error with a suggestion, never silently dropped.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from planning.errors import DomainError, ErrorCode
from planning.model import (
    DependencyType,
    ExternalEvent,
    ExternalEventStatus,
    Severity,
    TaskStatus,
    ThreePointEstimate,
    WorkCalendar,
)
from planning.model.dag import path_between
from planning.model.limits import check_days
from planning.model.task import check_task_fields, check_task_input, implied_percent, implied_status
from planning.services.external_events import MAX_AFFECTED_TASKS

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The keys each object of a document may hold, in the order the exporter writes them.
DOCUMENT_KEYS = ("name", "eventDate", "asOf", "plannerPlanId", "calendar", "tasks", "dependencies", "events")
CALENDAR_KEYS = ("workingDays", "holidays")
TASK_KEYS = (
    "key",
    "title",
    "status",
    "percentComplete",
    "plannerTaskId",
    "startDate",
    "dueDate",
    "durationDays",
    "estimate",
    "assignees",
)
ESTIMATE_KEYS = ("optimisticDays", "mostLikelyDays", "pessimisticDays")
DEPENDENCY_KEYS = ("predecessor", "successor", "type", "lagDays")
EVENT_KEYS = (
    "eventType",
    "severity",
    "title",
    "description",
    "source",
    "occurredAt",
    "delayDays",
    "probability",
    "affectedTasks",
    "status",
    "payload",
    "idempotencyKey",
)

# Keys that belong somewhere else in the document: said instead of a near miss.
_DEPENDENCIES_HINT = 'dependencies go in the document\'s "dependencies" list as {"predecessor": KEY, "successor": KEY}'
_TASK_HINTS = dict.fromkeys(
    ("dependsOn", "dependencies", "predecessors", "predecessor", "successors", "successor"), _DEPENDENCIES_HINT
)
_DOCUMENT_HINTS = {
    "workingDays": 'it belongs in "calendar"',
    "holidays": 'it belongs in "calendar"',
}


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
class DocumentEvent:
    """An external event of the document; ``affected_tasks`` are task keys of the document."""

    event_type: str
    severity: Severity
    title: str
    description: str | None
    source: str | None
    occurred_at: datetime
    delay_days: float
    probability: float | None
    affected_tasks: tuple[str, ...]
    status: ExternalEventStatus
    payload: Any
    idempotency_key: str | None

    def entity(
        self, *, event_id: str, plan_id: str, received_at: datetime, task_ids: Mapping[str, str] | None = None
    ) -> ExternalEvent:
        """The event as it is stored; ``task_ids`` maps task keys to task ids (else keys serve as ids)."""
        return ExternalEvent(
            id=event_id,
            plan_id=plan_id,
            event_type=self.event_type,
            severity=self.severity,
            title=self.title,
            description=self.description,
            source=self.source,
            occurred_at=self.occurred_at,
            received_at=received_at,
            delay_days=self.delay_days,
            probability=self.probability,
            payload=copy.deepcopy(self.payload),
            affected_task_ids=tuple(k if task_ids is None else task_ids[k] for k in self.affected_tasks),
            idempotency_key=self.idempotency_key,
            status=self.status,
        )


@dataclass(frozen=True, slots=True)
class PlanDocument:
    name: str
    event_date: date | None
    planner_plan_id: str | None
    calendar: WorkCalendar
    as_of: date | None
    tasks: tuple[DocumentTask, ...]
    dependencies: tuple[DocumentDependency, ...]
    events: tuple[DocumentEvent, ...] = ()

    def shifted(self, days: int) -> PlanDocument:
        """The same plan moved ``days`` later: the event date, the as-of date, the tasks' dates and
        the events' times. Holidays stay on their dates: they are facts of the calendar."""
        delta = timedelta(days=days)

        def move(d: date | None) -> date | None:
            return None if d is None else d + delta

        return replace(
            self,
            event_date=move(self.event_date),
            as_of=move(self.as_of),
            tasks=tuple(replace(t, start_date=move(t.start_date), due_date=move(t.due_date)) for t in self.tasks),
            events=tuple(replace(e, occurred_at=e.occurred_at + delta) for e in self.events),
        )

    def external_events(self, plan_id: str = "document") -> tuple[ExternalEvent, ...]:
        """The document's events as entities, task keys serving as task ids (as a simulation of
        the document uses them); each is received when it occurred."""
        return tuple(
            e.entity(event_id=f"{plan_id}-event-{index}", plan_id=plan_id, received_at=e.occurred_at)
            for index, e in enumerate(self.events)
        )

    def open_events(self) -> tuple[ExternalEvent, ...]:
        """The events that still weigh on the schedule (``OPEN``), as :meth:`external_events`."""
        return tuple(e for e in self.external_events() if e.counts)


def parse_document(doc: Any) -> PlanDocument:
    if not isinstance(doc, dict):
        raise DocumentError("a plan document is a JSON object")
    _check_keys(doc, DOCUMENT_KEYS, "top level", (), _DOCUMENT_HINTS)
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
    raw_events = doc.get("events", [])
    if not isinstance(raw_events, list):
        raise DocumentError("events must be a list", "events")
    events = [_event(raw, index, seen) for index, raw in enumerate(raw_events)]
    _check_idempotency_keys(events)
    return PlanDocument(
        name=name.strip(),
        event_date=_date(doc.get("eventDate"), "eventDate"),
        planner_plan_id=_optional_text(doc.get("plannerPlanId"), "plannerPlanId"),
        calendar=_calendar(doc.get("calendar")),
        as_of=_date(doc.get("asOf"), "asOf"),
        tasks=tuple(tasks),
        dependencies=tuple(deps),
        events=tuple(events),
    )


def _check_keys(
    raw: Mapping[Any, Any],
    known: tuple[str, ...],
    where: str,
    path: tuple[str, ...],
    hints: Mapping[str, str] | None = None,
) -> None:
    """Refuse the first key that ``known`` lacks, naming its path and a near miss if there is one."""
    hints = hints or {}
    for name in raw:
        if name in known:
            continue
        text = name if isinstance(name, str) else str(name)
        message = f"{where}: unknown key {json.dumps(text)}"
        if text in hints:
            message += f"; {hints[text]}"
        else:
            near = _near_miss(text, known)
            if near is not None:
                message += f"; did you mean {json.dumps(near)}?"
        raise DocumentError(message, *path, text)


def _near_miss(name: str, known: tuple[str, ...]) -> str | None:
    by_lower = {k.lower(): k for k in known}
    found = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def _where(list_name: str, index: int, raw: Mapping[str, Any], *names: str) -> str:
    """``tasks[3] ("Design review")``: the position, with the first usable name among ``names``."""
    for name in names:
        value = raw.get(name)
        if isinstance(value, str) and value.strip():
            return f"{list_name}[{index}] ({json.dumps(value.strip(), ensure_ascii=False)})"
    return f"{list_name}[{index}]"


def _task(raw: Any, index: int) -> DocumentTask:
    where = ("tasks", str(index))
    if not isinstance(raw, dict):
        raise DocumentError(f"tasks[{index}] must be an object", *where)
    position = _where("tasks", index, raw, "title", "key")
    _check_keys(raw, TASK_KEYS, position, where, _TASK_HINTS)
    if isinstance(raw.get("estimate"), dict):
        _check_keys(raw["estimate"], ESTIMATE_KEYS, f"{position}.estimate", (*where, "estimate"))
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
    planner_task_id = _optional_text(raw.get("plannerTaskId"), "plannerTaskId", label, where)
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
                "planner_task_id": planner_task_id,
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
        planner_task_id=planner_task_id,
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
    points: list[Any] = [est.get(k) for k in ESTIMATE_KEYS]
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
    _check_keys(raw, DEPENDENCY_KEYS, f"dependencies[{index}]", where)
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


def _event(raw: Any, index: int, keys: set[str]) -> DocumentEvent:
    where = ("events", str(index))
    if not isinstance(raw, dict):
        raise DocumentError(f"events[{index}] must be an object", *where)
    label = _where("events", index, raw, "title")
    _check_keys(raw, EVENT_KEYS, label, where)

    def fail(message: str, field: str) -> DocumentError:
        return DocumentError(f"{label}: {field}: {message}", *where, field)

    def required_text(field: str) -> str:
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"is required, as text, not {value!r}", field)
        return value

    def optional_text(field: str) -> str | None:
        value = raw.get(field)
        if value is not None and not isinstance(value, str):
            raise fail(f"must be text, not {value!r}", field)
        return value

    event_type = required_text("eventType")
    title = required_text("title")
    severity_raw: Any = raw.get("severity")
    try:
        severity = Severity(severity_raw)
    except ValueError:
        raise fail(f"must be one of {_names(Severity)}, not {severity_raw!r}", "severity") from None
    status_raw = raw.get("status", ExternalEventStatus.OPEN.value)
    try:
        status = ExternalEventStatus(status_raw)
    except ValueError:
        raise fail(f"must be one of {_names(ExternalEventStatus)}, not {status_raw!r}", "status") from None
    occurred_at = _instant(raw.get("occurredAt"), fail)
    delay: Any = raw.get("delayDays")
    if not _is_number(delay):
        raise fail(f"is required, a number of working days, not {delay!r}", "delayDays")
    probability: Any = raw.get("probability")
    if probability is not None and not (_is_number(probability) and 0 <= probability <= 1):
        raise fail(
            f"must be a number from 0 to 1 (leave it out for a certain event), not {probability!r}", "probability"
        )
    affected = _affected_tasks(raw.get("affectedTasks"), keys, fail)
    event = DocumentEvent(
        event_type=event_type.strip(),
        severity=severity,
        title=title.strip(),
        description=optional_text("description"),
        source=optional_text("source"),
        occurred_at=occurred_at,
        delay_days=float(delay),
        probability=None if probability is None else float(probability),
        affected_tasks=affected,
        status=status,
        payload=copy.deepcopy(raw.get("payload")),
        idempotency_key=optional_text("idempotencyKey") or None,
    )
    try:
        event.entity(event_id="document", plan_id="document", received_at=occurred_at).check_input()
    except DomainError as exc:
        field = exc.field[-1] if exc.field else "event"
        raise fail(exc.message, field) from None
    return event


def _affected_tasks(value: Any, keys: set[str], fail: Callable[[str, str], DocumentError]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise fail('is required, a list of task keys such as ["task-001"] (it may be empty)', "affectedTasks")
    if len(value) > MAX_AFFECTED_TASKS:
        raise fail(f"at most {MAX_AFFECTED_TASKS} tasks", "affectedTasks")
    for position, key in enumerate(value):
        if key not in keys:
            raise fail(f"no task has the key {key!r}", "affectedTasks")
        if key in value[:position]:
            raise fail(f"task {key!r} is listed twice", "affectedTasks")
    return tuple(value)


def _check_idempotency_keys(events: list[DocumentEvent]) -> None:
    seen: set[str] = set()
    for index, event in enumerate(events):
        key = event.idempotency_key
        if key is None:
            continue
        if key in seen:
            raise DocumentError(
                f"events[{index}] ({json.dumps(event.title, ensure_ascii=False)}): idempotencyKey: "
                f"{key!r} is used by another event",
                "events",
                str(index),
                "idempotencyKey",
            )
        seen.add(key)


def _instant(value: Any, fail: Callable[[str, str], DocumentError]) -> datetime:
    """An ISO 8601 date-time with a zone (``Z`` or an offset), in UTC."""
    example = "such as 2025-02-05T10:30:00Z"
    if not isinstance(value, str) or "T" not in value:
        raise fail(f"is required, a date-time {example}, not {value!r}", "occurredAt")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"expected a date-time {example}, got {value!r}", "occurredAt") from None
    if parsed.tzinfo is None:
        raise fail(f"{value!r} needs a zone, such as Z for UTC", "occurredAt")
    return parsed.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """A date-time as documents write it: UTC with ``Z``, microseconds only when there are some."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def _names(enum: Any) -> str:
    return ", ".join(member.value for member in enum)


def _calendar(raw: Any) -> WorkCalendar:
    if raw is None:
        return WorkCalendar()
    if not isinstance(raw, dict):
        raise DocumentError("calendar must be an object", "calendar")
    _check_keys(raw, CALENDAR_KEYS, "calendar", ("calendar",))
    days = raw.get("workingDays", ["MON", "TUE", "WED", "THU", "FRI"])
    if not isinstance(days, list) or not all(isinstance(d, str) for d in days):
        raise DocumentError('calendar: workingDays must be a list such as ["MON", "TUE"]', "calendar", "workingDays")
    holidays = raw.get("holidays", [])
    if not isinstance(holidays, list):
        raise DocumentError("calendar: holidays must be a list of dates", "calendar", "holidays")
    parsed = [_date(h, "holidays", "calendar", ("calendar",)) for h in holidays]
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
