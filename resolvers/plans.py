from __future__ import annotations

import asyncio
from typing import Any

from planning.commands import CreatePlan
from planning.errors import DomainError
from planning.model import Dependency, Plan, TaskStatus, WorkCalendar
from planning.ports import TaskFilter
from resolvers.arguments import as_date, as_enum, as_string_list, as_text, input_of
from resolvers.context import RequestContext
from resolvers.errors import BadRequest, payload_or_errors
from resolvers.ids import parse_global_id
from resolvers.pagination import Connection, connection, decode_cursor, page_size, paged_connection
from resolvers.payloads import CreatePlanPayload

DEFAULT_PLANS = 20
DEFAULT_TASKS = 200
DEFAULT_EVENTS = 50


async def plans(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> Connection[Plan]:
    return await paged_connection(args, DEFAULT_PLANS, ctx.services.plans.page, ctx.services.plans.count)


async def plan(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> Plan | None:
    try:
        type_name, raw = parse_global_id(args.get("id"))
    except DomainError as exc:
        raise BadRequest(f"id: {args.get('id')!r} is not an id of this API") from exc
    if type_name != "Plan":
        return None
    return await ctx.loaders.plan_by_id.load(raw)


async def task_count(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> int:
    return await ctx.loaders.task_count_by_plan.load(parent.id)


async def tasks(ctx: RequestContext, parent: Plan, args: dict[str, Any]) -> Connection[Any]:
    limit, after = page_size(args, DEFAULT_TASKS), decode_cursor(args.get("after"))
    task_filter = _task_filter(args.get("filter"))
    page = await asyncio.to_thread(ctx.services.tasks.page, parent.id, task_filter, after, limit)
    ctx.loaders.prime_tasks(page.items)

    async def count() -> int:
        return await asyncio.to_thread(ctx.services.tasks.count, parent.id, task_filter)

    return connection(page.items, page.has_next_page, count)


async def dependencies(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> list[Dependency]:
    return await ctx.loaders.dependencies_by_plan.load(parent.id)


async def external_events(ctx: RequestContext, parent: Plan, args: dict[str, Any]) -> Connection[Any]:
    events = ctx.services.external_events
    return await paged_connection(
        args,
        DEFAULT_EVENTS,
        lambda after, limit: events.page(parent.id, after, limit),
        lambda: events.count(parent.id),
    )


async def create_plan(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> CreatePlanPayload:
    async def run() -> CreatePlanPayload:
        data = input_of(args)
        cmd = CreatePlan(
            name=as_text(data.get("name"), "input", "name"),
            event_date=as_date(data.get("eventDate"), "input", "eventDate"),
            planner_plan_id=data.get("plannerPlanId"),
            calendar=_calendar(data.get("calendar")),
        )
        created = await asyncio.to_thread(ctx.services.plans.create, cmd, ctx.principal)
        return CreatePlanPayload(plan=created)

    return await payload_or_errors(run, lambda errors: CreatePlanPayload(user_errors=errors))


def _calendar(value: Any) -> WorkCalendar:
    if value is None:
        return WorkCalendar()
    names = as_string_list(value.get("workingDays", ["MON", "TUE", "WED", "THU", "FRI"]), "input", "calendar")
    holidays = [as_date(h, "input", "calendar", "holidays") for h in value.get("holidays") or []]
    return WorkCalendar.from_names(list(names), [h for h in holidays if h is not None])


def _task_filter(value: Any) -> TaskFilter:
    if value is None:
        return TaskFilter()
    if not isinstance(value, dict):
        raise BadRequest("filter must be an object")
    try:
        statuses = tuple(as_enum(TaskStatus, s, "filter", "status") for s in value.get("status") or ())
    except DomainError as exc:
        raise BadRequest(f"filter.status: {exc}") from None
    return TaskFilter(
        statuses=statuses,
        assignee=value.get("assignee") or None,
        title_contains=value.get("titleContains") or None,
    )
