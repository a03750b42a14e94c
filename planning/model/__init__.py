"""Entities and value objects of a plan. Each enforces its own invariants on construction."""

from planning.model.calendar import WorkCalendar
from planning.model.dependency import Dependency
from planning.model.enums import DependencyType, ExternalEventStatus, Severity, TaskStatus
from planning.model.estimate import ThreePointEstimate
from planning.model.external_event import ExternalEvent
from planning.model.plan import Plan
from planning.model.task import Task

__all__ = [
    "Dependency",
    "DependencyType",
    "ExternalEvent",
    "ExternalEventStatus",
    "Plan",
    "Severity",
    "Task",
    "TaskStatus",
    "ThreePointEstimate",
    "WorkCalendar",
]
