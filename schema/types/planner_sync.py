"""The Microsoft Planner sync in the schema: ``Plan.plannerSync`` and ``syncPlannerPlan``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.types.common import UserError
from schema.types.plans import PlanType


@strawberry.type(
    name="PlannerSync",
    description="A plan's sync with Microsoft Planner: the last run's start, success or failure, and counts.",
)
class PlannerSyncType:
    last_started_at: datetime | None
    last_succeeded_at: datetime | None = strawberry.field(description="When the last sync that completed ended.")
    last_error: str | None = strawberry.field(
        description="Why the last sync failed; null once a later one succeeds. Whole pages it applied are kept."
    )
    last_error_at: datetime | None
    created: int = strawberry.field(description="Tasks the last completed sync created.")
    updated: int = strawberry.field(description="Tasks the last completed sync changed.")
    deleted: int = strawberry.field(description="Tasks the last completed sync deleted (deleted in Planner).")
    unchanged: int = strawberry.field(description="Tasks the last completed sync found as they were.")


@strawberry.type(name="PlannerSyncReport", description="What one sync did.")
class PlannerSyncReportType:
    pages: int = strawberry.field(description="Pages of Planner tasks read from Microsoft Graph.")
    created: int
    updated: int
    deleted: int
    unchanged: int


@strawberry.input
class SyncPlannerPlanInput:
    plan_id: strawberry.ID = strawberry.field(description="A plan linked to Planner (its plannerPlanId set).")


@strawberry.type
class SyncPlannerPlanPayload:
    plan: PlanType | None
    report: PlannerSyncReportType | None
    user_errors: list[UserError]
