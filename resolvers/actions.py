"""The optimisation agent's proposed actions: propose, approve, reject, and read them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from planning.model import ExternalEvent, Plan, Task
from planning.model.action import ActionStatus, ProposedAction
from resolvers.arguments import as_enum, as_text, input_of
from resolvers.context import RequestContext
from resolvers.errors import UserError, payload_or_errors
from resolvers.ids import raw_id, to_global_id
from resolvers.pagination import Connection, paged_connection

DEFAULT_ACTIONS = 50
#: Keys of ``parameters`` holding raw ids, and the type of their global ids.
_ID_KEYS = {"taskId": "Task", "predecessorId": "Task", "successorId": "Task", "dependencyId": "Dependency"}


@dataclass(frozen=True, slots=True)
class ProposeActionsPayload:
    actions: list[ProposedAction] | None = None
    user_errors: list[UserError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ActionPayload:
    action: ProposedAction | None = None
    user_errors: list[UserError] = field(default_factory=list)


def global_parameters(value: Any) -> Any:
    """``parameters`` as clients see them: every task and dependency id a global id."""
    if isinstance(value, dict):
        return {
            k: to_global_id(_ID_KEYS[k], v) if k in _ID_KEYS and isinstance(v, str) else global_parameters(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [global_parameters(v) for v in value]
    return value


async def parameters(_ctx: RequestContext, parent: ProposedAction, _args: dict[str, Any]) -> Any:
    return global_parameters(parent.parameters)


async def expected_impact(_ctx: RequestContext, parent: ProposedAction, _args: dict[str, Any]) -> Any:
    return parent.expected_impact


async def task(ctx: RequestContext, parent: ProposedAction, _args: dict[str, Any]) -> Task | None:
    return None if parent.task_id is None else await ctx.loaders.task_by_id.load(parent.task_id)


async def external_event(ctx: RequestContext, parent: ProposedAction, _args: dict[str, Any]) -> ExternalEvent | None:
    if parent.external_event_id is None:
        return None
    return await ctx.loaders.external_event_by_id.load(parent.external_event_id)


async def proposed_actions(ctx: RequestContext, parent: Plan, args: dict[str, Any]) -> Connection[Any]:
    """The plan's proposals in the order they were made (ties by rank), optionally of one status."""
    raw = args.get("status")
    status = None if raw is None else as_enum(ActionStatus, raw, "status")
    actions = ctx.services.actions
    return await paged_connection(
        args,
        DEFAULT_ACTIONS,
        lambda after, limit: actions.page(ctx.access, parent.id, status, after, limit),
        lambda: actions.count(ctx.access, parent.id, status),
    )


async def propose_actions(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> ProposeActionsPayload:
    async def run() -> ProposeActionsPayload:
        data = input_of(args)
        event_id = raw_id(data.get("externalEventId"), "ExternalEvent", "input", "externalEventId")
        proposed = await asyncio.to_thread(ctx.services.actions.propose, event_id, ctx.access)
        return ProposeActionsPayload(actions=proposed)

    return await payload_or_errors(run, lambda errors: ProposeActionsPayload(user_errors=errors))


async def approve_action(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> ActionPayload:
    async def run() -> ActionPayload:
        data = input_of(args)
        action_id = raw_id(data.get("id"), "ProposedAction", "input", "id")
        return ActionPayload(action=await asyncio.to_thread(ctx.services.actions.approve, action_id, ctx.access))

    return await payload_or_errors(run, lambda errors: ActionPayload(user_errors=errors))


async def reject_action(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> ActionPayload:
    async def run() -> ActionPayload:
        data = input_of(args)
        action_id = raw_id(data.get("id"), "ProposedAction", "input", "id")
        reason = data.get("reason")
        note = None if reason is None else as_text(reason, "input", "reason")
        decided = await asyncio.to_thread(ctx.services.actions.reject, action_id, note, ctx.access)
        return ActionPayload(action=decided)

    return await payload_or_errors(run, lambda errors: ActionPayload(user_errors=errors))


async def action_by_id(ctx: RequestContext, raw: str) -> ProposedAction | None:
    found = await asyncio.to_thread(ctx.services.actions.get_many, ctx.access, [raw])
    return found[0]
