"""Questions answered from the dependency graph: schedule, critical path, reach, risk, impact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from planning.access import Caller, access_of
from planning.errors import DomainError, ErrorCode, not_found
from planning.model import ExternalEvent, ExternalEventStatus, Plan
from planning.model.dag import reachable
from planning.ports import PlanGraph, UnitOfWorkFactory
from planning.ports.clock import Clock
from planning.ports.memo import Memo, NoMemo
from planning.ports.scheduling import Delay, Schedule, Scheduler, ScheduleRequest
from planning.services.graph_freshness import PlanGraphReader

# Slack, in working days, at which a task's tightness has halved (see ``risk_scores``).
SLACK_HALF_LIFE_DAYS = 5.0


def in_forecast(event: ExternalEvent) -> bool:
    """Whether the event's delay is in the deterministic forecast: OPEN and certain.

    Uncertain OPEN events count only in simulations; resolved and withdrawn ones not at all.
    """
    return event.counts and event.certain


def forecast_delays(events: Iterable[ExternalEvent]) -> tuple[Delay, ...]:
    """The delays the plan's forecast (and critical path) carries, in the events' order."""
    return tuple(Delay(e.affected_task_ids, e.delay_days) for e in events if in_forecast(e))


def occurrence_probability(event: ExternalEvent) -> float:
    """How likely the event's delay is to happen: 1 when certain, 0 once it no longer counts."""
    if not event.counts:
        return 0.0
    return 1.0 if event.certain or event.probability is None else event.probability


@dataclass(frozen=True, slots=True)
class EventImpact:
    """What the event's delay does to the forecast if it occurs, and how likely that is.

    ``finish_date_before`` is the forecast without the event, ``finish_date_after`` with its
    delay; ``in_forecast`` says the plan's forecast already includes it (then ``after`` is that
    forecast; otherwise ``before`` is).
    """

    affected_task_count: int
    critical_path_delay_days: float
    finish_date_before: date
    finish_date_after: date
    downstream_task_ids: tuple[str, ...]
    probability: float
    in_forecast: bool

    @property
    def expected_delay_days(self) -> float:
        """``probability * critical_path_delay_days``: the delay it brings on average."""
        return round(self.probability * self.critical_path_delay_days, 6)


class GraphQueries:
    """``graph`` answers only when fresh (``FreshPlanGraphs``): every answer here is up to date.

    Questions about a stored plan take the caller: a plan it may not read is NOT_FOUND.

    Schedules are kept in ``memo`` for the graph object they were computed from (the fresh
    graph reader hands out the same object until the plan changes), the calendar, the day and
    the delays: a plan that did not change is scheduled once a day, not once a request.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        graph: PlanGraphReader,
        scheduler: Scheduler,
        clock: Clock,
        *,
        memo: Memo | None = None,
    ) -> None:
        self._uow = uow
        self._graph = graph
        self._scheduler = scheduler
        self._clock = clock
        self._memo: Memo = memo if memo is not None else NoMemo()

    def plan_graph(self, caller: Caller, plan_id: str) -> PlanGraph:
        self._require_read(caller, plan_id)
        return self._graph.plan_graph(plan_id)

    def _require_read(self, caller: Caller, plan_id: str) -> None:
        if not access_of(caller, self._uow).can(plan_id):
            raise not_found("plan", plan_id)

    def schedule(self, plan: Plan, graph: PlanGraph, delays: tuple[Delay, ...] = ()) -> Schedule:
        """The critical-path schedule of the plan's remaining work, from today, with ``delays``.

        A delay on a task the graph does not hold (deleted since the delay was read) is dropped.
        """
        as_of = self._clock.today()
        key = ("schedule", plan.id, id(graph), plan.calendar, as_of, delays)
        remembered = self._memo.get(key)
        if remembered is not None and remembered[0] is graph:  # id() alone may be reused
            schedule: Schedule = remembered[1]
            return schedule
        known = {t.task_id for t in graph.tasks}
        request = ScheduleRequest(
            tasks=graph.tasks,
            edges=graph.edges,
            calendar=plan.calendar,
            as_of=as_of,
            delays=tuple(Delay(tuple(t for t in d.task_ids if t in known), d.days) for d in delays),
        )
        schedule = self._scheduler.schedule(request)
        self._memo.put(key, (graph, schedule), weight=len(graph.tasks) + 1)
        return schedule

    def forecast_delays_of(self, caller: Caller, plan_id: str) -> tuple[Delay, ...]:
        """The delays in the plan's forecast: its OPEN certain external events'.

        The forecast is ``schedule(plan, graph, forecast_delays_of(plan.id))``. Read the delays
        before the graph: a fresh graph then holds every task they name, unless it was deleted
        in between (and a deleted task takes no delay).
        """
        self._require_read(caller, plan_id)
        with self._uow() as uow:
            return forecast_delays(uow.external_events.for_plan(plan_id))

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

    def event_impact(self, caller: Caller, event: ExternalEvent) -> EventImpact:
        """Compare the forecast without the event with the forecast as if it occurred for sure.

        Every other event counts as it does in the plan's forecast (OPEN certain ones). An OPEN
        certain event is in that forecast already: its impact is the forecast without it
        against the forecast. Any other event's impact is the forecast against the forecast
        with its delay; ``probability`` says how likely that delay is.
        """
        self._require_read(caller, event.plan_id)
        with self._uow() as uow:
            plan = uow.plans.get(event.plan_id)
            events = uow.external_events.for_plan(event.plan_id) if plan is not None else []
        if plan is None:
            raise not_found("plan", event.plan_id)
        graph = self._graph.plan_graph(plan.id)
        known = {t.task_id for t in graph.tasks}
        if not set(event.affected_task_ids) <= known:
            raise DomainError(
                ErrorCode.UNAVAILABLE,
                "the dependency graph has not caught up with this event's tasks yet; try again shortly",
            )
        # As if it occurred: OPEN and certain, in its place among the plan's events (so the
        # delays add up in the forecast's order, and an event in the forecast gives it exactly).
        occurring = replace(event, status=ExternalEventStatus.OPEN, probability=None)
        others = [e for e in events if e.id != event.id]
        with_it = [occurring if e.id == event.id else e for e in events]
        if len(with_it) == len(others):  # not stored (yet): it comes last
            with_it.append(occurring)
        before = self.schedule(plan, graph, forecast_delays(others))
        after = self.schedule(plan, graph, forecast_delays(with_it))
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
            probability=occurrence_probability(event),
            in_forecast=in_forecast(event),
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
