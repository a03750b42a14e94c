from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from planning.model.simulation import DEFAULT_ITERATIONS, MAX_ITERATIONS, MAX_SHARDS
from planning.model.simulation import Distribution as DomainDistribution
from planning.model.simulation import Simulation as DomainSimulation
from planning.model.simulation import SimulationStatus as DomainSimulationStatus
from resolvers import simulations as resolve
from resolvers.ids import to_global_id
from schema.types.common import Node, UserError

if TYPE_CHECKING:
    from schema.types.plans import PlanType
    from schema.types.tasks import TaskType

PlanRef = Annotated["PlanType", strawberry.lazy("schema.types.plans")]
TaskRef = Annotated["TaskType", strawberry.lazy("schema.types.tasks")]

SimulationStatus = strawberry.enum(DomainSimulationStatus, name="SimulationStatus")
Distribution = strawberry.enum(
    DomainDistribution, name="Distribution", description="How task durations are drawn from their three points."
)


@strawberry.type
class HistogramBin:
    date: date
    count: int


@strawberry.type
class CumulativePoint:
    date: date
    probability: float = strawberry.field(description="Share of iterations finished on or before the date.")


@strawberry.type(description="Share of iterations in which the task was on the critical path.")
class TaskCriticality:
    criticality_index: float

    @strawberry.field
    async def task(self, root: strawberry.Parent[resolve.TaskShare], info: strawberry.Info) -> TaskRef | None:
        return await resolve.share_task(info.context, root, {})  # type: ignore[return-value]


@strawberry.type(description="Spearman rank correlation of the task's duration with the plan's finish.")
class TaskSensitivity:
    correlation: float

    @strawberry.field
    async def task(self, root: strawberry.Parent[resolve.TaskShare], info: strawberry.Info) -> TaskRef | None:
        return await resolve.share_task(info.context, root, {})  # type: ignore[return-value]


@strawberry.type
class SimulationResult:
    on_time_probability: float | None = strawberry.field(
        description="Share of iterations finished on or before the event date; null without one."
    )
    on_time_standard_error: float | None
    mean_finish_date: date
    p50_finish_date: date
    p80_finish_date: date
    p90_finish_date: date
    histogram: list[HistogramBin] = strawberry.field(description="Finish dates; the counts add up to the iterations.")
    cumulative: list[CumulativePoint]
    task_criticality: list[TaskCriticality] = strawberry.field(description="Most critical first.")
    sensitivity: list[TaskSensitivity] = strawberry.field(description="Strongest correlation first.")


@strawberry.type(name="Simulation", description="A Monte Carlo schedule-risk run of a plan.")
class SimulationType(Node):
    status: SimulationStatus  # type: ignore[valid-type]
    iterations: int
    seed: int
    shards: int
    distribution: Distribution  # type: ignore[valid-type]
    event_date: date | None
    as_of: date = strawberry.field(description="The date remaining work is counted from.")
    progress: float = strawberry.field(description="0 to 1.")
    completed_iterations: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, DomainSimulation)

    @strawberry.field
    def id(self, root: strawberry.Parent[DomainSimulation]) -> strawberry.ID:
        return strawberry.ID(to_global_id("Simulation", root.id))

    @strawberry.field
    async def plan(self, root: strawberry.Parent[DomainSimulation], info: strawberry.Info) -> PlanRef | None:
        return await resolve.plan(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field(description="Null until the run has succeeded.")
    def result(self, root: strawberry.Parent[DomainSimulation]) -> SimulationResult | None:
        return resolve.result(root)  # type: ignore[return-value]


@strawberry.input
class RunSimulationInput:
    plan_id: strawberry.ID
    iterations: int | None = strawberry.field(
        default=UNSET, description=f"1 to {MAX_ITERATIONS:,}; {DEFAULT_ITERATIONS:,} when omitted."
    )
    seed: int | None = strawberry.field(default=UNSET, description="Same plan, seed and iterations: same result.")
    as_of: date | None = strawberry.field(default=UNSET, description="Count remaining work from this date; today.")
    shards: int | None = strawberry.field(
        default=UNSET, description=f"Split into 1 to {MAX_SHARDS} independent shards; the result does not change."
    )
    distribution: Distribution | None = UNSET  # type: ignore[valid-type]


@strawberry.type
class RunSimulationPayload:
    simulation: SimulationType | None
    user_errors: list[UserError]


@strawberry.input
class CancelSimulationInput:
    id: strawberry.ID


@strawberry.type
class CancelSimulationPayload:
    simulation: SimulationType | None
    user_errors: list[UserError]
