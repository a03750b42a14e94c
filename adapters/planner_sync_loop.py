"""The server's scheduled Planner sync: every linked plan, every ``PLANNER_PLANNER_SYNC_INTERVAL_S``.

Off by default. On AWS an EventBridge schedule calls the same ``sync_linked_plans``. Several
server processes may run the loop: a plan another process is syncing is skipped (its lock).
"""

from __future__ import annotations

import asyncio

import structlog

from planning.errors import DomainError, ErrorCode
from planning.principal import Principal
from planning.services.planner_sync import PlannerSyncService

log = structlog.get_logger("planner.planner_sync")

#: Who scheduled syncs act as: they change any linked plan, as a CLI command does.
SCHEDULER_PRINCIPAL = Principal("planner-sync-scheduler", frozenset({"admin"}))


def sync_linked_plans(service: PlannerSyncService) -> dict[str, str]:
    """Sync every plan linked to Planner, one after another; the outcome of each, by plan id."""
    outcomes: dict[str, str] = {}
    for plan_id in service.linked_plans():
        try:
            report = service.sync(plan_id, SCHEDULER_PRINCIPAL)
        except DomainError as exc:
            outcomes[plan_id] = "busy" if exc.code is ErrorCode.CONFLICT else f"failed: {exc.message}"
            log.warning("planner sync failed", plan_id=plan_id, error=exc.message)
            continue
        except Exception as exc:
            outcomes[plan_id] = f"failed: {type(exc).__name__}"
            log.exception("planner sync failed", plan_id=plan_id)
            continue
        outcomes[plan_id] = (
            f"created {report.created}, updated {report.updated}, deleted {report.deleted}, "
            f"unchanged {report.unchanged}"
        )
    return outcomes


async def planner_sync_loop(service: PlannerSyncService, interval_s: float) -> None:
    """Sync the linked plans, then wait ``interval_s``, until cancelled."""
    while True:
        try:
            outcomes = await asyncio.to_thread(sync_linked_plans, service)
            if outcomes:
                log.info("planner sync pass", plans=len(outcomes))
        except Exception:
            log.exception("planner sync pass failed")
        await asyncio.sleep(interval_s)
