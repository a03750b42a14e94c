"""Plan membership and the caller: ``me``, ``Plan.members``, ``Plan.myRole``, ``Plan.activity``,
and the member mutations. Who may do what is the services' to decide (``planning.access``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from planning.commands import AddPlanMember, RemovePlanMember, UpdatePlanMember
from planning.model import Plan
from planning.model.membership import ActivityEntry, PlanMember, PlanRole
from resolvers import plans as plan_resolvers
from resolvers.arguments import as_enum, as_text, input_of
from resolvers.context import RequestContext
from resolvers.errors import payload_or_errors
from resolvers.ids import raw_id
from resolvers.pagination import Connection, paged_connection
from resolvers.payloads import PlanMemberPayload

DEFAULT_ACTIVITY = 50


@dataclass(frozen=True, slots=True)
class Me:
    """The caller as the API knows it: its user id and groups."""

    id: str
    groups: list[str]


async def me(ctx: RequestContext, _parent: None, _args: dict[str, Any]) -> Me:
    return Me(id=ctx.principal.user_id, groups=sorted(ctx.principal.groups))


async def my_plans(ctx: RequestContext, _parent: Me, args: dict[str, Any]) -> Connection[Plan]:
    """The plans the caller may read: the same list as ``Query.plans``."""
    return await plan_resolvers.plans(ctx, None, args)


async def members(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> list[PlanMember]:
    return await ctx.loaders.members_by_plan.load(parent.id)


async def my_role(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> PlanRole | None:
    return await ctx.loaders.my_role_by_plan.load(parent.id)


async def activity(ctx: RequestContext, parent: Plan, args: dict[str, Any]) -> Connection[ActivityEntry]:
    """The plan's record of access, newest first: owners and admins only (others: FORBIDDEN)."""
    service = ctx.services.members
    return await paged_connection(
        args,
        DEFAULT_ACTIVITY,
        lambda after, limit: service.activity(ctx.access, parent.id, after, limit),
        lambda: service.activity_count(ctx.access, parent.id),
    )


def _member_input(args: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    data = input_of(args)
    plan_id = raw_id(data.get("planId"), "Plan", "input", "planId")
    user_id = as_text(data.get("userId"), "input", "userId")
    return plan_id, user_id, data


async def _answer(ctx: RequestContext, member: PlanMember) -> PlanMemberPayload:
    """The membership with its plan as the caller now sees it (null once it has left the plan)."""
    ctx.loaders.forget_members(member.plan_id)
    [plan] = await asyncio.to_thread(ctx.services.plans.get_many, ctx.access, [member.plan_id])
    return PlanMemberPayload(plan=plan, member=member)


async def add_plan_member(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> PlanMemberPayload:
    async def run() -> PlanMemberPayload:
        plan_id, user_id, data = _member_input(args)
        role = as_enum(PlanRole, data.get("role"), "input", "role")
        added = await asyncio.to_thread(ctx.services.members.add, AddPlanMember(plan_id, user_id, role), ctx.access)
        return await _answer(ctx, added)

    return await payload_or_errors(run, lambda errors: PlanMemberPayload(user_errors=errors))


async def update_plan_member(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> PlanMemberPayload:
    async def run() -> PlanMemberPayload:
        plan_id, user_id, data = _member_input(args)
        role = as_enum(PlanRole, data.get("role"), "input", "role")
        cmd = UpdatePlanMember(plan_id, user_id, role)
        updated = await asyncio.to_thread(ctx.services.members.update, cmd, ctx.access)
        return await _answer(ctx, updated)

    return await payload_or_errors(run, lambda errors: PlanMemberPayload(user_errors=errors))


async def remove_plan_member(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> PlanMemberPayload:
    """Answers the membership as it was."""

    async def run() -> PlanMemberPayload:
        plan_id, user_id, _data = _member_input(args)
        cmd = RemovePlanMember(plan_id, user_id)
        removed = await asyncio.to_thread(ctx.services.members.remove, cmd, ctx.access)
        return await _answer(ctx, removed)

    return await payload_or_errors(run, lambda errors: PlanMemberPayload(user_errors=errors))
