"""simulation.graphql end to end: queue, run in the background, read back; and its user errors."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from graphql import build_schema, parse, validate
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.cli import demo_document
from planning.principal import Principal
from resolvers.ids import to_global_id
from schema.export import SCHEMA_DIR
from tests.graphql_client import ADMIN_HEADERS, OPERATIONS, GraphQL, add_member, operation

SIM = operation("simulation.graphql")
EVENTS = operation("events.graphql")
PLANS = operation("plans.graphql")
ADMIN = Principal("test", frozenset({"admin"}))


def test_simulation_operations_validate() -> None:
    schema = build_schema((SCHEMA_DIR / "schema.graphql").read_text())
    assert validate(schema, parse((OPERATIONS / "simulation.graphql").read_text())) == []


@pytest.fixture
def gql(client) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def demo_plan(app) -> str:
    return _import_demo(app)


def _import_demo(app) -> str:
    plan = app.services.documents.import_document(demo_document(), ADMIN, rebase_to=datetime.now(UTC).date())
    return to_global_id("Plan", plan.id)


def _run(gql: GraphQL, plan_id: str, **extra: object) -> dict:
    payload = gql(SIM, {"input": {"planId": plan_id, **extra}}, "RunSimulation")["runSimulation"]
    assert payload["userErrors"] == []
    return payload["simulation"]


def _wait(gql: GraphQL, simulation_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        node = gql(SIM, {"id": simulation_id}, "SimulationDetail")["node"]
        if node["status"] in ("SUCCEEDED", "FAILED"):
            return node
        assert node["status"] in ("QUEUED", "RUNNING")
        assert 0 <= node["progress"] <= 1
        time.sleep(0.05)
    raise AssertionError("the simulation did not finish in 60 s")


def test_run_simulation_answers_at_once_and_a_worker_finishes_it(gql: GraphQL, demo_plan: str) -> None:
    queued = _run(gql, demo_plan, iterations=4000, seed=11)
    assert queued["status"] in ("QUEUED", "RUNNING")
    assert queued["result"] is None
    assert (queued["iterations"], queued["seed"]) == (4000, 11)
    done = _wait(gql, queued["id"])
    assert done["status"] == "SUCCEEDED", done["error"]
    assert done["progress"] == 1.0
    assert done["error"] is None
    assert done["plan"] == {"id": demo_plan}
    assert done["startedAt"] <= done["completedAt"]
    result = done["result"]
    assert 0 < result["onTimeProbability"] < 1
    assert result["p50FinishDate"] <= result["p80FinishDate"] <= result["p90FinishDate"]
    assert sum(b["count"] for b in result["histogram"]) == 4000
    dates = [b["date"] for b in result["histogram"]]
    assert dates == sorted(dates)
    indexes = [c["criticalityIndex"] for c in result["taskCriticality"]]
    assert indexes == sorted(indexes, reverse=True)
    assert all(0 <= i <= 1 for i in indexes)
    assert len(result["taskCriticality"]) == 36
    assert result["taskCriticality"][0]["task"]["title"]
    assert all(-1 <= s["correlation"] <= 1 for s in result["sensitivity"])
    assert abs(result["sensitivity"][0]["correlation"]) > 0.2


def test_same_seed_same_answer_and_shards_equal_one_run(gql: GraphQL, demo_plan: str) -> None:
    results = []
    for shards in (1, 1, 3):
        sim = _run(gql, demo_plan, iterations=3000, seed=5, shards=shards, asOf="2026-11-23")
        results.append(_wait(gql, sim["id"])["result"])
    assert results[0] == results[1]
    assert results[0] == results[2]
    other_seed = _wait(gql, _run(gql, demo_plan, iterations=3000, seed=6, asOf="2026-11-23")["id"])["result"]
    assert other_seed != results[0]


def test_plan_simulations_lists_newest_first(gql: GraphQL, demo_plan: str) -> None:
    first = _run(gql, demo_plan, iterations=500, seed=1)
    second = _run(gql, demo_plan, iterations=600, seed=2)
    _wait(gql, first["id"])
    _wait(gql, second["id"])
    data = gql(SIM, {"planId": demo_plan}, "PlanSimulations")["plan"]
    assert data["latestSimulation"]["id"] == second["id"]
    assert [e["node"]["id"] for e in data["simulations"]["edges"]] == [second["id"], first["id"]]


def test_a_certain_delay_on_the_critical_path_lowers_the_odds(gql: GraphQL, demo_plan: str) -> None:
    before = _wait(gql, _run(gql, demo_plan, iterations=3000, seed=3)["id"])["result"]
    # The task whose duration moves the finish most is unfinished and mostly critical.
    critical = [before["sensitivity"][0]["task"]["id"]]
    gql(
        EVENTS,
        {
            "input": {
                "planId": demo_plan,
                "eventType": "supplier_delay",
                "severity": "HIGH",
                "title": "Parts late",
                "delayDays": 5,
                "affectedTaskIds": critical[:1],
            }
        },
        "IngestExternalEvent",
    )
    after = _wait(gql, _run(gql, demo_plan, iterations=3000, seed=3)["id"])["result"]
    assert after["onTimeProbability"] < before["onTimeProbability"]
    assert after["p50FinishDate"] > before["p50FinishDate"]


def _errors(gql: GraphQL, plan_id: str, **extra: object) -> list[tuple[str, list[str] | None]]:
    payload = gql(SIM, {"input": {"planId": plan_id, **extra}}, "RunSimulation")["runSimulation"]
    assert payload["simulation"] is None
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def test_bad_runs_are_user_errors(gql: GraphQL, demo_plan: str) -> None:
    assert _errors(gql, demo_plan, iterations=0) == [("INVALID_INPUT", ["input", "iterations"])]
    assert _errors(gql, demo_plan, iterations=1_000_001) == [("INVALID_INPUT", ["input", "iterations"])]
    assert _errors(gql, demo_plan, shards=0) == [("INVALID_INPUT", ["input", "shards"])]
    assert _errors(gql, demo_plan, seed=-1) == [("INVALID_INPUT", ["input", "seed"])]
    missing = "UGxhbjowMDAwMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA"
    assert _errors(gql, missing) == [("NOT_FOUND", ["input", "planId"])]
    # A viewer who is no member of the plan cannot know it exists; a member who views may not run it.
    assert [c for c, _ in _errors(gql.as_("viewer"), demo_plan)] == ["NOT_FOUND"]
    add_member(gql, demo_plan, "someone@example.com", "VIEWER")
    assert [c for c, _ in _errors(gql.as_("viewer"), demo_plan)] == ["FORBIDDEN"]
    empty = gql(PLANS, {"input": {"name": "Empty"}}, "CreatePlan")["createPlan"]["plan"]["id"]
    assert _errors(gql, empty) == [("INVALID_INPUT", ["input", "planId"])]
    gql(PLANS, {"input": {"planId": empty, "title": "No duration"}}, "CreateTask")
    payload = gql(SIM, {"input": {"planId": empty}}, "RunSimulation")["runSimulation"]
    assert "'No duration'" in payload["userErrors"][0]["message"]
    assert gql(SIM, {"planId": empty}, "PlanSimulations")["plan"]["simulations"]["edges"] == []


class OutOfMemory:
    """A Monte Carlo engine that fails as no plan could make it fail."""

    def simulate(self, *_args: object, **_kwargs: object) -> dict:
        raise MemoryError("out of memory in the engine")


def test_a_failing_run_ends_failed_with_a_generic_reason(settings) -> None:
    """An unexpected failure's details (which may name SQL or hosts) are logged, not shown."""
    app = bootstrap(settings, simulator=OutOfMemory())
    with TestClient(create_asgi_app(app), raise_server_exceptions=False, headers=ADMIN_HEADERS) as client:
        gql = GraphQL(client)
        done = _wait(gql, _run(gql, _import_demo(app), iterations=100)["id"])
        assert done["status"] == "FAILED"
        assert done["error"] == "the simulation failed unexpectedly; the error has been logged"
        assert "out of memory" not in done["error"]
        assert done["result"] is None


def test_simulation_events_reach_the_outbox(gql: GraphQL, app, demo_plan: str) -> None:
    from adapters.sql import SqlUnitOfWork

    done = _wait(gql, _run(gql, demo_plan, iterations=200, seed=9)["id"])
    with SqlUnitOfWork(app.engine) as uow:
        kinds = [
            m.event.kind.value
            for m in uow.outbox.read_after(0, 10_000)
            if m.event.kind.value.startswith("SIM") and m.event.kind.value != "SIMULATION_PROGRESS"
        ]
        last = [m.event for m in uow.outbox.read_after(0, 10_000)][-1]
    assert kinds == ["SIMULATION_STARTED", "SIMULATION_COMPLETED"]
    assert last.data["onTimeProbability"] == done["result"]["onTimeProbability"]
    assert json.dumps(last.data)


def test_a_restart_fails_runs_that_were_running_and_requeues_queued_ones(app, demo_plan: str) -> None:
    from dataclasses import replace

    from adapters.sql import SqlUnitOfWork
    from planning.services.simulations import RunSimulation

    service = app.services.simulations
    plan_id = demo_plan
    from resolvers.ids import raw_id

    queued = service.request(RunSimulation(raw_id(plan_id, "Plan"), iterations=100, seed=1), ADMIN)
    deadline = time.monotonic() + 30
    while service.get_many(ADMIN, [queued.id])[0].status.value != "SUCCEEDED" and time.monotonic() < deadline:
        time.sleep(0.05)
    stuck_running = replace(queued, id=app.services.plans._deps.ids.new_id(), status=queued.status.RUNNING, result=None)
    stuck_queued = replace(queued, id=app.services.plans._deps.ids.new_id(), status=queued.status.QUEUED, result=None)
    with SqlUnitOfWork(app.engine) as uow:
        uow.simulations.add(stuck_running)
        uow.simulations.add(stuck_queued)
        uow.commit()
    assert service.recover() == 2
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        running, requeued = service.get_many(ADMIN, [stuck_running.id, stuck_queued.id])
        if requeued.status.value == "SUCCEEDED":
            break
        time.sleep(0.05)
    assert running.status.value == "FAILED"
    assert "interrupted" in running.error
    assert requeued.status.value == "SUCCEEDED"
