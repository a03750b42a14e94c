"""Graph questions: forecast, critical path, slack, reach, risk and the impact of an external event.

Every answer about a plan's schedule comes from one forecast per plan and request (the
``schedule_by_plan`` loader): the schedule from today with the plan's OPEN certain events' delays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

from planning.model import ExternalEvent, Plan, Task
from planning.ports.scheduling import TaskTiming
from planning.services.graph_queries import GraphQueries
from resolvers.context import RequestContext
from resolvers.errors import BadRequest, Unavailable
from resolvers.graph_views import CriticalPath, EventImpactView, PlanScheduleView
from resolvers.loaders import UNKNOWN, known

MAX_DEPTH = 100


async def _view(ctx: RequestContext, plan_id: str) -> PlanScheduleView | None:
    return await ctx.loaders.schedule_by_plan.load(plan_id)


async def _tasks(ctx: RequestContext, plan_id: str, ids: list[str]) -> list[Task]:
    """The plan's tasks of ``ids`` that it still holds, in order."""
    return await ctx.loaders.task_lists.load((plan_id, tuple(ids)))


async def critical_path(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> CriticalPath:
    view = await _view(ctx, parent.id)
    if view is None or view.schedule is None:
        return CriticalPath(tasks=[], duration_days=0.0, start_date=None, finish_date=None)
    schedule = view.schedule
    return CriticalPath(
        tasks=await _tasks(ctx, parent.id, list(schedule.critical_path)),
        duration_days=schedule.duration_days,
        start_date=schedule.start_date,
        finish_date=schedule.finish_date,
    )


async def forecast_finish_date(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> date | None:
    """The day the plan's remaining work finishes in the forecast; null for a plan without tasks."""
    view = await _view(ctx, parent.id)
    return None if view is None or view.schedule is None else view.schedule.finish_date


def _from_view(ctx: RequestContext, plan_id: str, answer: Callable[[PlanScheduleView | None], Any]) -> Any:
    """``answer`` of the plan's forecast: at once when the request holds it already (a critical
    path or another task read it), else an awaitable of it."""
    view = known(ctx.loaders.schedule_by_plan, plan_id)
    if view is not UNKNOWN:
        return answer(view)

    async def read() -> Any:
        return answer(await _view(ctx, plan_id))

    return read()


def _timing_of(task: Task, answer: Callable[[TaskTiming], Any]) -> Callable[[PlanScheduleView | None], Any]:
    def of_view(view: PlanScheduleView | None) -> Any:
        timing = view.schedule.timings.get(task.id) if view and view.schedule else None
        return None if timing is None else answer(timing)

    return of_view


def slack_days(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Any:
    return _from_view(ctx, parent.plan_id, _timing_of(parent, lambda t: t.slack_days))


def is_critical(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Any:
    return _from_view(ctx, parent.plan_id, _timing_of(parent, lambda t: t.critical))


def forecast_start(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Any:
    """The forecast's first day of the task's remaining work; null when completed (none left)."""
    return _from_view(ctx, parent.plan_id, _timing_of(parent, lambda t: t.forecast_start))


def forecast_finish(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Any:
    """The forecast's last day of the task's remaining work; null when completed (none left)."""
    return _from_view(ctx, parent.plan_id, _timing_of(parent, lambda t: t.forecast_finish))


def risk_score(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Any:
    return _from_view(ctx, parent.plan_id, lambda view: None if view is None else view.risk_scores.get(parent.id))


def _max_depth(args: dict[str, Any]) -> int | None:
    depth = args.get("maxDepth")
    if depth is None:
        return None
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise BadRequest(f"maxDepth must be between 1 and {MAX_DEPTH}, got {depth!r}")
    return depth


async def upstream(ctx: RequestContext, parent: Task, args: dict[str, Any]) -> list[Task]:
    """Every task this one waits for, directly or not, nearest first; maxDepth limits the hops."""
    depth = _max_depth(args)
    view = await _view(ctx, parent.plan_id)
    if view is None:
        return []
    return await _tasks(ctx, parent.plan_id, GraphQueries.upstream(view.graph, parent.id, depth))


async def downstream(ctx: RequestContext, parent: Task, args: dict[str, Any]) -> list[Task]:
    """Every task that waits for this one, directly or not, nearest first; maxDepth limits the hops."""
    depth = _max_depth(args)
    view = await _view(ctx, parent.plan_id)
    if view is None:
        return []
    return await _tasks(ctx, parent.plan_id, GraphQueries.downstream(view.graph, parent.id, depth))


async def impact(ctx: RequestContext, parent: ExternalEvent, _args: dict[str, Any]) -> EventImpactView:
    try:
        found = await asyncio.to_thread(ctx.services.graph.event_impact, ctx.access, parent)
    except (ConnectionError, OSError, TimeoutError) as exc:
        raise Unavailable("the dependency graph cannot be read right now; try again shortly") from exc
    return EventImpactView(
        affected_task_count=found.affected_task_count,
        critical_path_delay_days=found.critical_path_delay_days,
        finish_date_before=found.finish_date_before,
        finish_date_after=found.finish_date_after,
        downstream_tasks=await _tasks(ctx, parent.plan_id, list(found.downstream_task_ids)),
        probability=found.probability,
        expected_delay_days=found.expected_delay_days,
        in_forecast=found.in_forecast,
    )
