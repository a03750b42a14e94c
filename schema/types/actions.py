from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from planning.model.action import ActionStatus as DomainActionStatus
from planning.model.action import ActionType as DomainActionType
from planning.model.action import ProposedAction
from planning.services.actions import MAX_REASON_LENGTH
from resolvers import actions as resolve
from resolvers.ids import to_global_id
from schema.scalars import JSON
from schema.types.common import Node, UserError

if TYPE_CHECKING:
    from schema.types.external_events import ExternalEventType
    from schema.types.tasks import TaskType

TaskRef = Annotated["TaskType", strawberry.lazy("schema.types.tasks")]
ExternalEventRef = Annotated["ExternalEventType", strawberry.lazy("schema.types.external_events")]

ActionType = strawberry.enum(
    DomainActionType,
    name="ActionType",
    description="SHIFT_DATES moves the dependent tasks' dates to the forecast with the event; CRASH_DURATION "
    "shortens a critical task's estimate by 20%; FAST_TRACK overlaps a critical finish-to-start link (a "
    "negative lag); REASSIGN gives a critical task to an assignee with slack; ADD_BUFFER adds a lag buffer "
    "within a successor's slack.",
)
ActionStatus = strawberry.enum(
    DomainActionStatus,
    name="ActionStatus",
    description="PENDING until decided; APPLIED once approved (its changes made); REJECTED with a reason.",
)


@strawberry.type(
    name="ExpectedImpact",
    description="Simulated with and without the action on the same random draws (common random numbers).",
)
class ExpectedImpactType:
    on_time_probability_before: float = strawberry.field(description="Chance of finishing by the event date now.")
    on_time_probability_after: float = strawberry.field(description="The same chance with the action applied.")
    finish_date_delta_days: float = strawberry.field(
        description="How the mean finish moves, in working days (negative: earlier)."
    )


@strawberry.type(name="ProposedAction", description="A change the optimisation agent proposes after an event.")
class ProposedActionType(Node):
    action_type: ActionType  # type: ignore[valid-type]
    status: ActionStatus  # type: ignore[valid-type]
    rationale: str = strawberry.field(description="Why, in the simulation's numbers.")
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None = strawberry.field(description="Who approved or rejected it.")
    decision_note: str | None = strawberry.field(description="The reason given with a rejection.")
    rank: int = strawberry.field(description="Its place among the proposals for its event (1: the best).")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, ProposedAction)

    @strawberry.field
    def id(self, root: strawberry.Parent[ProposedAction]) -> strawberry.ID:
        return strawberry.ID(to_global_id("ProposedAction", root.id))

    @strawberry.field(description="Exactly what approving changes: ids, and each value `from` (now) and `to` (after).")
    async def parameters(self, root: strawberry.Parent[ProposedAction], info: strawberry.Info) -> JSON:
        return await resolve.parameters(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field
    async def expected_impact(
        self, root: strawberry.Parent[ProposedAction], info: strawberry.Info
    ) -> ExpectedImpactType:
        return await resolve.expected_impact(info.context, root, {})  # type: ignore[no-any-return]

    @strawberry.field(description="The task it is mainly about; null once deleted.")
    async def task(self, root: strawberry.Parent[ProposedAction], info: strawberry.Info) -> TaskRef | None:
        return await resolve.task(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field(description="The event it answers; null once deleted.")
    async def external_event(
        self, root: strawberry.Parent[ProposedAction], info: strawberry.Info
    ) -> ExternalEventRef | None:
        return await resolve.external_event(info.context, root, {})  # type: ignore[return-value]


@strawberry.input
class ProposeActionsInput:
    external_event_id: strawberry.ID


@strawberry.type
class ProposeActionsPayload:
    actions: list[ProposedActionType] | None = strawberry.field(
        description="The event's pending proposals, best first (replacing its earlier pending ones)."
    )
    user_errors: list[UserError]


@strawberry.input
class DecideActionInput:
    id: strawberry.ID
    reason: str | None = strawberry.field(
        default=UNSET, description=f"Why (rejectAction keeps it); at most {MAX_REASON_LENGTH:,} characters."
    )


@strawberry.type
class DecideActionPayload:
    action: ProposedActionType | None
    user_errors: list[UserError]
