"""The live updates: ``Subscription.onPlanEvent`` and ``onSimulationProgress``, flat as AppSync needs.

Each field follows a stream of ``subscriptions`` (events from the committed outbox only) and
turns what it yields into these types; ``resolvers.live_events`` makes the ids global.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator
from datetime import datetime
from typing import cast

import strawberry
from graphql import GraphQLError

from planning.errors import DomainError
from planning.events import OutboxMessage
from planning.events import PlanEventKind as DomainPlanEventKind
from planning.model.limits import clipped
from resolvers import live_events
from resolvers.errors import BadRequest
from resolvers.ids import raw_id
from schema.appsync_directives import both, subscribe
from schema.error_codes import error_code
from schema.scalars import JSON
from schema.types.simulations import SimulationStatus
from subscriptions.broker import SubscriberTooSlow
from subscriptions.context import LiveContext
from subscriptions.plan_events import plan_events
from subscriptions.simulation_progress import Progress, simulation_progress

PlanEventKind = strawberry.enum(DomainPlanEventKind, name="PlanEventKind")

#: The websocket close code for a subscriber that fell too far behind (its queue overflowed):
#: it reconnects and resubscribes with ``after:`` its last position, and misses nothing.
TOO_SLOW_CLOSE_CODE = 4429


#: The backend publishes these through IAM on AppSync; users receive them through Cognito.
@strawberry.type(name="PlanEvent", description="A committed change to a plan, in commit order.", directives=both())
class PlanEventType:
    plan_id: strawberry.ID
    kind: PlanEventKind  # type: ignore[valid-type]
    entity_id: strawberry.ID = strawberry.field(description="The global id of the changed entity.")
    occurred_at: datetime
    data: JSON = strawberry.field(description="A snapshot of the changed entity in its GraphQL shape (AWSJSON).")
    position: int = strawberry.field(
        description="The event's place in the commit order; send it back as `after` on reconnect to "
        "receive what was missed (the store keeps every event)."
    )

    @classmethod
    def of(cls, message: OutboxMessage) -> PlanEventType:
        event = message.event
        return cls(
            plan_id=strawberry.ID(live_events.plan_id(event.plan_id)),
            kind=event.kind,
            entity_id=strawberry.ID(live_events.entity_id(event.kind, event.entity_id)),
            occurred_at=event.occurred_at,
            data=cast(JSON, live_events.event_data(event.kind, event.data)),
            position=message.position,
        )


@strawberry.type(
    name="SimulationProgress", description="A Monte Carlo run's progress, from start to end.", directives=both()
)
class SimulationProgressType:
    simulation_id: strawberry.ID
    plan_id: strawberry.ID
    status: SimulationStatus  # type: ignore[valid-type]
    progress: float = strawberry.field(description="From 0 to 1.")
    completed_iterations: int

    @classmethod
    def of(cls, update: Progress) -> SimulationProgressType:
        return cls(
            simulation_id=strawberry.ID(live_events.simulation_id(update.simulation_id)),
            plan_id=strawberry.ID(live_events.plan_id(update.plan_id)),
            status=update.status,
            progress=update.progress,
            completed_iterations=update.completed_iterations,
        )


@contextlib.contextmanager
def _coded() -> Iterator[None]:
    """A subscription's refusal carries its code, as a query's does (``schema.error_codes``):
    results of a stream do not pass through that extension."""
    try:
        yield
    except (DomainError, BadRequest) as exc:
        raise GraphQLError(clipped(str(exc)), original_error=exc, extensions={"code": error_code(exc)}) from exc


def _live(info: strawberry.Info) -> LiveContext:
    context = info.context
    if not hasattr(context, "events"):
        raise BadRequest("subscriptions are served over a websocket (graphql-transport-ws or graphql-ws) at /graphql")
    return cast(LiveContext, context)


async def _too_slow(context: LiveContext, exc: SubscriberTooSlow) -> None:
    await context.disconnect(TOO_SLOW_CLOSE_CODE, f"too slow; resubscribe with after: {exc.position}")


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every committed change to the plan, whoever made it, in commit order. `after`: a "
        "`position` received before; the events after it come first. A subscriber too slow for its queue "
        "is disconnected with close code 4429 and resumes with `after`.",
        directives=subscribe("publishPlanEvent"),
    )
    async def on_plan_event(
        self, info: strawberry.Info, plan_id: strawberry.ID, after: int | None = None
    ) -> AsyncGenerator[PlanEventType, None]:
        with _coded():
            context = _live(info)
            plan = raw_id(plan_id, "Plan", "planId")
            try:
                async for message in plan_events(context.services, context.principal, context.events, plan, after):
                    yield PlanEventType.of(message)
            except SubscriberTooSlow as exc:
                await _too_slow(context, exc)

    @strawberry.subscription(
        description="The run's state now, then its progress (at least every 10 %) until it ends "
        "(SUCCEEDED, FAILED or CANCELLED).",
        directives=subscribe("publishSimulationProgress"),
    )
    async def on_simulation_progress(
        self, info: strawberry.Info, simulation_id: strawberry.ID
    ) -> AsyncGenerator[SimulationProgressType, None]:
        with _coded():
            context = _live(info)
            simulation = raw_id(simulation_id, "Simulation", "simulationId")
            try:
                async for update in simulation_progress(
                    context.services, context.principal, context.events, simulation
                ):
                    yield SimulationProgressType.of(update)
            except SubscriberTooSlow as exc:
                await _too_slow(context, exc)


__all__ = ["PlanEventKind", "PlanEventType", "SimulationProgressType", "Subscription"]
