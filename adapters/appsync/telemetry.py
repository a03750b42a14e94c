"""Powertools' Logger, Tracer and Metrics for the planner's Lambda functions (one set per
function module: the service name is the function's, the namespace ``Planner``).

Outside Lambda the Tracer records nothing and metrics are only printed, so the handlers run the
same in tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics, Tracer

NAMESPACE = "Planner"


@dataclass(frozen=True)
class Telemetry:
    logger: Logger
    tracer: Tracer
    metrics: Metrics


def telemetry(function: str) -> Telemetry:
    service = f"planner-{function}"
    return Telemetry(
        logger=Logger(service=service),
        tracer=Tracer(service=service),
        metrics=Metrics(namespace=NAMESPACE, service=service),
    )
