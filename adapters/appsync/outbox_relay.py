"""Lambda (scheduled): the outbox → the EventBridge bus ``PLANNER_EVENT_BUS_NAME``, in commit
order, from the relay's own checkpoint (``planning.services.event_relay``).

Reserved concurrency 1 (the CDK app) keeps one relay at a time. A pass stops at an event the bus
keeps refusing; the next scheduled run starts there again.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.appsync.runtime import runtime
from adapters.appsync.telemetry import telemetry
from adapters.events.eventbridge import EventBridgeBus
from planning.services.event_relay import OutboxRelay

observe = telemetry("outbox-relay")
logger, tracer, metrics = observe.logger, observe.tracer, observe.metrics


def relay() -> OutboxRelay:
    """Cheap to make: the container's runtime holds the connections and the client."""
    here = runtime()
    bus = EventBridgeBus(here.client("events"), os.environ["PLANNER_EVENT_BUS_NAME"])
    return OutboxRelay(here.uow, bus)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    progress = relay().relay_all()
    metrics.add_metric(name="Relayed", unit=MetricUnit.Count, value=progress.relayed)
    answer = {"relayed": progress.relayed, "position": progress.position, "stuck": progress.stuck}
    if progress.stuck is not None:
        logger.warning("the bus keeps refusing an event; the next run tries again", extra=answer)
    else:
        logger.info("relayed", extra=answer)
    return answer
