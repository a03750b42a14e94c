"""Lambda (after the Map): merges a fanned-out run's stored shards and ends the run.

Input: the state machine's state, ``{"runId", "shards", "shardResults": [<shard answers>]}``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.appsync.runtime import runtime
from adapters.appsync.telemetry import telemetry

observe = telemetry("simulation-merge")
logger, tracer, metrics = observe.logger, observe.tracer, observe.metrics


def merge(event: dict[str, Any]) -> dict[str, Any]:
    run_id = str(event["runId"])
    answers = event.get("shardResults") or []
    if any(str(a.get("runId")) != run_id for a in answers):
        raise ValueError("shard results of another run")
    ended = runtime().fanout.merge(run_id)
    return {"runId": run_id, "status": None if ended is None else ended.status.value}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return merge(event)
