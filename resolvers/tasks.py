from __future__ import annotations

import asyncio
from typing import Any

from planning.commands import CreateTask, DeleteTask, UpdateTask
from planning.model import ExternalEvent, Plan, Task, TaskStatus
from resolvers.arguments import (
    as_date,
    as_enum,
    as_estimate,
    as_int,
    as_number,
    as_string_list,
    as_text,
    input_of,
)
from resolvers.context import RequestContext
from resolvers.errors import payload_or_errors
from resolvers.ids import raw_id, to_global_id
from resolvers.loaders import far_ends
from resolvers.payloads import DeleteTaskPayload, TaskPayload


async def plan(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Plan | None:
    return await ctx.loaders.plan_by_id.load(parent.plan_id)


def depends_on(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Any:
    """Direct predecessors, in the order the dependencies were made: at once when the request's
    page prefetched them, else an awaitable of them."""
    held = ctx.loaders.neighbours.get((parent.id, True))
    return _neighbours(ctx, parent, predecessors=True) if held is None else held


def dependents(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> Any:
    """Direct successors, in the order the dependencies were made (at once when held, as ``depends_on``)."""
    held = ctx.loaders.neighbours.get((parent.id, False))
    return _neighbours(ctx, parent, predecessors=False) if held is None else held


async def _neighbours(ctx: RequestContext, parent: Task, *, predecessors: bool) -> list[Task]:
    edges = await ctx.loaders.dependencies_by_task.load(parent.id)
    ids = far_ends(edges, parent.id, predecessors=predecessors)
    return [t for t in await ctx.loaders.task_by_id.load_many(ids) if t is not None]


async def external_events(ctx: RequestContext, parent: Task, _args: dict[str, Any]) -> list[ExternalEvent]:
    return await ctx.loaders.external_events_by_task.load(parent.id)


# Fields of the inputs that map one to one onto task attributes, with their readers.
_FIELD_READERS: dict[str, tuple[str, Any]] = {
    "title": ("title", as_text),
    "status": ("status", lambda v, *f: as_enum(TaskStatus, v, *f)),
    "percentComplete": ("percent_complete", as_int),
    "startDate": ("start_date", as_date),
    "dueDate": ("due_date", as_date),
    "durationDays": ("duration_days", lambda v, *f: None if v is None else as_number(v, *f)),
    "estimate": ("estimate", as_estimate),
    "assignees": ("assignees", as_string_list),
    "plannerTaskId": ("planner_task_id", lambda v, *f: None if v is None else as_text(v, *f)),
}
_NOT_NULL = {"title", "status", "percentComplete", "assignees"}


def _task_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, (attr, read) in _FIELD_READERS.items():
        if key not in data:
            continue
        value = data[key]
        if value is None and key in _NOT_NULL:
            from planning.errors import invalid

            raise invalid(f"{key} cannot be null", "input", key)
        fields[attr] = read(value, "input", key)
    return fields


async def create_task(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> TaskPayload:
    async def run() -> TaskPayload:
        data = input_of(args)
        fields = _task_fields(data)
        cmd = CreateTask(
            plan_id=raw_id(data.get("planId"), "Plan", "input", "planId"),
            title=fields.pop("title", None) or as_text(data.get("title"), "input", "title"),
            depends_on=tuple(raw_id(i, "Task", "input", "dependsOn") for i in data.get("dependsOn") or ()),
            **fields,
        )
        created = await asyncio.to_thread(ctx.services.tasks.create, cmd, ctx.access)
        return TaskPayload(task=created)

    return await payload_or_errors(run, lambda errors: TaskPayload(user_errors=errors))


async def update_task(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> TaskPayload:
    async def run() -> TaskPayload:
        data = input_of(args)
        expected = data.get("expectedVersion")
        cmd = UpdateTask(
            task_id=raw_id(data.get("id"), "Task", "input", "id"),
            changes=_task_fields(data),
            expected_version=None if expected is None else as_int(expected, "input", "expectedVersion"),
        )
        updated = await asyncio.to_thread(ctx.services.tasks.update, cmd, ctx.access)
        return TaskPayload(task=updated)

    return await payload_or_errors(run, lambda errors: TaskPayload(user_errors=errors))


async def delete_task(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> DeleteTaskPayload:
    async def run() -> DeleteTaskPayload:
        data = input_of(args)
        expected = data.get("expectedVersion")
        cmd = DeleteTask(
            task_id=raw_id(data.get("id"), "Task", "input", "id"),
            expected_version=None if expected is None else as_int(expected, "input", "expectedVersion"),
        )
        deleted = await asyncio.to_thread(ctx.services.tasks.delete, cmd, ctx.access)
        return DeleteTaskPayload(deleted_task_id=to_global_id("Task", deleted.id))

    return await payload_or_errors(run, lambda errors: DeleteTaskPayload(user_errors=errors))
