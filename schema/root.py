from __future__ import annotations

from collections.abc import Sequence

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
)
from strawberry.schema.config import StrawberryConfig

from planning.errors import DomainError
from resolvers import actions, dependencies, external_events, members, node, planner_sync, plans, simulations, tasks
from resolvers import publish as publishing
from resolvers.errors import BadRequest, Unavailable
from schema.appsync_directives import iam_only
from schema.arguments import graphql_args
from schema.direct_resolvers import direct_resolvers
from schema.error_codes import ErrorCodes
from schema.executor import PlannerExecutor
from schema.limits import DEFAULT_LIMITS, DocumentLimits, SchemaLimits
from schema.plain_fields import plain_fields
from schema.scalars import SCALARS
from schema.types.actions import (
    DecideActionInput,
    DecideActionPayload,
    ProposeActionsInput,
    ProposeActionsPayload,
    ProposedActionType,
)
from schema.types.common import Connection, First, Node
from schema.types.dependencies import (
    AddDependencyInput,
    AddDependencyPayload,
    DependencyType,
    RemoveDependencyInput,
    RemoveDependencyPayload,
)
from schema.types.external_events import (
    ExternalEventType,
    IngestExternalEventInput,
    IngestExternalEventPayload,
    ResolveExternalEventInput,
    ResolveExternalEventPayload,
)
from schema.types.live import PlanEventType, SimulationProgressType, Subscription
from schema.types.members import (
    AddPlanMemberInput,
    MeType,
    PlanMemberPayload,
    RemovePlanMemberInput,
    UpdatePlanMemberInput,
)
from schema.types.planner_sync import SyncPlannerPlanInput, SyncPlannerPlanPayload
from schema.types.plans import (
    CreatePlanInput,
    CreatePlanPayload,
    DeletePlanInput,
    DeletePlanPayload,
    PlanType,
    UpdatePlanInput,
    UpdatePlanPayload,
)
from schema.types.publish import PublishPlanEventInput, PublishSimulationProgressInput
from schema.types.simulations import (
    CancelSimulationInput,
    CancelSimulationPayload,
    RunSimulationInput,
    RunSimulationPayload,
    SimulationType,
)
from schema.types.tasks import (
    CreateTaskInput,
    CreateTaskPayload,
    DeleteTaskInput,
    DeleteTaskPayload,
    TaskType,
    UpdateTaskInput,
    UpdateTaskPayload,
)

log = structlog.get_logger("planner.graphql")


@strawberry.type
class Query:
    @strawberry.field(
        description="Any object by its global id; null when none has it, and when the caller may not read its plan."
    )
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:  # noqa: A002
        return await node.node(info.context, None, {"id": id})  # type: ignore[return-value]

    @strawberry.field(description="The plans the caller may read, oldest first (every plan, for admins).")
    async def plans(
        self, info: strawberry.Info, first: First = plans.DEFAULT_PLANS, after: str | None = None
    ) -> Connection[PlanType]:
        return await plans.plans(info.context, None, graphql_args(first=first, after=after))  # type: ignore[return-value]

    @strawberry.field(description="The plan; null when none has the id, and when the caller may not read it.")
    async def plan(self, info: strawberry.Info, id: strawberry.ID) -> PlanType | None:  # noqa: A002
        return await plans.plan(info.context, None, {"id": id})  # type: ignore[return-value]

    @strawberry.field(description="The caller: its user id, groups and plans.")
    async def me(self, info: strawberry.Info) -> MeType:
        return await members.me(info.context, None, {})  # type: ignore[return-value]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_plan(self, info: strawberry.Info, input: CreatePlanInput) -> CreatePlanPayload:  # noqa: A002
        return await plans.create_plan(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Change a plan's name, event date, Planner plan or calendar; STALE_VERSION when "
        "expectedVersion is not the plan's version any more."
    )
    async def update_plan(self, info: strawberry.Info, input: UpdatePlanInput) -> UpdatePlanPayload:  # noqa: A002
        return await plans.update_plan(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(description="Delete a plan with its tasks, dependencies, external events and simulations.")
    async def delete_plan(self, info: strawberry.Info, input: DeletePlanInput) -> DeletePlanPayload:  # noqa: A002
        return await plans.delete_plan(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation
    async def create_task(self, info: strawberry.Info, input: CreateTaskInput) -> CreateTaskPayload:  # noqa: A002
        return await tasks.create_task(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation
    async def update_task(self, info: strawberry.Info, input: UpdateTaskInput) -> UpdateTaskPayload:  # noqa: A002
        return await tasks.update_task(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(description="Delete a task and every dependency that touches it.")
    async def delete_task(self, info: strawberry.Info, input: DeleteTaskInput) -> DeleteTaskPayload:  # noqa: A002
        return await tasks.delete_task(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(description="Refused with CYCLE when the successor already leads to the predecessor.")
    async def add_dependency(self, info: strawberry.Info, input: AddDependencyInput) -> AddDependencyPayload:  # noqa: A002
        return await dependencies.add_dependency(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation
    async def remove_dependency(
        self,
        info: strawberry.Info,
        input: RemoveDependencyInput,  # noqa: A002
    ) -> RemoveDependencyPayload:
        return await dependencies.remove_dependency(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation
    async def ingest_external_event(
        self,
        info: strawberry.Info,
        input: IngestExternalEventInput,  # noqa: A002
    ) -> IngestExternalEventPayload:
        return await external_events.ingest_external_event(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Set an event's status: RESOLVED or WITHDRAWN events stay as history but no longer count "
        "in simulations; OPEN counts again. Its current status changes nothing."
    )
    async def resolve_external_event(
        self,
        info: strawberry.Info,
        input: ResolveExternalEventInput,  # noqa: A002
    ) -> ResolveExternalEventPayload:
        return await external_events.resolve_external_event(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Queue a Monte Carlo run; it answers at once, and a worker runs it (see progress and status)."
    )
    async def run_simulation(
        self,
        info: strawberry.Info,
        input: RunSimulationInput,  # noqa: A002
    ) -> RunSimulationPayload:
        return await simulations.run_simulation(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="End a QUEUED or RUNNING run as CANCELLED (a running one stops within about a second); "
        "one that has ended already is refused with INVALID_INPUT."
    )
    async def cancel_simulation(
        self,
        info: strawberry.Info,
        input: CancelSimulationInput,  # noqa: A002
    ) -> CancelSimulationPayload:
        return await simulations.cancel_simulation(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(description="Make a user a member of a plan (its owners and admins may); DUPLICATE if it is.")
    async def add_plan_member(self, info: strawberry.Info, input: AddPlanMemberInput) -> PlanMemberPayload:  # noqa: A002
        return await members.add_plan_member(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Change a member's role (its owners and admins may); the last OWNER cannot be demoted."
    )
    async def update_plan_member(
        self,
        info: strawberry.Info,
        input: UpdatePlanMemberInput,  # noqa: A002
    ) -> PlanMemberPayload:
        return await members.update_plan_member(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(description="Remove a member (its owners and admins may); the last OWNER cannot leave.")
    async def remove_plan_member(
        self,
        info: strawberry.Info,
        input: RemovePlanMemberInput,  # noqa: A002
    ) -> PlanMemberPayload:
        return await members.remove_plan_member(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Run the optimisation agent for an OPEN event now: its pending proposals are replaced by new "
        "ones, best first (decided ones stay). A server also runs it for each new event in the background."
    )
    async def propose_actions(
        self,
        info: strawberry.Info,
        input: ProposeActionsInput,  # noqa: A002
    ) -> ProposeActionsPayload:
        return await actions.propose_actions(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Apply a PENDING action (editors): STALE_VERSION when a task it touches changed since it was "
        "proposed, ALREADY_DECIDED when it has been decided."
    )
    async def approve_action(
        self,
        info: strawberry.Info,
        input: DecideActionInput,  # noqa: A002
    ) -> DecideActionPayload:
        return await actions.approve_action(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(description="Keep a PENDING action as REJECTED with the reason given (editors).")
    async def reject_action(
        self,
        info: strawberry.Info,
        input: DecideActionInput,  # noqa: A002
    ) -> DecideActionPayload:
        return await actions.reject_action(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="Sync the plan with its Microsoft Planner plan now (EDITOR or OWNER): Planner's tasks are "
        "created, updated or deleted here. CONFLICT while another sync of the plan runs; UNAVAILABLE when "
        "Microsoft Graph is not configured or cannot be read."
    )
    async def sync_planner_plan(
        self,
        info: strawberry.Info,
        input: SyncPlannerPlanInput,  # noqa: A002
    ) -> SyncPlannerPlanPayload:
        return await planner_sync.sync_planner_plan(info.context, None, graphql_args(input=input))  # type: ignore[return-value]

    @strawberry.mutation(
        description="For the backend only (AWS IAM): publish a committed change to `onPlanEvent` subscribers. "
        "Refused (FORBIDDEN) to every other caller.",
        directives=iam_only(),
    )
    async def publish_plan_event(
        self,
        info: strawberry.Info,
        input: PublishPlanEventInput,  # noqa: A002
    ) -> PlanEventType | None:
        return await publishing.publish_plan_event(info.context, None, graphql_args(input=input))  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="For the backend only (AWS IAM): publish a run's progress to `onSimulationProgress` "
        "subscribers. Refused (FORBIDDEN) to every other caller.",
        directives=iam_only(),
    )
    async def publish_simulation_progress(
        self,
        info: strawberry.Info,
        input: PublishSimulationProgressInput,  # noqa: A002
    ) -> SimulationProgressType | None:
        return await publishing.publish_simulation_progress(info.context, None, graphql_args(input=input))  # type: ignore[no-any-return]


def _masked(error: GraphQLError) -> bool:
    """Hide faults, never the client's own mistakes; log each fault with its traceback.

    Errors without a path arise before execution (syntax, validation, variable coercion) and
    only describe the request; errors raised by a field are shown only when they are ours.
    """
    original = error.original_error
    if (
        error.path is None
        or original is None
        or isinstance(original, BadRequest | Unavailable | DomainError | GraphQLError)
    ):
        return False
    log.error("resolver fault", path=list(error.path), exc_info=original)
    return True


class PlannerSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: object = None) -> None:
        """Client errors are answers, not incidents: faults are logged where they are masked."""
        for error in errors:
            log.debug("graphql error", message=error.message, path=error.path)


def build_schema(
    *,
    production: bool = False,
    limits: SchemaLimits = DEFAULT_LIMITS,
    extra_extensions: Sequence[object] = (),
    parents_as_json: bool = False,
) -> strawberry.Schema:
    """The schema; ``parents_as_json`` hands resolvers their parents as AppSync does (a check for
    tests, see ``schema.direct_resolvers``)."""
    extensions: list[object] = [
        # First: parses, measures (depth included), costs and validates off the event loop (schema.limits).
        lambda: DocumentLimits(limits=limits),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: MaskErrors(should_mask_error=_masked, error_message="Internal error; it has been logged."),
        ErrorCodes,
    ]
    if production:
        extensions.append(DisableIntrospection)
    # The server's own (adapters.asgi.observe notes each operation's name for its log and metrics).
    extensions.extend(extra_extensions)
    schema = PlannerSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[PlanType, TaskType, DependencyType, ExternalEventType, SimulationType, ProposedActionType],
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(scalar_map=SCALARS, disable_field_suggestions=production),
        # Leaves that only read their parent answered in one step (schema.executor).
        execution_context_class=PlannerExecutor,
    )
    # The registry's fields resolved by direct calls of their resolvers, not through Strawberry's wrappers.
    direct_resolvers(schema._schema, parents_as_json=parents_as_json)
    # Plain attributes (title, status…) read with one getattr, not through Strawberry's wrappers.
    plain_fields(schema._schema, schema.config.default_resolver)
    return schema
