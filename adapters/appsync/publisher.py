"""Lambda: EventBridge → AppSync. Each planner event on the bus is published through the
IAM-only mutations (``adapters.appsync.publishing``), so that AppSync pushes it to subscribers.

Env: ``PLANNER_APPSYNC_URL`` (the API's GraphQL URL), ``AWS_REGION``. A publication AppSync does
not take fails the invocation: EventBridge retries it, then leaves it in the dead-letter queue.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import httpx
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.appsync.publishing import AppSyncPublisher, publications_of_eventbridge
from adapters.appsync.telemetry import telemetry
from adapters.events.eventbridge import EVENT_SOURCE

observe = telemetry("publisher")
logger, tracer, metrics = observe.logger, observe.tracer, observe.metrics
HTTP_TIMEOUT_S = 10.0


def publisher() -> AppSyncPublisher:
    return _publisher(os.environ["PLANNER_APPSYNC_URL"], os.environ.get("AWS_REGION"))


@cache
def _publisher(url: str, region_name: str | None) -> AppSyncPublisher:
    """Once per container: the endpoint, the region, the credential chain and an HTTP client."""
    import boto3

    session = boto3.Session(region_name=region_name)
    region = session.region_name
    if not region:
        raise RuntimeError("AWS_REGION is not set: the region to sign AppSync requests for")

    def credentials() -> Any:
        found = session.get_credentials()
        if found is None:
            raise RuntimeError("no AWS credentials to sign AppSync requests with")
        return found.get_frozen_credentials()

    return AppSyncPublisher(url, region, credentials, httpx.Client(timeout=HTTP_TIMEOUT_S))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    if event.source != EVENT_SOURCE:
        logger.warning("not a planner event; ignored", extra={"source": event.source})
        return {"published": 0}
    target = publisher()
    published = 0
    for publication in publications_of_eventbridge(event.raw_event):
        target.publish(publication)
        published += 1
    metrics.add_metric(name="Published", unit=MetricUnit.Count, value=published)
    logger.info("published", extra={"detailType": event.detail_type, "count": published})
    return {"published": published}
