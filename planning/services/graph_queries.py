"""Questions answered from the dependency graph: schedule, critical path, reach, risk, impact."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from planning.errors import DomainError, ErrorCode, not_found
from planning.model import ExternalEvent, Plan
from planning.model.dag import reachable
from planning.ports import DependencyGraph, PlanGraph, UnitOfWorkFactory
from planning.ports.clock import Clock
from planning.ports.scheduling import Delay, Schedule, Scheduler, ScheduleRequest

# Slack, in working days, at which a task's tightness has halved (see ``risk_scores``).
SLACK_HALF_LIFE_DAYS = 5.0


@dataclass(frozen=True, slots=True)
class EventImpact:
    affected_task_count: int
    critical_path_delay_days: float
    finish_date_before: date
    finish_date_after: date
    downstream_task_ids: tuple[str, ...]


class GraphQueries:
    def __init__(self, uow: UnitOfWorkFactory, graph: DependencyGraph, scheduler: Scheduler, clock: Clock) -> None:
        self._uow = uow
        self._graph = graph
        self._scheduler = scheduler
        self._clock = clock

    def plan_graph(self, plan_id: str) -> PlanGraph:
        return self._graph.plan_graph(plan_id)

    def schedule(self, plan: Plan, graph: PlanGraph, delays: tuple[Delay, ...] = ()) -> Schedule:
        """The critical-path schedule of the plan's remaining work, from today."""
        request = ScheduleRequest(
            tasks=graph.tasks,
            edges=graph.edges,
            calendar=plan.calendar,
            as_of=self._clock.today(),
            delays=delays,
        )
        return self._scheduler.schedule(request)

    @staticmethod
    def upstream(graph: PlanGraph, task_id: str, max_depth: int | None) -> list[str]:
        """Transitive predecessors, nearest first (ties by id)."""
        return _nearest_first(reachable(_neighbours(graph, forward=False), task_id, max_depth))

    @staticmethod
    def downstream(graph: PlanGraph, task_id: str, max_depth: int | None) -> list[str]:
        """Transitive successors, nearest first (ties by id)."""
        return _nearest_first(reachable(_neighbours(graph, forward=True), task_id, max_depth))

    @classmethod
    def risk_scores(cls, graph: PlanGraph, schedule: Schedule) -> dict[str, float]:
        """How much a slip of each task would hurt the plan, from 0 to 100.

        ``riskScore = 100 * tightness * (0.5 + 0.5 * reach)`` where
        ``tightness = 1 / (1 + slack / 5)`` (1 on the critical path, 0.5 with five working days
        of slack) and ``reach`` is the share of the plan's other tasks downstream of it. A
        critical task that everything waits for scores 100; completed tasks score 0, since they
        can no longer slip.
        """
        others = max(len(graph.tasks) - 1, 1)
        succs = _neighbours(graph, forward=True)
        scores = {}
        for task in graph.tasks:
            timing = schedule.timings.get(task.task_id)
            if task.status == "COMPLETED" or timing is None:
                scores[task.task_id] = 0.0
                continue
            reach = len(reachable(succs, task.task_id)) / others
            tightness = 1.0 / (1.0 + max(timing.slack_days, 0.0) / SLACK_HALF_LIFE_DAYS)
            scores[task.task_id] = round(100.0 * tightness * (0.5 + 0.5 * reach), 2)
        return scores

    def event_impact(self, event: ExternalEvent) -> EventImpact:
        """Reschedule with the event's delay on its affected tasks and compare the finish."""
        with self._uow() as uow:
            plan = uow.plans.get(event.plan_id)
        if plan is None:
            raise not_found("plan", event.plan_id)
        graph = self._graph.plan_graph(plan.id)
        known = {t.task_id for t in graph.tasks}
        if not set(event.affected_task_ids) <= known:
            raise DomainError(
                ErrorCode.UNAVAILABLE,
                "the dependency graph has not caught up with this event's tasks yet; try again shortly",
            )
        before = self.schedule(plan, graph)
        after = self.schedule(plan, graph, (Delay(event.affected_task_ids, event.delay_days),))
        downstream: dict[str, None] = {}
        for task_id in event.affected_task_ids:
            downstream.update(dict.fromkeys(self.downstream(graph, task_id, None)))
        for task_id in event.affected_task_ids:
            downstream.pop(task_id, None)
        return EventImpact(
            affected_task_count=len(event.affected_task_ids),
            critical_path_delay_days=round(after.duration_days - before.duration_days, 6),
            finish_date_before=before.finish_date,
            finish_date_after=after.finish_date,
            downstream_task_ids=tuple(downstream),
        )


def _neighbours(graph: PlanGraph, *, forward: bool) -> dict[str, list[str]]:
    """Each task's successors (``forward``) or predecessors."""
    out: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        if forward:
            out[edge.predecessor_id].append(edge.successor_id)
        else:
            out[edge.successor_id].append(edge.predecessor_id)
    return out


def _nearest_first(found: list[tuple[str, int]]) -> list[str]:
    return [node for node, _ in sorted(found, key=lambda item: (item[1], item[0]))]
