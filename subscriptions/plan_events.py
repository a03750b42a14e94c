"""``onPlanEvent``: one plan's committed events, in position order, for as long as the caller may read it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from planning.errors import not_found
from planning.events import OutboxMessage, PlanEventKind
from planning.principal import Principal
from planning.services.registry import PlanningServices
from subscriptions.broker import EventBroker

#: Changes of who may read the plan: the subscriber's access is checked again at each.
MEMBERSHIP_KINDS = frozenset({PlanEventKind.MEMBER_ADDED, PlanEventKind.MEMBER_UPDATED, PlanEventKind.MEMBER_REMOVED})
#: Not for ``onPlanEvent``: ``onSimulationProgress`` carries a run's progress.
PROGRESS_KINDS = frozenset({PlanEventKind.SIMULATION_PROGRESS})


async def may_read(services: PlanningServices, principal: Principal, plan_id: str) -> bool:
    """Whether the plan exists and ``principal`` may read it, asked of the store now."""
    found = await asyncio.to_thread(services.plans.get_many, principal, [plan_id])
    return found[0] is not None


async def plan_events(
    services: PlanningServices, principal: Principal, broker: EventBroker, plan_id: str, after: int | None
) -> AsyncIterator[OutboxMessage]:
    """The plan's messages after ``after`` (None: from now on).

    A plan the caller may not read answers as one that does not exist (NOT_FOUND). The stream
    ends when the plan is deleted, or when a membership change leaves the caller without access.
    ``SubscriberTooSlow`` comes through from the broker.
    """
    # Following first, then checking: nothing committed between the check and the follow is lost.
    follow = broker.follow(plan_id, after)
    try:
        if not await may_read(services, principal, plan_id):
            raise not_found("plan", plan_id, "planId")
        async for message in follow.messages():
            kind = message.event.kind
            if kind in PROGRESS_KINDS:
                continue
            if kind in MEMBERSHIP_KINDS and not await may_read(services, principal, plan_id):
                return
            yield message
            if kind is PlanEventKind.PLAN_DELETED:
                return
    finally:
        follow.close()
