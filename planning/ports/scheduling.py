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
    """When a task's remaining work happens in the schedule.

    A ``done`` (completed) task has no remaining work: it is never critical and has no
    forecast dates (its early dates are only the instant its successors may start from).
    """

    early_start: date
    early_finish: date
    late_start: date
    late_finish: date
    slack_days: float
    critical: bool
    done: bool = False

    @property
    def forecast_start(self) -> date | None:
        """The day the remaining work starts at the earliest; None when there is none left."""
        return None if self.done else self.early_start

    @property
    def forecast_finish(self) -> date | None:
        """The day the remaining work finishes at the earliest; None when there is none left."""
        return None if self.done else self.early_finish


@dataclass(frozen=True, slots=True)
class Schedule:
    """The deterministic (critical path) schedule of a plan's remaining work.

    ``critical_path`` lists the critical tasks that decide ``finish_date``, done ones left out.
    """

    timings: Mapping[str, TaskTiming]
    critical_path: tuple[str, ...]
    duration_days: float
    start_date: date
    finish_date: date


class Scheduler(Protocol):
    def schedule(self, request: ScheduleRequest) -> Schedule:
        """Forward and backward passes on most-likely remaining durations plus ``delays``.

        Tasks without a duration take none; completed tasks take none, are never critical and
        never on the critical path, and delays do not apply to them; a cycle raises a
        DomainError with code CYCLE.
        """
        ...
