"""Large runs fanned out over shards that run apart (on AWS: a Step Functions Map of Lambdas).

The worker claims the run (``start``) and hands the state machine its shard indexes; each shard
(``run_shard``) simulates its contiguous range of iterations, stores its raw result (far too big
for the state machine's payload) and records the run's progress; the merge (``merge``) combines
the stored results, which equals one run of the same request bit for bit (the engine's shards
merge exactly), and ends the run. Progress and the end go through the outbox, as a run's always do.

A plan changed while its shards run gives shards of different models: the merge refuses them
and the run ends FAILED (run it again).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from planning.model.simulation import Simulation
from planning.ports.simulation import SimulationRequest
from planning.services.simulations import SimulationService

#: A run of more iterations than this fans out (the worker runs smaller ones itself).
FANOUT_ITERATIONS = 200_000
#: Iterations a shard takes at most (a shard Lambda has 15 minutes), and shards a run has at most.
SHARD_ITERATIONS = 100_000
MAX_SHARDS = 64

log = logging.getLogger("planner.simulations")


class ShardEngine(Protocol):
    def run_shard(self, request: SimulationRequest, shard_index: int, shard_count: int) -> dict[str, Any]:
        """One shard's raw result (JSON-ready)."""
        ...

    def merge(self, request: SimulationRequest, shards: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The run's report from all its shards' results: that of one run of ``request``."""
        ...


class ShardResults(Protocol):
    """Where shards leave their results for the merge."""

    def put(self, simulation_id: str, shard_index: int, result: dict[str, Any]) -> None: ...
    def get_all(self, simulation_id: str) -> list[dict[str, Any]]: ...
    def delete(self, simulation_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class FanoutStart:
    """A claimed run and its shard indexes (the state machine's Map items)."""

    simulation: Simulation
    shards: tuple[int, ...]

    def state_machine_input(self) -> dict[str, Any]:
        return state_machine_input(self.simulation.id, len(self.shards))


def state_machine_input(simulation_id: str, count: int) -> dict[str, Any]:
    """The fan-out's input: ``shards`` are the Map's items, each a shard's index and the count."""
    return {"runId": simulation_id, "shards": [{"index": i, "count": count} for i in range(count)]}


def shard_count(iterations: int, requested: int) -> int:
    """The run's own shard count, or more so that no shard exceeds ``SHARD_ITERATIONS``; at most
    ``MAX_SHARDS`` (the count changes no number of the result)."""
    return max(1, min(MAX_SHARDS, max(requested, math.ceil(iterations / SHARD_ITERATIONS))))


class SimulationFanout:
    def __init__(
        self,
        simulations: SimulationService,
        engine: ShardEngine,
        results: ShardResults,
        *,
        fanout_iterations: int = FANOUT_ITERATIONS,
    ) -> None:
        self._simulations = simulations
        self._engine = engine
        self._results = results
        self.fanout_iterations = fanout_iterations

    def fans_out(self, iterations: int) -> bool:
        return iterations > self.fanout_iterations

    def start(self, simulation_id: str) -> FanoutStart | None:
        """Claim the run for a fan-out; None when it is not QUEUED (another worker has it, or it
        was cancelled or deleted)."""
        simulation = self._simulations.claim(simulation_id)
        if simulation is None:
            return None
        return FanoutStart(simulation, tuple(range(shard_count(simulation.iterations, simulation.shards))))

    def run_shard(self, simulation_id: str, shard_index: int, shard_count: int) -> bool:
        """Run and store one shard, then record the run's progress; False when the run is no
        longer RUNNING (cancelled, deleted): nothing is run then."""
        found = self._simulations.running_request(simulation_id)
        if found is None:
            log.info("simulation %s is not running any more; shard %s skipped", simulation_id, shard_index)
            return False
        simulation, request = found
        result = self._engine.run_shard(request, shard_index, shard_count)
        self._results.put(simulation_id, shard_index, result)
        done_ranges = [(int(r["start"]), int(r["stop"])) for r in self._results.get_all(simulation_id)]
        done = sum(stop - start for start, stop in done_ranges)
        before = done - (int(result["stop"]) - int(result["start"]))
        tenths = (min(10, n * 10 // max(1, simulation.iterations)) for n in (before, done))
        announce = next(tenths) < next(tenths)
        return self._simulations.report_progress(simulation, done, announce=announce) is not False

    def merge(self, simulation_id: str) -> Simulation | None:
        """End the run with the merge of its stored shards (FAILED when they do not make one
        run); None when the run had ended otherwise. The stored shards are let go either way."""
        found = self._simulations.running_request(simulation_id)
        try:
            if found is None:
                return None
            simulation, request = found
            try:
                report = self._engine.merge(request, self._results.get_all(simulation_id))
            except ValueError as exc:
                log.warning("simulation %s: its shards do not merge: %s", simulation_id, exc)
                return self._simulations.end(
                    simulation, None, "the plan changed while the run's shards ran, or a shard is missing; run it again"
                )
            return self._simulations.end(simulation, report)
        finally:
            self._results.delete(simulation_id)
