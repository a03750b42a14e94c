from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.unset import UNSET

from planning import model
from planning.model.external_event import MAX_STATUS_NOTE_LENGTH
from resolvers import external_events as resolve
from resolvers import graph as graph_resolve
from resolvers.ids import to_global_id
from schema.scalars import JSON
from schema.types.common import Node, UserError
from schema.types.enums import ExternalEventStatus, Severity
from schema.types.graph import EventImpactType

if TYPE_CHECKING:
    from schema.types.tasks import TaskType

TaskRef = Annotated["TaskType", strawberry.lazy("schema.types.tasks")]


@strawberry.type(name="ExternalEvent", description="A disruption from outside the plan, such as a supplier delay.")
class ExternalEventType(Node):
    event_type: str = strawberry.field(description="Free text, such as supplier_delay.")
    severity: Severity  # type: ignore[valid-type]
    title: str
    description: str | None
    source: str | None
    occurred_at: datetime
    received_at: datetime
    delay_days: float = strawberry.field(description="Working days of delay it brings to the affected tasks.")
    probability: float | None = strawberry.field(
        description="0 to 1 for a risk that may happen; null for an event that has happened."
    )
    payload: JSON | None
    status: ExternalEventStatus = strawberry.field(  # type: ignore[valid-type]
        description="OPEN until resolveExternalEvent says otherwise; only OPEN events count in forecasts and "
        "simulations."
    )
    status_changed_at: datetime | None = strawberry.field(description="When the status last changed; null if never.")
    status_changed_by: str | None = strawberry.field(description="Who changed the status last.")
    status_note: str | None = strawberry.field(description="The note sent with the last status change.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, model.ExternalEvent)

    @strawberry.field
    def id(self, root: strawberry.Parent[model.ExternalEvent]) -> strawberry.ID:
        return strawberry.ID(to_global_id("ExternalEvent", root.id))

    @strawberry.field
    async def affected_tasks(
        self, root: strawberry.Parent[model.ExternalEvent], info: strawberry.Info
    ) -> list[TaskRef]:
        return await resolve.affected_tasks(info.context, root, {})  # type: ignore[return-value]

    @strawberry.field(
        description="The forecast without the event and as if it happens, and how likely it is. Null, with an "
        "error on this field, when it cannot be worked out now (UNAVAILABLE: the graph is down or behind); the "
        "event itself still answers."
    )
    async def impact(
        self, root: strawberry.Parent[model.ExternalEvent], info: strawberry.Info
    ) -> EventImpactType | None:
        return await graph_resolve.impact(info.context, root, {})  # type: ignore[return-value]


@strawberry.input
class IngestExternalEventInput:
    plan_id: strawberry.ID
    event_type: str
    severity: Severity  # type: ignore[valid-type]
    title: str
    description: str | None = UNSET
    source: str | None = UNSET
    occurred_at: datetime | None = UNSET
    delay_days: float | None = UNSET
    probability: float | None = UNSET
    payload: JSON | None = UNSET
    affected_task_ids: list[strawberry.ID] | None = UNSET
    idempotency_key: str | None = strawberry.field(
        default=UNSET, description="Sending the same key again for the plan returns the stored event."
    )


@strawberry.type
class IngestExternalEventPayload:
    external_event: ExternalEventType | None
    user_errors: list[UserError]


@strawberry.input
class ResolveExternalEventInput:
    id: strawberry.ID
    status: ExternalEventStatus  # type: ignore[valid-type]
    note: str | None = strawberry.field(
        default=UNSET, description=f"Why; at most {MAX_STATUS_NOTE_LENGTH:,} characters."
    )


@strawberry.type
class ResolveExternalEventPayload:
    external_event: ExternalEventType | None
    user_errors: list[UserError]
