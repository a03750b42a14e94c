"""The Microsoft Planner sync through the API: ``syncPlannerPlan`` and ``Plan.plannerSync``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from planning.errors import DomainError, ErrorCode
from planning.model import Plan
from planning.ports.planner import PlannerSyncState
from planning.services.planner_sync import PlannerSyncService, SyncReport
from resolvers.arguments import input_of
from resolvers.context import RequestContext
from resolvers.errors import UserError, payload_or_errors
from resolvers.ids import raw_id


@dataclass(frozen=True, slots=True)
class SyncPlannerPlanPayload:
    plan: Plan | None = None
    report: SyncReport | None = None
    user_errors: list[UserError] = field(default_factory=list)


def _service(ctx: RequestContext) -> PlannerSyncService:
    service = ctx.services.planner_sync
    if service is None:
        raise DomainError(ErrorCode.UNAVAILABLE, "the Planner sync is not set up in this server")
    return service


async def sync_planner_plan(ctx: RequestContext, _parent: None, args: dict[str, Any]) -> SyncPlannerPlanPayload:
    async def run() -> SyncPlannerPlanPayload:
        data = input_of(args)
        plan_id = raw_id(data.get("planId"), "Plan", "input", "planId")
        service = _service(ctx)
        report = await asyncio.to_thread(service.sync, plan_id, ctx.access)
        plan = await asyncio.to_thread(ctx.services.plans.get_many, ctx.access, [plan_id])
        return SyncPlannerPlanPayload(plan=plan[0], report=report)

    return await payload_or_errors(run, lambda errors: SyncPlannerPlanPayload(user_errors=errors))


async def planner_sync(ctx: RequestContext, parent: Plan, _args: dict[str, Any]) -> PlannerSyncState | None:
    """The plan's sync state; null for a plan never synced."""
    loader = ctx.loaders.planner_sync_by_plan
    return await loader.load(parent.id)
