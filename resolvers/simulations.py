from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from planning.commands import CancelSimulation
from planning.model import Plan, Task
from planning.model.simulation import DEFAULT_ITERATIONS, Distribution, Simulation
from planning.services.simulations import RunSimulation
from resolvers.arguments import as_date, as_enum, as_int, input_of
from resolvers.context import RequestContext
from resolvers.errors import payload_or_errors
from resolvers.ids import raw_id
from resolvers.pagination import Connection, paged_connection
from resolvers.payloads import SimulationPayload

DEFAULT_SIMULATIONS = 20


@dataclass(frozen=True, slots=True)
class HistogramBin:
    date: date
    count: int


@dataclass(frozen=True, slots=True)
class CumulativePoint:
    date: date
    probability: float


@dataclass(frozen=True, slots=True)
class TaskShare:
    """A task's criticality index or sensitivity; ``value`` is read as either."""

    task_id: str
    value: float

    @property
    def criticality_index(self) -> float:
        return self.value

    @property
    def correlation(self) -> float:
        return self.value


@dataclass(frozen=True, slots=True)
class SimulationResultView:
    on_time_probability: float | None
    on_time_standard_error: float | None
    mean_finish_date: date
    p50_finish_date: date
    p80_finish_date: date
    p90_finish_date: date
    histogram: list[HistogramBin]
    cumulative: list[CumulativePoint]
    task_criticality: list[TaskShare]
    sensitivity: list[TaskShare]


def result(parent: Simulation) -> SimulationResultView | None:
    data = parent.result
    if data is None:
        return None

    def shares(values: dict[str, float]) -> list[TaskShare]:
        return sorted((TaskShare(k, v) for k, v in values.items()), key=lambda s: (-abs(s.value), s.task_id))

    return SimulationResultView(
        on_time_probability=data.get("onTimeProbability"),
        on_time_standard_error=data.get("onTimeStandardError"),
        mean_finish_date=date.fromisoformat(data["meanFinishDate"]),
        p50_finish_date=date.fromisoformat(data["p50FinishDate"]),
        p80_finish_date=date.fromisoformat(data["p80FinishDate"]),
        p90_finish_date=date.fromisoformat(data["p90FinishDate"]),
        histogram=[HistogramBin(date.fromisoformat(b["date"]), b["count"]) for b in data["histogram"]],
        cumulative=[CumulativePoint(date.fromisoformat(p["date"]), p["probability"]) for p in data["cumulative"]],
        task_criticality=shares(data["taskCriticality"]),
        sensitivity=shares(data["sensitivity"]),
    )


async def share_task(ctx: RequestContext, parent: TaskShare, _args: dict[str, Any]) -> Task | None:
    return await ctx.loaders.task_by_id.load(parent.task_id)


async def plan(ctx: RequestContext, parent: Simulation, _args: dict[str, Any]) -> Plan | None:
    return await ctx.loaders.plan_by_id.load(parent.plan_id)


async def latest_simulation(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> Simulation | None:
    return await ctx.loaders.latest_simulation_by_plan.load(parent.id)


async def simulations(ctx: RequestContext, parent: Plan, args: dict[str, Any]) -> Connection[Simulation]:
    """Newest first."""
    runs = ctx.services.simulations
    return await paged_connection(
        args,
        DEFAULT_SIMULATIONS,
        lambda after, limit: runs.page(ctx.access, parent.id, after, limit),
        lambda: runs.count(ctx.access, parent.id),
    )


async def run_simulation(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> SimulationPayload:
    async def run() -> SimulationPayload:
        data = input_of(args)
        seed, iterations, shards = data.get("seed"), data.get("iterations"), data.get("shards")
        distribution = data.get("distribution")
        cmd = RunSimulation(
            plan_id=raw_id(data.get("planId"), "Plan", "input", "planId"),
            iterations=DEFAULT_ITERATIONS if iterations is None else as_int(iterations, "input", "iterations"),
            seed=None if seed is None else as_int(seed, "input", "seed"),
            as_of=as_date(data.get("asOf"), "input", "asOf"),
            shards=1 if shards is None else as_int(shards, "input", "shards"),
            distribution=Distribution.PERT
            if distribution is None
            else as_enum(Distribution, distribution, "input", "distribution"),
        )
        queued = await asyncio.to_thread(ctx.services.simulations.request, cmd, ctx.access)
        return SimulationPayload(simulation=queued)

    return await payload_or_errors(run, lambda errors: SimulationPayload(user_errors=errors))


async def cancel_simulation(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> SimulationPayload:
    async def run() -> SimulationPayload:
        data = input_of(args)
        cmd = CancelSimulation(simulation_id=raw_id(data.get("id"), "Simulation", "input", "id"))
        cancelled = await asyncio.to_thread(ctx.services.simulations.cancel, cmd, ctx.access)
        return SimulationPayload(simulation=cancelled)

    return await payload_or_errors(run, lambda errors: SimulationPayload(user_errors=errors))
