from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from planning.model import Plan, Task
from planning.ports import PlanGraph
from planning.ports.scheduling import Schedule
from planning.services.graph_queries import GraphQueries


class PlanScheduleView:
    """One plan's graph and forecast, read once per request; risk scores on first use.

    ``schedule`` is the forecast (None for a plan without tasks): slack, criticality, risk
    scores, forecast dates and the critical path all come from it.
    """

    def __init__(self, plan: Plan, graph: PlanGraph, schedule: Schedule | None) -> None:
        self.plan = plan
        self.graph = graph
        self.schedule = schedule

    @cached_property
    def risk_scores(self) -> dict[str, float]:
        if self.schedule is None:
            return {}
        return GraphQueries.risk_scores(self.graph, self.schedule)


@dataclass(frozen=True, slots=True)
class CriticalPath:
    tasks: Sequence[Task]
    duration_days: float
    start_date: date | None
    finish_date: date | None


@dataclass(frozen=True, slots=True)
class EventImpactView:
    affected_task_count: int
    critical_path_delay_days: float
    finish_date_before: date
    finish_date_after: date
    downstream_tasks: Sequence[Task]
    probability: float
    expected_delay_days: float
    in_forecast: bool
