"""``runSimulation`` on AWS: the run is queued on SQS for the simulation worker Lambda."""

from __future__ import annotations

import json
from typing import Any


def run_message(simulation_id: str) -> str:
    return json.dumps({"simulationId": simulation_id})


def simulation_id_of(body: str) -> str:
    """The run a queue message names; ValueError for a message that names none."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        raise ValueError("a simulation message must be JSON") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("simulationId"), str):
        raise ValueError('a simulation message must be {"simulationId": "..."}')
    return str(parsed["simulationId"])


class SqsSimulationQueue:
    """``planning.ports.simulation.SimulationQueue`` on an SQS queue (the worker runs each run)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def submit(self, simulation_id: str) -> None:
        self._client.send_message(QueueUrl=self._queue_url, MessageBody=run_message(simulation_id))
