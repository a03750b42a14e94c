"""Lambda (a CDK trigger, once per deployment): brings the database schema to the head revision
(Alembic, ``adapters.sql.migrate``). No other function migrates."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.appsync.runtime import runtime
from adapters.appsync.telemetry import telemetry
from adapters.sql.migrate import current_revision, upgrade

observe = telemetry("migrate")
logger, tracer, metrics = observe.logger, observe.tracer, observe.metrics


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    engine = runtime().engine
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    logger.info("migrated", extra={"from": before, "to": after})
    return {"from": before, "to": after}
