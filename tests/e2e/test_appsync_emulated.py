"""Every contract query and mutation, run the way AppSync runs it, answers what the local server does.

``tests.appsync_emulator`` executes the operations with graphql-core over ``schema/appsync.graphql``,
invoking the Lambda handler for each field the template gives a resolver (batched where it
batches). The mutations of a scenario go through it (the AppSync path); after each step, every
contract query is run through it and through the local server on the same data, and the answers
must be equal. The local server here runs as it serves (resolvers get the parent objects, not
their JSON), so this also checks the serving path against the JSON one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from adapters.appsync import handler as appsync
from adapters.appsync.runtime import LambdaRuntime
from adapters.appsync.simulation_worker import run_queued
from adapters.bootstrap import Application
from adapters.config import Settings
from tests.appsync_emulator import AppSyncEmulator, operation_names, saved_event
from tests.graphql_client import OPERATIONS, GraphQL

DOCUMENTS = {path.name: path.read_text(encoding="utf-8") for path in sorted(OPERATIONS.glob("*.graphql"))}


def _admin_identity() -> dict[str, Any]:
    """The saved Cognito identity, as the local tests' admin (``ADMIN_HEADERS``)."""
    identity = saved_event("invoke_query_plan_cognito.json")["identity"]
    identity["claims"].update({"cognito:username": "tester@example.com", "cognito:groups": ["admin"]})
    identity.update({"username": "tester@example.com", "groups": ["admin"]})
    return identity


class WorkerQueue:
    """The simulation queue and its worker function in one: a queued run is run as the SQS
    worker runs it, on the same runtime."""

    def __init__(self) -> None:
        self.runtime: LambdaRuntime | None = None
        self.ran: list[str] = []

    def submit(self, simulation_id: str) -> None:
        assert self.runtime is not None
        self.ran.append(run_queued(self.runtime, simulation_id))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The local server here serves as a deployed one does, handing resolvers the parent objects
    themselves (no JSON check): its answers are compared with AppSync's, which get JSON parents."""
    return dataclasses.replace(settings, check_parents_as_json=False)


@pytest.fixture
def emulator(app: Application, settings: Settings) -> Iterator[AppSyncEmulator]:
    assert not app.settings.check_parents_as_json  # the serving path, against AppSync's JSON one
    queue = WorkerQueue()
    runtime = queue.runtime = LambdaRuntime(settings=settings, simulation_queue=queue)
    appsync.use_runtime(runtime)
    yield AppSyncEmulator(appsync.handler, _admin_identity())
    appsync.use_runtime(None)
    runtime.close()


def _document(name: str) -> str:
    return next(text for text in DOCUMENTS.values() if name in {n for _, n in operation_names(text)})


class Both:
    """Runs contract operations through the emulated AppSync, and queries through the local server too."""

    def __init__(self, emulator: AppSyncEmulator, local: GraphQL) -> None:
        self.emulator = emulator
        self.local = local
        self.ran: set[str] = set()

    def mutate(self, name: str, variables: dict[str, Any]) -> Any:
        result = self.emulator.execute(_document(name), variables, name)
        assert not result.errors, (name, result.errors)
        self.ran.add(name)
        payload = next(iter(result.data.values()))
        assert payload.get("userErrors", []) == [], (name, payload)
        return payload

    def query(self, name: str, variables: dict[str, Any]) -> Any:
        emulated = self.emulator.execute(_document(name), variables, name)
        local = self.local.raw(_document(name), variables, name)
        assert not emulated.errors, (name, emulated.errors)
        assert not local.get("errors"), (name, local["errors"])
        assert emulated.data == local["data"], name
        self.ran.add(name)
        return emulated.data


def _every_query(both: Both, ids: dict[str, str]) -> None:
    both.query("PlanList", {})
    both.query("PlanTasks", {"planId": ids["plan"]})
    both.query("PlanTasks", {"planId": ids["plan"], "first": 1, "filter": {"titleContains": "a"}})
    both.query("PlanDependencies", {"planId": ids["plan"]})
    both.query("CriticalPath", {"planId": ids["plan"]})
    both.query("TaskDetail", {"id": ids["task"]})
    both.query("TaskImpact", {"id": ids["task"], "maxDepth": 3})
    both.query("PlanEvents", {"planId": ids["plan"]})
    both.query("PlanActions", {"planId": ids["plan"]})
    both.query("PlanSimulations", {"planId": ids["plan"]})
    if "event" in ids:
        both.query("EventImpact", {"id": ids["event"]})
    if "simulation" in ids:
        both.query("SimulationDetail", {"id": ids["simulation"]})


def test_every_contract_operation_answers_on_appsync_what_the_local_server_answers(
    emulator: AppSyncEmulator, client: Any
) -> None:
    both = Both(emulator, GraphQL(client))
    today = date.today()
    plan = both.mutate("CreatePlan", {"input": {"name": "Launch", "eventDate": f"{today.year + 1}-03-31"}})["plan"]
    ids = {"plan": plan["id"]}
    made = []
    for title, duration in (("Order parts", 3), ("Assemble", 2), ("Test rig", 4)):
        task = both.mutate(
            "CreateTask",
            {
                "input": {
                    "planId": ids["plan"],
                    "title": title,
                    "durationDays": duration,
                    "estimate": {"optimisticDays": 1, "mostLikelyDays": duration, "pessimisticDays": duration + 3},
                    "dependsOn": made[-1:],
                }
            },
        )["task"]
        made.append(task["id"])
    ids["task"] = made[0]
    _every_query(both, ids)

    both.mutate("UpdateTask", {"input": {"id": made[1], "title": "Assemble the rig", "percentComplete": 10}})
    added = both.mutate("AddDependency", {"input": {"predecessorId": made[0], "successorId": made[2]}})
    both.mutate("RemoveDependency", {"input": {"id": added["dependency"]["id"]}})
    event = both.mutate(
        "IngestExternalEvent",
        {
            "input": {
                "planId": ids["plan"],
                "eventType": "supplier_delay",
                "severity": "HIGH",
                "title": "Late parts",
                "occurredAt": f"{today.isoformat()}T09:00:00Z",
                "delayDays": 5,
                "payload": json.dumps({"supplier": "ACME"}),
                "affectedTaskIds": [made[0]],
            }
        },
    )["externalEvent"]
    ids["event"] = event["id"]
    _every_query(both, ids)

    proposed = both.mutate("ProposeActions", {"input": {"externalEventId": ids["event"]}})["actions"]
    assert len(proposed) >= 2
    both.mutate("ApproveAction", {"input": {"id": proposed[0]["id"]}})
    both.mutate("RejectAction", {"input": {"id": proposed[1]["id"], "reason": "not now"}})
    simulation = both.mutate("RunSimulation", {"input": {"planId": ids["plan"], "iterations": 200, "seed": 7}})
    ids["simulation"] = simulation["simulation"]["id"]
    _every_query(both, ids)
    # The run went through the queue to the worker function, and its result reads the same on both.
    detail = both.query("SimulationDetail", {"id": ids["simulation"]})
    assert detail["node"]["status"] == "SUCCEEDED"
    assert detail["node"]["result"]["onTimeProbability"] is not None

    both.mutate("DeleteTask", {"input": {"id": made[2]}})
    _every_query(both, ids)

    contract = {name for text in DOCUMENTS.values() for kind, name in operation_names(text) if kind != "subscription"}
    assert both.ran == contract
    # Nested fields came in batches: one BatchInvoke for the dependsOn of a whole page of tasks.
    assert max(n for t, f, n in emulator.invocations if (t, f) == ("Task", "dependsOn")) == 3
