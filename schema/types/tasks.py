from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from planning import model
from resolvers import graph as graph_resolve
from resolvers import tasks as resolve
from resolvers.ids import to_global_id
from schema.types.common import Node, UserError
from schema.types.enums import TaskStatus
from schema.types.estimate import Estimate, EstimateInput

if TYPE_CHECKING:
    from schema.types.external_events import ExternalEventType
    from schema.types.plans import PlanType

PlanRef = Annotated["PlanType", strawberry.lazy("schema.types.plans")]
ExternalEventRef = Annotated["ExternalEventType", strawberry.lazy("schema.types.external_events")]


@strawberry.type(name="Task", description="A unit of work; `version` grows with every change.")
class TaskType(Node):
    planner_task_id: str | None = strawberry.field(description="The Microsoft Planner task it syncs with.")
    title: str
    status: TaskStatus  # type: ignore[valid-type]
    percent_complete: int = strawberry.field(description="0 to 100; 100 exactly when COMPLETED.")
    start_date: date | None
    due_date: date | None
    duration_days: float | None = strawberry.field(description="Planned duration in working days.")
    estimate: Estimate | None
    assignees: list[str]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, model.Task)

    @strawberry.field
    def id(self, root: strawberry.Parent[model.Task]) -> strawberry.ID:
        return strawberry.ID(to_global_id("Task", root.id))

    @strawberry.field
    async def plan(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> PlanRef | None:
        return await resolve.plan(info.context, root, {})  # type: ignore[return-value]

    # The resolvers answer at once what the request holds already (a page's prefetched neighbours,
    # the plan's forecast), else an awaitable, which graphql-core awaits.
    @strawberry.field(description="Direct predecessors: the tasks this one waits for.")
    def depends_on(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> list[TaskType]:
        return resolve.depends_on(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(description="Direct successors: the tasks that wait for this one.")
    def dependents(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> list[TaskType]:
        return resolve.dependents(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(description="Working days the task can slip without moving the finish; null until scheduled.")
    def slack_days(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> float | None:
        return graph_resolve.slack_days(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(description="Whether the task is on the critical path; never when completed.")
    def is_critical(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> bool | None:
        return graph_resolve.is_critical(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(
        description="The first day of the task's remaining work in the forecast: scheduled from today on "
        "most-likely remaining durations, the plan's calendar and lags, and the delays of open certain external "
        "events. Null when completed (no work left) and until scheduled."
    )
    def forecast_start(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> date | None:
        return graph_resolve.forecast_start(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(
        description="The last day of the task's remaining work in the forecast (see forecastStart). Null when "
        "completed (no work left) and until scheduled."
    )
    def forecast_finish(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> date | None:
        return graph_resolve.forecast_finish(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(
        description="0 to 100: 100 * tightness * (0.5 + 0.5 * reach), tightness = 1 / (1 + slackDays / 5), "
        "reach = share of the plan's other tasks downstream of it; 0 when completed."
    )
    def risk_score(self, root: strawberry.Parent[model.Task], info: strawberry.Info) -> float | None:
        return graph_resolve.risk_score(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(description="Tasks this one waits for, directly or not, nearest first.")
    async def upstream(
        self,
        root: strawberry.Parent[model.Task],
        info: strawberry.Info,
        max_depth: Annotated[int | None, strawberry.argument(description="At most this many hops (1 to 100).")] = None,
    ) -> list[TaskType] | None:  # null, with UNAVAILABLE on this field, when the graph cannot answer now
        return await graph_resolve.upstream(info.context, root, {"maxDepth": max_depth})  # type: ignore[return-value]

    @strawberry.field(description="Tasks that wait for this one, directly or not, nearest first.")
    async def downstream(
        self,
        root: strawberry.Parent[model.Task],
        info: strawberry.Info,
        max_depth: Annotated[int | None, strawberry.argument(description="At most this many hops (1 to 100).")] = None,
    ) -> list[TaskType] | None:  # null, with UNAVAILABLE on this field, when the graph cannot answer now
        return await graph_resolve.downstream(info.context, root, {"maxDepth": max_depth})  # type: ignore[return-value]

    @strawberry.field(description="External events that name this task as affected.")
    async def external_events(
        self, root: strawberry.Parent[model.Task], info: strawberry.Info
    ) -> list[ExternalEventRef]:
        return await resolve.external_events(info.context, root, {})  # type: ignore[return-value]


@strawberry.input
class CreateTaskInput:
    plan_id: strawberry.ID
    title: str
    status: TaskStatus | None = UNSET  # type: ignore[valid-type]
    percent_complete: int | None = UNSET
    start_date: date | None = UNSET
    due_date: date | None = UNSET
    duration_days: float | None = UNSET
    estimate: EstimateInput | None = UNSET
    assignees: list[str] | None = UNSET
    planner_task_id: str | None = UNSET
    depends_on: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Tasks of the same plan this one waits for."
    )


@strawberry.input(description="Only the fields sent change; send null to clear an optional field.")
class UpdateTaskInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=UNSET, description="Refuse with STALE_VERSION unless the task is still at this version."
    )
    title: str | None = UNSET
    status: TaskStatus | None = UNSET  # type: ignore[valid-type]
    percent_complete: int | None = UNSET
    start_date: date | None = UNSET
    due_date: date | None = UNSET
    duration_days: float | None = UNSET
    estimate: EstimateInput | None = UNSET
    assignees: list[str] | None = UNSET
    planner_task_id: str | None = UNSET


@strawberry.input
class DeleteTaskInput:
    id: strawberry.ID
    expected_version: int | None = UNSET


@strawberry.type
class CreateTaskPayload:
    task: TaskType | None
    user_errors: list[UserError]


@strawberry.type
class UpdateTaskPayload:
    task: TaskType | None
    user_errors: list[UserError]


@strawberry.type
class DeleteTaskPayload:
    deleted_task_id: strawberry.ID | None
    user_errors: list[UserError]
