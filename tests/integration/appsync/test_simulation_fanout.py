"""Simulations at scale: the worker runs a small queued run, and fans a large one out over the
state machine (moto); the state machine's steps, run here as plain functions on the saved Step
Functions shapes, end the run with the result of one single run, bit for bit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import boto3
import pytest
from moto import mock_aws

from adapters.bootstrap import Application
from adapters.config import Settings
from adapters.engine.simulator import EngineSimulator
from planning.events import PlanEventKind
from planning.model.simulation import SimulationStatus
from planning.principal import Principal
from planning.services.simulations import RunSimulation
from tests.integration.graph_reference import RefTask, plan_document
from tests.lambda_context import LambdaContext, saved_event

ADMIN = Principal("t", frozenset({"admin"}))
TASKS = [RefTask(f"t{i}", 1 + i % 3) for i in range(6)]
EDGES = [("t0", "t1", 0), ("t1", "t2", 0), ("t0", "t3", 0), ("t3", "t4", 1), ("t2", "t5", 0), ("t4", "t5", 0)]
FANOUT_AT = 1_000
SFN_ROLE = "arn:aws:iam::123456789012:role/planner-sfn"


@pytest.fixture
def aws(app: Application, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's Step Functions with the fan-out state machine; the functions' environment."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "PLANNER_DATABASE_URL": settings.database_url,
        "PLANNER_GRAPH_URL": settings.graph_url,
        "PLANNER_SIMULATION_FANOUT_ITERATIONS": str(FANOUT_AT),
    }.items():
        monkeypatch.setenv(name, value)
    # Runs requested through the local application stay QUEUED: the worker function runs them.
    app.simulation_queue.bind(lambda _simulation_id, *, should_stop: None)
    with mock_aws():
        definition = {"StartAt": "Shards", "States": {"Shards": {"Type": "Pass", "End": True}}}
        arn = boto3.client("stepfunctions").create_state_machine(
            name="planner-fanout", definition=json.dumps(definition), roleArn=SFN_ROLE
        )["stateMachineArn"]
        monkeypatch.setenv("PLANNER_SIMULATION_STATE_MACHINE_ARN", arn)
        yield arn


def _request(app: Application, iterations: int, shards: int = 1) -> str:
    plan_id = app.services.documents.import_document(plan_document("Fan", TASKS, EDGES), ADMIN).id
    cmd = RunSimulation(plan_id, iterations=iterations, seed=20250205, as_of=date(2025, 2, 3), shards=shards)
    return app.services.simulations.request(cmd, ADMIN).id


def _sqs_event(simulation_id: str) -> dict:
    event = saved_event("sqs_run_simulation.json")
    event["Records"][0]["body"] = json.dumps({"simulationId": simulation_id})
    return event


def _single_run(app: Application, simulation_id: str) -> dict:
    """What one process gives for the same run: the engine, unsharded."""
    stored = app.services.simulations.stored(simulation_id)
    assert stored is not None
    cmd = RunSimulation(stored.plan_id, stored.iterations, stored.seed, stored.as_of, 1, stored.distribution)
    request, _titles = app.services.simulations.plan_request(cmd, ADMIN)
    return EngineSimulator().simulate(request)


def _kinds(app: Application, simulation_id: str) -> list[PlanEventKind]:
    with app.services.deps.uow() as uow:
        return [m.event.kind for m in uow.outbox.read_after(0, 10_000) if m.event.entity_id == simulation_id]


def test_a_small_run_runs_in_the_worker(app: Application, aws: str) -> None:
    from adapters.appsync import simulation_worker

    run_id = _request(app, FANOUT_AT)
    answer = simulation_worker.handler(_sqs_event(run_id), LambdaContext())

    assert answer == {"batchItemFailures": []}
    stored = app.services.simulations.stored(run_id)
    assert stored is not None
    assert stored.status is SimulationStatus.SUCCEEDED
    assert stored.result == _single_run(app, run_id)
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=aws)["executions"] == []


def test_a_large_run_fans_out_and_its_merge_equals_a_single_run(app: Application, aws: str) -> None:
    from adapters.appsync import simulation_merge, simulation_shard, simulation_worker

    run_id = _request(app, 2_500, shards=4)
    assert simulation_worker.handler(_sqs_event(run_id), LambdaContext()) == {"batchItemFailures": []}

    (execution,) = boto3.client("stepfunctions").list_executions(stateMachineArn=aws)["executions"]
    assert execution["name"] == run_id
    state = json.loads(
        boto3.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])["input"]
    )
    # What the Map iterates: the saved shape (the merge's input, less the Map's results).
    assert state == {"runId": run_id, "shards": saved_event("sfn_merge.json")["shards"]}
    running = app.services.simulations.stored(run_id)
    assert running is not None
    assert running.status is SimulationStatus.RUNNING

    # The Map: each item as the state machine hands it (ItemSelector: runId and the item).
    answers = []
    for shard in reversed(state["shards"]):  # any order
        item = {**saved_event("sfn_shard.json"), "runId": run_id, "shard": shard}
        answers.append(simulation_shard.handler(item, LambdaContext()))
    assert sorted(a["shard"] for a in answers) == [0, 1, 2, 3]
    assert all(a["ran"] for a in answers)

    merged = simulation_merge.handler({**state, "shardResults": answers}, LambdaContext())

    assert merged == {"runId": run_id, "status": "SUCCEEDED"}
    stored = app.services.simulations.stored(run_id)
    assert stored is not None
    assert stored.status is SimulationStatus.SUCCEEDED
    assert stored.completed_iterations == 2_500
    assert stored.result == _single_run(app, run_id)
    kinds = _kinds(app, run_id)
    assert kinds[0] is PlanEventKind.SIMULATION_STARTED
    assert kinds[-1] is PlanEventKind.SIMULATION_COMPLETED
    assert PlanEventKind.SIMULATION_PROGRESS in kinds


def test_a_redelivered_message_starts_nothing_twice(app: Application, aws: str) -> None:
    from adapters.appsync import simulation_worker

    run_id = _request(app, 2_500)
    simulation_worker.handler(_sqs_event(run_id), LambdaContext())
    simulation_worker.handler(_sqs_event(run_id), LambdaContext())
    assert len(boto3.client("stepfunctions").list_executions(stateMachineArn=aws)["executions"]) == 1


def test_a_bad_message_fails_alone_and_goes_back_to_the_queue(app: Application, aws: str) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from adapters.appsync import simulation_worker

    good_id = _request(app, FANOUT_AT)
    event = _sqs_event(good_id)
    bad = {**event["Records"][0], "messageId": "bad-one", "body": "not json"}
    event["Records"].append(bad)
    assert simulation_worker.handler(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "bad-one"}]}
    stored = app.services.simulations.stored(good_id)
    assert stored is not None
    assert stored.status is SimulationStatus.SUCCEEDED
    # A batch of only bad messages fails whole (Powertools), so SQS retries, then dead-letters it.
    with pytest.raises(BatchProcessingError):
        simulation_worker.handler({"Records": [bad]}, LambdaContext())


def test_shards_of_a_cancelled_run_do_nothing_and_the_merge_leaves_it_cancelled(app: Application, aws: str) -> None:
    from adapters.appsync import simulation_merge, simulation_shard, simulation_worker
    from planning.commands import CancelSimulation

    run_id = _request(app, 2_500, shards=2)
    simulation_worker.handler(_sqs_event(run_id), LambdaContext())
    app.services.simulations.cancel(CancelSimulation(run_id), ADMIN)
    answer = simulation_shard.handler({"runId": run_id, "shard": {"index": 0, "count": 2}}, LambdaContext())
    assert answer == {"runId": run_id, "shard": 0, "ran": False}
    assert simulation_merge.handler({"runId": run_id, "shardResults": [answer]}, LambdaContext()) == {
        "runId": run_id,
        "status": None,
    }
    stored = app.services.simulations.stored(run_id)
    assert stored is not None
    assert stored.status is SimulationStatus.CANCELLED
