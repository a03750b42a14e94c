from __future__ import annotations

import asyncio
from typing import Any

from planning.commands import AddDependency, RemoveDependency
from planning.model import Dependency, DependencyType, Task
from resolvers.arguments import as_enum, as_number, input_of
from resolvers.context import RequestContext
from resolvers.errors import payload_or_errors
from resolvers.ids import raw_id, to_global_id
from resolvers.payloads import DependencyPayload, RemoveDependencyPayload


async def predecessor(ctx: RequestContext, parent: Dependency, _args: dict[str, Any]) -> Task | None:
    return await ctx.loaders.task_by_id.load(parent.predecessor_id)


async def successor(ctx: RequestContext, parent: Dependency, _args: dict[str, Any]) -> Task | None:
    return await ctx.loaders.task_by_id.load(parent.successor_id)


async def add_dependency(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> DependencyPayload:
    async def run() -> DependencyPayload:
        data = input_of(args)
        lag = data.get("lagDays")
        dep_type = data.get("type")
        cmd = AddDependency(
            predecessor_id=raw_id(data.get("predecessorId"), "Task", "input", "predecessorId"),
            successor_id=raw_id(data.get("successorId"), "Task", "input", "successorId"),
            type=DependencyType.FINISH_TO_START
            if dep_type is None
            else as_enum(DependencyType, dep_type, "input", "type"),
            lag_days=0.0 if lag is None else as_number(lag, "input", "lagDays"),
        )
        added = await asyncio.to_thread(ctx.services.dependencies.add, cmd, ctx.access)
        return DependencyPayload(dependency=added)

    return await payload_or_errors(run, lambda errors: DependencyPayload(user_errors=errors))


async def remove_dependency(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> RemoveDependencyPayload:
    async def run() -> RemoveDependencyPayload:
        data = input_of(args)
        cmd = RemoveDependency(dependency_id=raw_id(data.get("id"), "Dependency", "input", "id"))
        removed = await asyncio.to_thread(ctx.services.dependencies.remove, cmd, ctx.access)
        return RemoveDependencyPayload(removed_dependency_id=to_global_id("Dependency", removed.id))

    return await payload_or_errors(run, lambda errors: RemoveDependencyPayload(user_errors=errors))
