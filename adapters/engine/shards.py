"""The engine's shards for a fanned-out run: ``run_plan_shard`` and ``merge_plan_shards``, whose
merge equals ``simulate_plan`` of the same request bit for bit (``simulation.montecarlo``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.engine.simulator import plan_input
from planning.ports.simulation import SimulationRequest
from simulation.montecarlo import ShardResult
from simulation.plan import merge_plan_shards, run_plan_shard


class EngineShards:
    def run_shard(self, request: SimulationRequest, shard_index: int, shard_count: int) -> dict[str, Any]:
        result = run_plan_shard(
            plan_input(request),
            request.iterations,
            request.seed,
            shard_index,
            shard_count,
            distribution=request.distribution.value.lower(),
        )
        return result.to_dict()

    def merge(self, request: SimulationRequest, shards: Sequence[dict[str, Any]]) -> dict[str, Any]:
        report = merge_plan_shards(plan_input(request), [ShardResult.from_dict(s) for s in shards])
        return report.to_json()
