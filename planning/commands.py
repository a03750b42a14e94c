"""What callers ask the services to do. Plain data; validation happens in the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from planning.model import (
    DependencyType,
    ExternalEventStatus,
    Severity,
    TaskStatus,
    ThreePointEstimate,
    WorkCalendar,
)
from planning.model.membership import PlanRole


@dataclass(frozen=True, slots=True)
class CreatePlan:
    name: str
    event_date: date | None = None
    planner_plan_id: str | None = None
    calendar: WorkCalendar = field(default_factory=WorkCalendar)


@dataclass(frozen=True, slots=True)
class CreateTask:
    plan_id: str
    title: str
    status: TaskStatus | None = None
    percent_complete: int | None = None
    start_date: date | None = None
    due_date: date | None = None
    duration_days: float | None = None
    estimate: ThreePointEstimate | None = None
    assignees: tuple[str, ...] = ()
    planner_task_id: str | None = None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateTask:
    """``changes`` holds only the fields the caller sent, by model attribute name."""

    task_id: str
    changes: dict[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteTask:
    task_id: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class AddDependency:
    predecessor_id: str
    successor_id: str
    type: DependencyType = DependencyType.FINISH_TO_START
    lag_days: float = 0.0


@dataclass(frozen=True, slots=True)
class RemoveDependency:
    dependency_id: str


@dataclass(frozen=True, slots=True)
class IngestExternalEvent:
    plan_id: str
    event_type: str
    severity: Severity
    title: str
    description: str | None = None
    source: str | None = None
    occurred_at: datetime | None = None
    delay_days: float = 0.0
    probability: float | None = None
    payload: Any = None
    affected_task_ids: tuple[str, ...] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """``changes`` holds only the fields the caller sent (see planning.model.plan.UPDATABLE_FIELDS):
    ``name``, ``event_date`` and ``planner_plan_id`` by attribute name (None clears the last two),
    ``working_days`` (MON..SUN names) and ``holidays`` (dates), each replacing its part of the calendar.
    """

    plan_id: str
    changes: dict[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class DeletePlan:
    plan_id: str


@dataclass(frozen=True, slots=True)
class ResolveExternalEvent:
    event_id: str
    status: ExternalEventStatus
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CancelSimulation:
    simulation_id: str


@dataclass(frozen=True, slots=True)
class AddPlanMember:
    plan_id: str
    user_id: str
    role: PlanRole


@dataclass(frozen=True, slots=True)
class UpdatePlanMember:
    plan_id: str
    user_id: str
    role: PlanRole


@dataclass(frozen=True, slots=True)
class RemovePlanMember:
    plan_id: str
    user_id: str
