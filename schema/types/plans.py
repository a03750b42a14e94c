from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from planning import model
from resolvers import actions as actions_resolve
from resolvers import graph as graph_resolve
from resolvers import members as members_resolve
from resolvers import plans as resolve
from resolvers import simulations as simulation_resolve
from resolvers.ids import to_global_id
from schema.arguments import graphql_args
from schema.types.actions import ActionStatus
from schema.types.common import Connection, First, Node, UserError
from schema.types.enums import TaskStatus
from schema.types.graph import CriticalPathType
from schema.types.members import PlanActivityType, PlanMemberType, PlanRole

if TYPE_CHECKING:
    from schema.types.actions import ProposedActionType
    from schema.types.dependencies import DependencyType
    from schema.types.external_events import ExternalEventType
    from schema.types.planner_sync import PlannerSyncType
    from schema.types.simulations import SimulationType
    from schema.types.tasks import TaskType

TaskRef = Annotated["TaskType", strawberry.lazy("schema.types.tasks")]
DependencyRef = Annotated["DependencyType", strawberry.lazy("schema.types.dependencies")]
ExternalEventRef = Annotated["ExternalEventType", strawberry.lazy("schema.types.external_events")]
SimulationRef = Annotated["SimulationType", strawberry.lazy("schema.types.simulations")]
ProposedActionRef = Annotated["ProposedActionType", strawberry.lazy("schema.types.actions")]
PlannerSyncRef = Annotated["PlannerSyncType", strawberry.lazy("schema.types.planner_sync")]


@strawberry.input(description="Which tasks to list; all conditions must hold.")
class TaskFilter:
    status: list[TaskStatus] | None = UNSET  # type: ignore[valid-type]
    assignee: str | None = UNSET
    title_contains: str | None = UNSET


@strawberry.type(name="Calendar", description="The days work happens on: weekdays minus holidays.")
class CalendarType:
    @strawberry.field
    def working_days(self, root: strawberry.Parent[model.WorkCalendar]) -> list[str]:
        return root.weekday_names

    @strawberry.field
    def holidays(self, root: strawberry.Parent[model.WorkCalendar]) -> list[date]:
        return sorted(root.holidays)


@strawberry.type(name="Plan", description="A project that must be ready by its event date.")
class PlanType(Node):
    name: str
    planner_plan_id: str | None = strawberry.field(description="The Microsoft Planner plan it syncs with.")
    event_date: date | None = strawberry.field(description="The date the plan must be ready by.")
    calendar: CalendarType
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description="Grows with every change of the plan itself (not of its tasks).")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, model.Plan)

    @strawberry.field
    def id(self, root: strawberry.Parent[model.Plan]) -> strawberry.ID:
        return strawberry.ID(to_global_id("Plan", root.id))

    @strawberry.field
    def task_count(self, root: strawberry.Parent[model.Plan], info: strawberry.Info) -> int:
        return resolve.task_count(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(description="The plan's tasks in creation order.")
    async def tasks(
        self,
        root: strawberry.Parent[model.Plan],
        info: strawberry.Info,
        first: First = resolve.DEFAULT_TASKS,
        after: str | None = None,
        filter: TaskFilter | None = None,  # noqa: A002 - the contract's argument name
    ) -> Connection[TaskRef]:
        return await resolve.tasks(info.context, root, graphql_args(first=first, after=after, filter=filter))  # type: ignore[return-value]

    @strawberry.field(
        description="The critical path of the remaining work, scheduled from today; null, with an error on this "
        "field, when the graph cannot answer now (UNAVAILABLE)."
    )
    async def critical_path(
        self, root: strawberry.Parent[model.Plan], info: strawberry.Info
    ) -> CriticalPathType | None:
        return await graph_resolve.critical_path(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field(
        description="The day the remaining work finishes in the forecast: scheduled from today on most-likely "
        "remaining durations, the plan's calendar and lags, and the delays of open certain external events (the "
        "critical path's finishDate). Null for a plan without tasks."
    )
    async def forecast_finish_date(self, root: strawberry.Parent[model.Plan], info: strawberry.Info) -> date | None:
        return await graph_resolve.forecast_finish_date(info.context, root, {})

    @strawberry.field(description="The newest simulation run of the plan, whatever its status.")
    async def latest_simulation(
        self, root: strawberry.Parent[model.Plan], info: strawberry.Info
    ) -> SimulationRef | None:
        return await simulation_resolve.latest_simulation(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field(description="The plan's simulation runs, newest first.")
    async def simulations(
        self,
        root: strawberry.Parent[model.Plan],
        info: strawberry.Info,
        first: First = simulation_resolve.DEFAULT_SIMULATIONS,
        after: str | None = None,
    ) -> Connection[SimulationRef]:
        args = graphql_args(first=first, after=after)
        return await simulation_resolve.simulations(info.context, root, args)  # type: ignore[return-value]

    @strawberry.field(description="Every finish-to-start dependency between the plan's tasks.")
    async def dependencies(self, root: strawberry.Parent[model.Plan], info: strawberry.Info) -> list[DependencyRef]:
        return await resolve.dependencies(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field(description="Disruptions reported against the plan, oldest first.")
    async def external_events(
        self,
        root: strawberry.Parent[model.Plan],
        info: strawberry.Info,
        first: First = resolve.DEFAULT_EVENTS,
        after: str | None = None,
    ) -> Connection[ExternalEventRef]:
        return await resolve.external_events(info.context, root, graphql_args(first=first, after=after))  # type: ignore[return-value]

    @strawberry.field(description="The optimisation agent's proposals for the plan, in the order made.")
    async def proposed_actions(
        self,
        root: strawberry.Parent[model.Plan],
        info: strawberry.Info,
        status: ActionStatus | None = None,  # type: ignore[valid-type]
        first: First = actions_resolve.DEFAULT_ACTIONS,
        after: str | None = None,
    ) -> Connection[ProposedActionRef]:
        args = graphql_args(status=status, first=first, after=after)
        return await actions_resolve.proposed_actions(info.context, root, args)  # type: ignore[return-value]

    @strawberry.field(description="Who may see the plan, and in which role, in the order they were added.")
    async def members(self, root: strawberry.Parent[model.Plan], info: strawberry.Info) -> list[PlanMemberType]:
        return await members_resolve.members(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field(description="The caller's role on the plan; null when it is no member (an admin may read it).")
    async def my_role(self, root: strawberry.Parent[model.Plan], info: strawberry.Info) -> PlanRole | None:  # type: ignore[valid-type]
        return await members_resolve.my_role(info.context, root, {})

    @strawberry.field(
        description="Who changed the plan's members, when, before and after, and what the Planner sync "
        "overwrote or deleted; newest first. Its owners and admins "
        "may read it; for anyone else the field is null with a FORBIDDEN error."
    )
    async def activity(
        self,
        root: strawberry.Parent[model.Plan],
        info: strawberry.Info,
        first: First = members_resolve.DEFAULT_ACTIVITY,
        after: str | None = None,
    ) -> Connection[PlanActivityType] | None:
        return await members_resolve.activity(info.context, root, graphql_args(first=first, after=after))  # type: ignore[return-value]

    @strawberry.field(
        description="The plan's sync with Microsoft Planner (syncPlannerPlan, `planner sync`, or the server's "
        "schedule); null until it is first synced."
    )
    async def planner_sync(self, root: strawberry.Parent[model.Plan], info: strawberry.Info) -> PlannerSyncRef | None:
        from resolvers import planner_sync as planner_sync_resolve

        return await planner_sync_resolve.planner_sync(info.context, root, {})  # type: ignore[return-value]


@strawberry.input
class CalendarInput:
    working_days: list[str] | None = strawberry.field(
        default=UNSET, description="MON..SUN; Monday to Friday when omitted."
    )
    holidays: list[date] | None = UNSET


@strawberry.input
class CreatePlanInput:
    name: str
    event_date: date | None = UNSET
    planner_plan_id: str | None = UNSET
    calendar: CalendarInput | None = UNSET


@strawberry.type
class CreatePlanPayload:
    plan: PlanType | None
    user_errors: list[UserError]


@strawberry.input(
    description="Only the fields sent change; null leaves a field as it is, except eventDate and plannerPlanId, "
    "which null clears."
)
class UpdatePlanInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=UNSET, description="Refuse with STALE_VERSION unless the plan is still at this version."
    )
    name: str | None = UNSET
    event_date: date | None = strawberry.field(default=UNSET, description="null clears it.")
    planner_plan_id: str | None = strawberry.field(
        default=UNSET, description="null clears it; one a plan already has is refused with DUPLICATE."
    )
    calendar: CalendarInput | None = strawberry.field(
        default=UNSET,
        description="workingDays and holidays each replace their part when sent, and keep it when omitted "
        "(holidays: [] clears them).",
    )


@strawberry.type
class UpdatePlanPayload:
    plan: PlanType | None
    user_errors: list[UserError]


@strawberry.input
class DeletePlanInput:
    id: strawberry.ID


@strawberry.type
class DeletePlanPayload:
    deleted_plan_id: strawberry.ID | None
    user_errors: list[UserError]
