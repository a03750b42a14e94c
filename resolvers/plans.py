from __future__ import annotations

import asyncio
from typing import Any

from planning.commands import CreatePlan, DeletePlan, UpdatePlan
from planning.errors import DomainError, invalid
from planning.model import Dependency, Plan, Task, TaskStatus, WorkCalendar
from planning.ports import TaskFilter
from planning.services.base import Page
from resolvers.arguments import as_date, as_enum, as_int, as_query_text, as_string_list, as_text, input_of
from resolvers.context import RequestContext
from resolvers.errors import BadRequest, payload_or_errors
from resolvers.ids import parse_global_id, raw_id, to_global_id
from resolvers.loaders import UNKNOWN, Neighbours, known, read_neighbours
from resolvers.pagination import Connection, connection, decode_cursor, page_size, paged_connection
from resolvers.payloads import CreatePlanPayload, DeletePlanPayload, PlanPayload

DEFAULT_PLANS = 20
DEFAULT_TASKS = 200
DEFAULT_EVENTS = 50


async def plans(
    ctx: RequestContext, _parent: None, args: dict[str, Any], *, with_task_counts: bool = False
) -> Connection[Plan]:
    """The plans the caller may read, oldest first. ``with_task_counts`` (the local server sets it
    when the query selects ``taskCount``): the page's task counts are read with it and primed, so
    that ``taskCount`` answers without an await."""
    service = ctx.services.plans
    limit, after = page_size(args, DEFAULT_PLANS), decode_cursor(args.get("after"))
    if with_task_counts:
        page, counts = await asyncio.to_thread(service.page_with_task_counts, ctx.access, after, limit)
        ctx.loaders.task_counts.update(zip((p.id for p in page.items), counts, strict=True))
    else:
        page = await asyncio.to_thread(service.page, ctx.access, after, limit)

    async def total() -> int:
        return await asyncio.to_thread(service.count, ctx.access)

    return connection(page.items, page.has_next_page, total, after=after)


async def plan(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> Plan | None:
    """The plan, or null: when no plan has the id, and when the caller may not read it alike."""
    try:
        type_name, raw = parse_global_id(args.get("id"))
    except DomainError as exc:
        raise BadRequest(f"id: {args.get('id')!r} is not an id of this API") from exc
    if type_name != "Plan":
        return None
    return await ctx.loaders.plan_by_id.load(raw)


def task_count(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> Any:
    """The plan's number of tasks: at once when the page read it (or a field loaded it), else an
    awaitable of it."""
    held = ctx.loaders.task_counts.get(parent.id)
    if held is None:
        held = known(ctx.loaders.task_count_by_plan, parent.id)
    return ctx.loaders.task_count_by_plan.load(parent.id) if held is UNKNOWN else held


async def tasks(
    ctx: RequestContext, parent: Plan, args: dict[str, Any], *, with_neighbours: bool = False
) -> Connection[Any]:
    """A page of the plan's tasks. ``with_neighbours`` (the local server sets it when the query
    selects ``dependsOn`` or ``dependents``): the page's dependencies and the tasks at their far
    ends are read in the same worker-thread hop and primed into the request's loaders, so that
    those fields answer without a round trip or an await."""
    limit, after = page_size(args, DEFAULT_TASKS), decode_cursor(args.get("after"))
    task_filter = _task_filter(args.get("filter"))

    def read() -> tuple[Page[Task], Neighbours | None]:
        page = ctx.services.tasks.page(ctx.access, parent.id, task_filter, after, limit)
        if not with_neighbours:
            return page, None
        whole = after is None and not page.has_next_page and task_filter == TaskFilter()
        return page, read_neighbours(ctx.services, ctx.access, page.items, whole_plan=parent.id if whole else None)

    page, neighbours = await asyncio.to_thread(read)
    ctx.loaders.prime_tasks(page.items)
    if neighbours is not None:
        ctx.loaders.prime_neighbours(page.items, neighbours)

    async def count() -> int:
        return await asyncio.to_thread(ctx.services.tasks.count, ctx.access, parent.id, task_filter)

    return connection(page.items, page.has_next_page, count, after=after)


async def dependencies(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> list[Dependency]:
    return await ctx.loaders.dependencies_by_plan.load(parent.id)


async def external_events(ctx: RequestContext, parent: Plan, args: dict[str, Any]) -> Connection[Any]:
    events = ctx.services.external_events
    return await paged_connection(
        args,
        DEFAULT_EVENTS,
        lambda after, limit: events.page(ctx.access, parent.id, after, limit),
        lambda: events.count(ctx.access, parent.id),
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
        created = await asyncio.to_thread(ctx.services.plans.create, cmd, ctx.access)
        return CreatePlanPayload(plan=created)

    return await payload_or_errors(run, lambda errors: CreatePlanPayload(user_errors=errors))


async def update_plan(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> PlanPayload:
    async def run() -> PlanPayload:
        data = input_of(args)
        expected = data.get("expectedVersion")
        cmd = UpdatePlan(
            plan_id=raw_id(data.get("id"), "Plan", "input", "id"),
            changes=_plan_changes(data),
            expected_version=None if expected is None else as_int(expected, "input", "expectedVersion"),
        )
        updated = await asyncio.to_thread(ctx.services.plans.update, cmd, ctx.access)
        return PlanPayload(plan=updated)

    return await payload_or_errors(run, lambda errors: PlanPayload(user_errors=errors))


async def delete_plan(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> DeletePlanPayload:
    async def run() -> DeletePlanPayload:
        data = input_of(args)
        cmd = DeletePlan(plan_id=raw_id(data.get("id"), "Plan", "input", "id"))
        deleted = await asyncio.to_thread(ctx.services.plans.delete, cmd, ctx.access)
        return DeletePlanPayload(deleted_plan_id=to_global_id("Plan", deleted.id))

    return await payload_or_errors(run, lambda errors: DeletePlanPayload(user_errors=errors))


def _plan_changes(data: dict[str, Any]) -> dict[str, Any]:
    """What updatePlan changes, by the names planning.model.plan.UPDATABLE_FIELDS uses.

    An absent field, or null, leaves it as it is, except ``eventDate`` and ``plannerPlanId``,
    which null clears. In ``calendar``, ``workingDays`` and ``holidays`` each replace their part
    when given (``holidays: []`` clears the holidays).
    """
    changes: dict[str, Any] = {}
    if data.get("name") is not None:
        changes["name"] = as_text(data["name"], "input", "name")
    if "eventDate" in data:
        changes["event_date"] = as_date(data["eventDate"], "input", "eventDate")
    if "plannerPlanId" in data:
        planner_id = data["plannerPlanId"]
        changes["planner_plan_id"] = None if planner_id is None else as_text(planner_id, "input", "plannerPlanId")
    calendar = data.get("calendar")
    if calendar is not None:
        if not isinstance(calendar, dict):
            raise invalid("expected {workingDays, holidays}", "input", "calendar")
        if calendar.get("workingDays") is not None:
            changes["working_days"] = as_string_list(calendar["workingDays"], "input", "calendar", "workingDays")
        if calendar.get("holidays") is not None:
            holidays = calendar["holidays"]
            if not isinstance(holidays, list | tuple):
                raise invalid("expected a list of dates", "input", "calendar", "holidays")
            dates = [as_date(h, "input", "calendar", "holidays") for h in holidays]
            changes["holidays"] = tuple(h for h in dates if h is not None)
    return changes


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
        assignee=as_query_text(value.get("assignee"), "filter", "assignee") or None,
        title_contains=as_query_text(value.get("titleContains"), "filter", "titleContains") or None,
    )
