"""The synthesized state machine hands the shard and merge functions what they read: the
worker's input, through the Map's ItemsPath and ItemSelector, then ResultPath into the merge."""

from __future__ import annotations

import json
from typing import Any

from planning.services.simulation_fanout import FANOUT_ITERATIONS, state_machine_input
from tests.infra.conftest import Synthesized


def _definition(synthesized: Synthesized) -> dict[str, Any]:
    ((_, machine),) = synthesized.resources("AWS::StepFunctions::StateMachine").items()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "<function>" for p in parts))


def _path(state: dict[str, Any], item: Any, path: str) -> Any:
    """The JSONPath forms the definition uses: ``$.key`` and ``$$.Map.Item.Value``."""
    if path == "$$.Map.Item.Value":
        return item
    assert path.startswith("$.")
    return state[path[2:]]


def test_the_map_feeds_the_handlers_the_shapes_they_read(synthesized: Synthesized) -> None:
    definition = _definition(synthesized)
    shards = definition["States"]["Shards"]
    state = state_machine_input("run-1", 3)

    items = _path(state, None, shards["ItemsPath"])
    inputs = [
        {key.removesuffix(".$"): _path(state, item, value) for key, value in shards["ItemSelector"].items()}
        for item in items
    ]
    assert inputs == [{"runId": "run-1", "shard": {"index": i, "count": 3}} for i in range(3)]
    (shard_state,) = shards["ItemProcessor"]["States"].values()
    # payload_response_only: the function's answer is the item's result, as is.
    assert "Payload" not in json.dumps(shard_state.get("ResultSelector", {}))
    assert shards["ResultPath"] == "$.shardResults"
    merge_state = definition["States"]["MergeShards"]
    assert "InputPath" not in merge_state  # the merge gets the whole state: runId, shards, shardResults


def test_the_fanout_size_is_the_same_in_the_stack_and_the_service(synthesized: Synthesized) -> None:
    (worker,) = synthesized.template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "adapters.appsync.simulation_worker.handler"}}
    ).values()
    variables = worker["Properties"]["Environment"]["Variables"]
    assert variables["PLANNER_SIMULATION_FANOUT_ITERATIONS"] == str(FANOUT_ITERATIONS)
