"""Lambda (a Step Functions Map item): one shard of a fanned-out run.

Input ``{"runId": ..., "shard": {"index": i, "count": n}}``; the result is stored in the
database (``simulation_shard_results``), the answer is small: ``{"runId", "shard", "ran"}``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.appsync.runtime import runtime
from adapters.appsync.telemetry import telemetry

observe = telemetry("simulation-shard")
logger, tracer, metrics = observe.logger, observe.tracer, observe.metrics


def run_shard(event: dict[str, Any]) -> dict[str, Any]:
    run_id, shard = str(event["runId"]), event["shard"]
    index, count = int(shard["index"]), int(shard["count"])
    if not 0 <= index < count:
        raise ValueError(f"shard {index} of {count} does not exist")
    ran = runtime().fanout.run_shard(run_id, index, count)
    return {"runId": run_id, "shard": index, "ran": ran}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_shard(event)
