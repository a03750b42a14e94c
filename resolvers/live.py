"""Who may subscribe, where AppSync serves the subscriptions.

On AppSync, ``onPlanEvent`` and ``onSimulationProgress`` stream what the backend publishes
(``publishPlanEvent`` / ``publishSimulationProgress``), filtered by their arguments; AppSync runs
the field's resolver once, when a client subscribes, and refuses the subscription when it fails.
These are those resolvers: the same rule as the local server's streams (``subscriptions/``), a
plan the caller may not read answering as one that does not exist. They answer null, as AppSync
wants of a subscription resolver.

AppSync cannot replay: ``after`` (resume from a position) is the local server's; asked of AppSync
it is refused with a message that says so, rather than silently ignored.
"""

from __future__ import annotations

import asyncio
from typing import Any

from planning.errors import not_found
from resolvers.context import RequestContext
from resolvers.errors import BadRequest
from resolvers.ids import raw_id

NO_REPLAY = (
    "`after` (resuming from a position) is served by the local server only; on AppSync, subscribe "
    "without it and read the plan again for what happened meanwhile"
)


async def may_subscribe_to_plan_events(ctx: RequestContext, _parent: object, args: dict[str, Any]) -> None:
    plan_id = raw_id(args.get("planId"), "Plan", "planId")
    if args.get("after") is not None:
        raise BadRequest(NO_REPLAY)
    [plan] = await asyncio.to_thread(ctx.services.plans.get_many, ctx.access, [plan_id])
    if plan is None:
        raise not_found("plan", plan_id, "planId")


async def may_subscribe_to_simulation_progress(ctx: RequestContext, _parent: object, args: dict[str, Any]) -> None:
    simulation_id = raw_id(args.get("simulationId"), "Simulation", "simulationId")
    [simulation] = await asyncio.to_thread(ctx.services.simulations.get_many, ctx.access, [simulation_id])
    if simulation is None:
        raise not_found("simulation", simulation_id, "simulationId")
