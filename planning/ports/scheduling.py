from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from planning.model import WorkCalendar
from planning.ports.graph import GraphEdge, GraphTask


@dataclass(frozen=True, slots=True)
class Delay:
    """Extra working days on some tasks, such as an external event's delay."""

    task_ids: tuple[str, ...]
    days: float


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    tasks: tuple[GraphTask, ...]
    edges: tuple[GraphEdge, ...]
    calendar: WorkCalendar
    as_of: date
    delays: tuple[Delay, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskTiming:
    early_start: date
    early_finish: date
    late_start: date
    late_finish: date
    slack_days: float
    critical: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """The deterministic (critical path) schedule of a plan's remaining work."""

    timings: Mapping[str, TaskTiming]
    critical_path: tuple[str, ...]
    duration_days: float
    start_date: date
    finish_date: date


class Scheduler(Protocol):
    def schedule(self, request: ScheduleRequest) -> Schedule:
        """Forward and backward passes on most-likely remaining durations.

        Tasks without a duration take none; a cycle raises a DomainError with code CYCLE.
        """
        ...
