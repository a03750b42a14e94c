"""Lambda (SQS): runs a queued simulation, or, above ``PLANNER_SIMULATION_FANOUT_ITERATIONS``,
claims it and starts the Step Functions state machine ``PLANNER_SIMULATION_STATE_MACHINE_ARN``
over its shards (``adapters.appsync.simulation_shard`` / ``simulation_merge``).

Messages are ``{"simulationId": "..."}`` (``adapters.appsync.sqs_queue``); a message that fails
is reported alone (partial batch response) and SQS retries it, then dead-letters it.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.appsync.runtime import LambdaRuntime, runtime
from adapters.appsync.sqs_queue import simulation_id_of
from adapters.appsync.telemetry import telemetry
from planning.model.simulation import SimulationStatus

observe = telemetry("simulation-worker")
logger, tracer, metrics = observe.logger, observe.tracer, observe.metrics
processor = BatchProcessor(event_type=EventType.SQS)
#: What a run that could not be fanned out tells clients (the details are logged).
FANOUT_FAILED = "the simulation could not be started on the shard workers; run it again"


def run_queued(here: LambdaRuntime, simulation_id: str) -> str:
    """What became of the run: ``ran``, ``fanned out``, or ``skipped`` (not QUEUED any more)."""
    simulations = here.services.simulations
    simulation = simulations.stored(simulation_id)
    if simulation is None or simulation.status is not SimulationStatus.QUEUED:
        return "skipped"
    fanout = here.fanout
    if not fanout.fans_out(simulation.iterations):
        simulations.execute(simulation_id)
        return "ran"
    started = fanout.start(simulation_id)
    if started is None:
        return "skipped"
    try:
        here.client("stepfunctions").start_execution(
            stateMachineArn=os.environ["PLANNER_SIMULATION_STATE_MACHINE_ARN"],
            # The run's id: starting it twice (a redelivered message) starts one execution.
            name=simulation_id,
            input=json.dumps(started.state_machine_input()),
        )
    except Exception:
        logger.exception("could not start the fan-out", extra={"simulationId": simulation_id})
        simulations.end(started.simulation, None, FANOUT_FAILED)
        return "failed"
    return "fanned out"


def record_handler(record: SQSRecord) -> str:
    simulation_id = simulation_id_of(record.body)
    outcome = run_queued(runtime(), simulation_id)
    logger.info("simulation", extra={"simulationId": simulation_id, "outcome": outcome})
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
