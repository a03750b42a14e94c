"""Lambda (an EventBridge schedule): syncs every plan linked to Microsoft Planner, as the local
server's loop does (``adapters.planner_sync_loop.sync_linked_plans``).

Microsoft Graph's app registration comes from the JSON secret ``PLANNER_MSGRAPH_SECRET_ARN``
(``{tenantId, clientId, clientSecret}``) or the ``PLANNER_MSGRAPH_*`` settings.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.appsync.runtime import runtime
from adapters.appsync.telemetry import telemetry
from adapters.planner_sync_loop import sync_linked_plans

observe = telemetry("planner-sync")
logger, tracer, metrics = observe.logger, observe.tracer, observe.metrics


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service = runtime().services.planner_sync
    if service is None:  # pragma: no cover - the runtime always gives the services a lock factory
        raise RuntimeError("the Planner sync needs process locks")
    outcomes = sync_linked_plans(service)
    failed = sum(1 for outcome in outcomes.values() if outcome.startswith("failed"))
    metrics.add_metric(name="PlansSynced", unit=MetricUnit.Count, value=len(outcomes) - failed)
    metrics.add_metric(name="PlanSyncsFailed", unit=MetricUnit.Count, value=failed)
    logger.info("planner sync", extra={"plans": len(outcomes), "failed": failed})
    return {"plans": outcomes}
