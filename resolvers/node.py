from __future__ import annotations

import asyncio
from typing import Any

from planning.errors import DomainError
from resolvers import actions
from resolvers.context import RequestContext
from resolvers.errors import BadRequest
from resolvers.ids import parse_global_id


async def node(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> object | None:
    """Any entity by its global id; null when it does not exist, and when it lies in a plan the
    caller may not read (the same answer: nothing tells the caller it exists)."""
    try:
        type_name, raw = parse_global_id(args.get("id"))
    except DomainError:
        raise BadRequest(f"id: {args.get('id')!r} is not an id of this API") from None
    loaders = ctx.loaders
    if type_name == "Plan":
        return await loaders.plan_by_id.load(raw)
    if type_name == "Task":
        return await loaders.task_by_id.load(raw)
    if type_name == "ExternalEvent":
        return await loaders.external_event_by_id.load(raw)
    if type_name == "Simulation":
        return await loaders.simulation_by_id.load(raw)
    if type_name == "ProposedAction":
        return await actions.action_by_id(ctx, raw)
    if type_name == "Dependency":
        return await asyncio.to_thread(ctx.services.dependencies.get, ctx.access, raw)
    return None
