"""Row <-> domain conversions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from planning.model import (
    Dependency,
    DependencyType,
    ExternalEvent,
    ExternalEventStatus,
    Plan,
    Severity,
    Task,
    TaskStatus,
    ThreePointEstimate,
    WorkCalendar,
)


def utc(value: datetime) -> datetime:
    """Everything is stored in UTC: SQLite keeps no offset, so convert before writing and tag on reading."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plan_values(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "planner_plan_id": plan.planner_plan_id,
        "event_date": plan.event_date,
        "working_weekdays": ",".join(str(d) for d in sorted(plan.calendar.working_weekdays)),
        "holidays": sorted(h.isoformat() for h in plan.calendar.holidays),
        "created_at": utc(plan.created_at),
        "updated_at": utc(plan.updated_at),
        "version": plan.version,
    }


def plan_from_row(row: Mapping[str, Any]) -> Plan:
    return Plan(
        id=row["id"],
        name=row["name"],
        planner_plan_id=row["planner_plan_id"],
        event_date=row["event_date"],
        calendar=WorkCalendar(
            frozenset(int(d) for d in row["working_weekdays"].split(",") if d),
            frozenset(date.fromisoformat(h) for h in row["holidays"]),
        ),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
        version=row["version"],
    )


#: The columns of ``tasks`` that ``task_values`` writes and ``task_from_row`` reads (the Planner
#: sync keeps its own beside them).
TASK_COLUMNS = (
    "id",
    "plan_id",
    "planner_task_id",
    "title",
    "status",
    "percent_complete",
    "start_date",
    "due_date",
    "duration_days",
    "optimistic_days",
    "most_likely_days",
    "pessimistic_days",
    "version",
    "created_at",
    "updated_at",
)


def task_values(task: Task) -> dict[str, Any]:
    est = task.estimate
    return {
        "id": task.id,
        "plan_id": task.plan_id,
        "planner_task_id": task.planner_task_id,
        "title": task.title,
        "status": task.status.value,
        "percent_complete": task.percent_complete,
        "start_date": task.start_date,
        "due_date": task.due_date,
        "duration_days": task.duration_days,
        "optimistic_days": est.optimistic_days if est else None,
        "most_likely_days": est.most_likely_days if est else None,
        "pessimistic_days": est.pessimistic_days if est else None,
        "version": task.version,
        "created_at": utc(task.created_at),
        "updated_at": utc(task.updated_at),
    }


def task_from_row(row: Mapping[str, Any], assignees: Sequence[str]) -> Task:
    estimate = None
    if row["optimistic_days"] is not None:
        estimate = ThreePointEstimate(row["optimistic_days"], row["most_likely_days"], row["pessimistic_days"])
    return Task(
        id=row["id"],
        plan_id=row["plan_id"],
        title=row["title"],
        status=TaskStatus(row["status"]),
        percent_complete=row["percent_complete"],
        start_date=row["start_date"],
        due_date=row["due_date"],
        duration_days=row["duration_days"],
        estimate=estimate,
        assignees=tuple(assignees),
        planner_task_id=row["planner_task_id"],
        version=row["version"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
    )


def dependency_values(dep: Dependency) -> dict[str, Any]:
    return {
        "id": dep.id,
        "plan_id": dep.plan_id,
        "predecessor_id": dep.predecessor_id,
        "successor_id": dep.successor_id,
        "type": dep.type.value,
        "lag_days": dep.lag_days,
        "created_at": utc(dep.created_at),
    }


def dependency_from_row(row: Mapping[str, Any]) -> Dependency:
    return Dependency(
        id=row["id"],
        plan_id=row["plan_id"],
        predecessor_id=row["predecessor_id"],
        successor_id=row["successor_id"],
        type=DependencyType(row["type"]),
        lag_days=row["lag_days"],
        created_at=utc(row["created_at"]),
    )


def external_event_values(event: ExternalEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "plan_id": event.plan_id,
        "event_type": event.event_type,
        "severity": event.severity.value,
        "title": event.title,
        "description": event.description,
        "source": event.source,
        "occurred_at": utc(event.occurred_at),
        "received_at": utc(event.received_at),
        "delay_days": event.delay_days,
        "probability": event.probability,
        "payload": event.payload,
        "idempotency_key": event.idempotency_key,
        "status": event.status.value,
        "status_changed_at": utc(event.status_changed_at) if event.status_changed_at else None,
        "status_changed_by": event.status_changed_by,
        "status_note": event.status_note,
    }


def external_event_from_row(row: Mapping[str, Any], affected: Sequence[str]) -> ExternalEvent:
    return ExternalEvent(
        id=row["id"],
        plan_id=row["plan_id"],
        event_type=row["event_type"],
        severity=Severity(row["severity"]),
        title=row["title"],
        description=row["description"],
        source=row["source"],
        occurred_at=utc(row["occurred_at"]),
        received_at=utc(row["received_at"]),
        delay_days=row["delay_days"],
        probability=row["probability"],
        payload=row["payload"],
        affected_task_ids=tuple(affected),
        idempotency_key=row["idempotency_key"],
        status=ExternalEventStatus(row["status"]),
        status_changed_at=utc(row["status_changed_at"]) if row["status_changed_at"] else None,
        status_changed_by=row["status_changed_by"],
        status_note=row["status_note"],
    )
