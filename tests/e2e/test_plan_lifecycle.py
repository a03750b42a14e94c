"""The life of a plan through the API: updatePlan, deletePlan, resolveExternalEvent,
cancelSimulation, and ingestExternalEvent's idempotency CONFLICT, on both stores."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.bootstrap import Application
from adapters.cli import demo_document
from adapters.sql import SqlUnitOfWork
from adapters.sql.tables import (
    external_event_tasks,
    external_events,
    plans,
    proposed_actions,
    simulations,
    task_assignees,
    task_dependencies,
    tasks,
)
from planning.commands import CreatePlan, IngestExternalEvent
from planning.errors import DomainError, ErrorCode
from planning.model import Severity
from planning.principal import Principal
from resolvers.ids import raw_id, to_global_id
from tests.graphql_client import GraphQL, add_member
from tests.integration.graph_reference import RefTask, plan_document

ADMIN = Principal("admin@example.com", frozenset({"admin"}))

PLAN_FIELDS = "id name eventDate plannerPlanId version createdAt updatedAt calendar { workingDays holidays }"
CREATE_PLAN = f"""
mutation($i: CreatePlanInput!) {{ createPlan(input: $i) {{ plan {{ {PLAN_FIELDS} }} userErrors {{ field code }} }} }}
"""
UPDATE_PLAN = f"""
mutation($i: UpdatePlanInput!) {{
  updatePlan(input: $i) {{ plan {{ {PLAN_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
DELETE_PLAN = """
mutation($i: DeletePlanInput!) { deletePlan(input: $i) { deletedPlanId userErrors { field message code } } }
"""
PLAN = f"query($id: ID!) {{ plan(id: $id) {{ {PLAN_FIELDS} }} node(id: $id) {{ id }} }}"
CREATE_TASK = """
mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } userErrors { field code } } }
"""
EVENT_FIELDS = "id title status statusChangedAt statusChangedBy statusNote delayDays occurredAt"
INGEST = f"""
mutation($i: IngestExternalEventInput!) {{
  ingestExternalEvent(input: $i) {{ externalEvent {{ {EVENT_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
RESOLVE = f"""
mutation($i: ResolveExternalEventInput!) {{
  resolveExternalEvent(input: $i) {{ externalEvent {{ {EVENT_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
PLAN_EVENTS = f"""
query($id: ID!) {{ plan(id: $id) {{ externalEvents {{ totalCount edges {{ node {{ {EVENT_FIELDS} }} }} }} }} }}
"""
SIM_FIELDS = "id status progress completedIterations iterations completedAt error result { onTimeProbability }"
RUN = f"""
mutation($i: RunSimulationInput!) {{
  runSimulation(input: $i) {{ simulation {{ {SIM_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
CANCEL = f"""
mutation($i: CancelSimulationInput!) {{
  cancelSimulation(input: $i) {{ simulation {{ {SIM_FIELDS} }} userErrors {{ field message code }} }}
}}
"""
SIMULATION = f"query($id: ID!) {{ node(id: $id) {{ ... on Simulation {{ {SIM_FIELDS} }} }} }}"
MISSING_PLAN = to_global_id("Plan", "00000000-0000-7000-8000-000000000000")


@pytest.fixture
def gql(client) -> GraphQL:
    return GraphQL(client)


def _create_plan(gql: GraphQL, name: str = "Launch", **extra: Any) -> dict:
    payload = gql(CREATE_PLAN, {"i": {"name": name, **extra}})["createPlan"]
    assert payload["userErrors"] == []
    return payload["plan"]


def _update(gql: GraphQL, plan_id: str, **fields: Any) -> dict:
    return gql(UPDATE_PLAN, {"i": {"id": plan_id, **fields}})["updatePlan"]


def _codes(payload: dict) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def _create_task(gql: GraphQL, plan_id: str, title: str, **extra: Any) -> str:
    payload = gql(CREATE_TASK, {"i": {"planId": plan_id, "title": title, **extra}})["createTask"]
    assert payload["userErrors"] == []
    return payload["task"]["id"]


def _outbox(app: Application, kind: str) -> list[Any]:
    with SqlUnitOfWork(app.engine) as uow:
        return [m.event for m in uow.outbox.read_after(0, 100_000) if m.event.kind.value == kind]


def _poll(read: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float = 60.0) -> Any:
    """Read until ``done`` holds (bounded); the last value read."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r} after {timeout_s} s"
        time.sleep(0.02)


# updatePlan


def test_update_plan_changes_only_the_fields_sent(gql: GraphQL, app: Application) -> None:
    created = _create_plan(
        gql,
        eventDate="2025-03-31",
        plannerPlanId="planner-1",
        calendar={"workingDays": ["MON", "TUE", "WED", "THU", "FRI"], "holidays": ["2025-12-25"]},
    )
    plan_id = created["id"]
    assert created["version"] == 1

    renamed = _update(gql, plan_id, name="  Launch v2 ", expectedVersion=1)
    assert renamed["userErrors"] == []
    plan = renamed["plan"]
    assert plan["name"] == "Launch v2"
    assert (plan["eventDate"], plan["plannerPlanId"]) == ("2025-03-31", "planner-1")
    assert plan["calendar"] == created["calendar"]
    assert plan["version"] == 2
    assert plan["updatedAt"] >= created["updatedAt"]
    assert plan["createdAt"] == created["createdAt"]

    # Only the working days change; the holidays stay. Then only the holidays, cleared.
    plan = _update(gql, plan_id, calendar={"workingDays": ["MON", "SAT"]})["plan"]
    assert plan["calendar"] == {"workingDays": ["MON", "SAT"], "holidays": ["2025-12-25"]}
    plan = _update(gql, plan_id, calendar={"holidays": []})["plan"]
    assert plan["calendar"] == {"workingDays": ["MON", "SAT"], "holidays": []}
    assert plan["version"] == 4

    # null leaves the name alone but clears the event date and the Planner plan.
    plan = _update(gql, plan_id, name=None, eventDate=None, plannerPlanId=None)["plan"]
    assert (plan["name"], plan["eventDate"], plan["plannerPlanId"]) == ("Launch v2", None, None)
    assert plan["version"] == 5

    # A change that changes nothing keeps the version and records no event.
    same = _update(gql, plan_id, name="Launch v2", eventDate=None, expectedVersion=5)
    assert same["userErrors"] == []
    assert same["plan"]["version"] == 5

    assert gql(PLAN, {"id": plan_id})["plan"] == plan
    updates = _outbox(app, "PLAN_UPDATED")
    assert len(updates) == 4
    assert {e.entity_id for e in updates} == {raw_id(plan_id, "Plan")}
    assert updates[-1].data["version"] == 5
    assert updates[-1].data["name"] == "Launch v2"
    assert updates[-1].data["eventDate"] is None
    assert updates[-1].data["calendar"] == {"workingDays": ["MON", "SAT"], "holidays": []}


def test_update_plan_user_errors(gql: GraphQL) -> None:
    plan_id = _create_plan(gql, plannerPlanId="planner-1")["id"]
    _create_plan(gql, "Other", plannerPlanId="planner-2")
    assert _update(gql, plan_id, name="Renamed")["plan"]["version"] == 2

    assert _codes(_update(gql, plan_id, name="Stale", expectedVersion=1)) == [
        ("STALE_VERSION", ["input", "expectedVersion"])
    ]
    assert _codes(_update(gql, plan_id, plannerPlanId="planner-2")) == [("DUPLICATE", ["input", "plannerPlanId"])]
    assert _codes(_update(gql, plan_id, name="   ")) == [("INVALID_INPUT", ["input", "name"])]
    assert _codes(_update(gql, plan_id, name="x" * 201)) == [("INVALID_INPUT", ["input", "name"])]
    assert _codes(_update(gql, plan_id, plannerPlanId="p" * 101)) == [("INVALID_INPUT", ["input", "plannerPlanId"])]
    assert _codes(_update(gql, plan_id, calendar={"workingDays": ["MON", "XYZ"]})) == [
        ("INVALID_INPUT", ["input", "calendar", "workingDays"])
    ]
    assert _codes(_update(gql, plan_id, calendar={"workingDays": []})) == [
        ("INVALID_INPUT", ["input", "calendar", "workingDays"])
    ]
    assert _codes(_update(gql, MISSING_PLAN, name="X")) == [("NOT_FOUND", ["input", "id"])]
    assert _codes(_update(gql, to_global_id("Task", "t"), name="X")) == [("INVALID_INPUT", ["input", "id"])]
    add_member(gql, plan_id, "someone@example.com", "EDITOR")  # an editor may not change the plan itself
    forbidden = gql.as_("planner")(UPDATE_PLAN, {"i": {"id": plan_id, "name": "Mine"}})["updatePlan"]
    assert [e["code"] for e in forbidden["userErrors"]] == ["FORBIDDEN"]
    assert forbidden["plan"] is None

    # Nothing of the refused changes stuck; its own Planner id is no duplicate of itself.
    stored = gql(PLAN, {"id": plan_id})["plan"]
    assert (stored["name"], stored["plannerPlanId"], stored["version"]) == ("Renamed", "planner-1", 2)
    assert _update(gql, plan_id, plannerPlanId="planner-1", expectedVersion=2)["userErrors"] == []


# deletePlan


def _count_rows(app: Application, plan_id: str, task_ids: list[str], event_ids: list[str]) -> dict[str, int]:
    queries = {
        "plans": select(func.count()).select_from(plans).where(plans.c.id == plan_id),
        "tasks": select(func.count()).select_from(tasks).where(tasks.c.plan_id == plan_id),
        "task_assignees": select(func.count())
        .select_from(task_assignees)
        .where(task_assignees.c.task_id.in_(task_ids)),
        "task_dependencies": select(func.count())
        .select_from(task_dependencies)
        .where(task_dependencies.c.plan_id == plan_id),
        "external_events": select(func.count())
        .select_from(external_events)
        .where(external_events.c.plan_id == plan_id),
        "external_event_tasks": select(func.count())
        .select_from(external_event_tasks)
        .where(external_event_tasks.c.event_id.in_(event_ids)),
        "proposed_actions": select(func.count())
        .select_from(proposed_actions)
        .where(proposed_actions.c.plan_id == plan_id),
        "simulations": select(func.count()).select_from(simulations).where(simulations.c.plan_id == plan_id),
    }
    with app.engine.connect() as conn:
        return {name: int(conn.execute(query).scalar_one()) for name, query in queries.items()}


def _fill_plan(gql: GraphQL, app: Application, name: str) -> tuple[str, list[str], list[str]]:
    """A plan with one of everything: tasks with assignees, a dependency, an event on a task,
    a proposed action and a finished simulation. Its global id, raw task ids, raw event ids."""
    plan_id = _create_plan(gql, name, eventDate="2030-01-31")["id"]
    first = _create_task(gql, plan_id, "Design", durationDays=3, assignees=["ana@example.com", "bo@example.com"])
    second = _create_task(gql, plan_id, "Build", durationDays=5, dependsOn=[first], assignees=["ana@example.com"])
    event = gql(
        INGEST,
        {
            "i": {
                "planId": plan_id,
                "eventType": "supplier_delay",
                "severity": "HIGH",
                "title": "Parts late",
                "delayDays": 2,
                "affectedTaskIds": [first, second],
                "idempotencyKey": f"{name}-1",
            }
        },
    )["ingestExternalEvent"]["externalEvent"]["id"]
    run = gql(RUN, {"i": {"planId": plan_id, "iterations": 200, "seed": 1}})["runSimulation"]["simulation"]
    _poll(lambda: gql(SIMULATION, {"id": run["id"]})["node"]["status"], lambda s: s == "SUCCEEDED")
    with app.engine.begin() as conn:
        conn.execute(
            proposed_actions.insert().values(
                id=str(uuid.uuid4()),
                plan_id=raw_id(plan_id, "Plan"),
                task_id=raw_id(first, "Task"),
                external_event_id=raw_id(event, "ExternalEvent"),
                action_type="EXPEDITE",
                status="PROPOSED",
                rationale="pay for faster shipping",
                parameters={},
                created_at=datetime.now(UTC),
            )
        )
    return plan_id, [raw_id(first, "Task"), raw_id(second, "Task")], [raw_id(event, "ExternalEvent")]


def test_delete_plan_leaves_nothing_of_it_in_any_table(gql: GraphQL, app: Application) -> None:
    doomed, doomed_tasks, doomed_events = _fill_plan(gql, app, "Doomed")
    kept, kept_tasks, kept_events = _fill_plan(gql, app, "Kept")
    everything = {
        "plans": 1,
        "tasks": 2,
        "task_assignees": 3,
        "task_dependencies": 1,
        "external_events": 1,
        "external_event_tasks": 2,
        "proposed_actions": 1,
        "simulations": 1,
    }
    assert _count_rows(app, raw_id(doomed, "Plan"), doomed_tasks, doomed_events) == everything

    add_member(gql, doomed, "someone@example.com", "EDITOR")  # only owners (and admins) delete a plan
    forbidden = gql.as_("planner")(DELETE_PLAN, {"i": {"id": doomed}})["deletePlan"]
    assert forbidden["deletedPlanId"] is None
    assert [e["code"] for e in forbidden["userErrors"]] == ["FORBIDDEN"]
    assert _count_rows(app, raw_id(doomed, "Plan"), doomed_tasks, doomed_events) == everything
    assert {t.task_id for t in app.graph.plan_graph(raw_id(doomed, "Plan")).tasks} == set(doomed_tasks)

    deleted = gql(DELETE_PLAN, {"i": {"id": doomed}})["deletePlan"]
    assert deleted == {"deletedPlanId": doomed, "userErrors": []}
    assert _count_rows(app, raw_id(doomed, "Plan"), doomed_tasks, doomed_events) == dict.fromkeys(everything, 0)
    # Nor in the graph: the projection followed the PLAN_DELETED event.
    app.projector.catch_up(wait_s=10)
    assert app.graph.plan_graph(raw_id(doomed, "Plan")).tasks == ()
    assert app.graph.plan_graph(raw_id(doomed, "Plan")).edges == ()
    assert raw_id(doomed, "Plan") not in app.graph.plan_ids()
    assert app.graph.plan_graph(raw_id(kept, "Plan")).edges
    drift = app.services.graph_maintenance.check()
    assert drift.in_sync, drift
    assert drift.pending_events == 0
    assert gql(PLAN, {"id": doomed}) == {"plan": None, "node": None}
    # The other plan is untouched.
    assert _count_rows(app, raw_id(kept, "Plan"), kept_tasks, kept_events) == everything
    assert gql(PLAN, {"id": kept})["plan"]["name"] == "Kept"

    events = _outbox(app, "PLAN_DELETED")
    assert [(e.plan_id, e.entity_id) for e in events] == [(raw_id(doomed, "Plan"), raw_id(doomed, "Plan"))]
    assert events[0].data["name"] == "Doomed"

    again = gql(DELETE_PLAN, {"i": {"id": doomed}})["deletePlan"]
    assert again["deletedPlanId"] is None
    assert _codes(again) == [("NOT_FOUND", ["input", "id"])]
    assert _codes(gql(DELETE_PLAN, {"i": {"id": "not an id"}})["deletePlan"]) == [("INVALID_INPUT", ["input", "id"])]


def _big_plan(app: Application, name: str = "Big", size: int = 200) -> str:
    """A plan whose run of 1,000,000 iterations takes many seconds (unless it is stopped)."""
    keys = [RefTask(f"t{i}", 1 + i % 5) for i in range(size)]
    edges = [(f"t{i}", f"t{i + 1}", 0.0) for i in range(size - 1)]
    plan = app.services.documents.import_document(plan_document(name, keys, edges), ADMIN)
    return to_global_id("Plan", plan.id)


def _small_plan(app: Application) -> str:
    """The demo plan, moved to today: a run of it takes a moment and it is at risk."""
    plan = app.services.documents.import_document(demo_document(), ADMIN, rebase_to=date.today())
    return to_global_id("Plan", plan.id)


def _run(gql: GraphQL, plan_id: str, **extra: Any) -> dict:
    payload = gql(RUN, {"i": {"planId": plan_id, **extra}})["runSimulation"]
    assert payload["userErrors"] == []
    return payload["simulation"]


def _sim(gql: GraphQL, simulation_id: str) -> dict:
    return gql(SIMULATION, {"id": simulation_id})["node"]


def test_deleting_a_plan_ends_its_running_and_queued_runs_quietly(
    gql: GraphQL, app: Application, caplog: pytest.LogCaptureFixture
) -> None:
    big = _big_plan(app)
    other = _small_plan(app)
    running = _run(gql, big, iterations=1_000_000, seed=1)
    queued = _run(gql, big, iterations=100, seed=2)
    _poll(lambda: _sim(gql, running["id"])["status"], lambda s: s == "RUNNING")
    with caplog.at_level(logging.INFO, logger="planner.simulations"):
        assert gql(DELETE_PLAN, {"i": {"id": big}})["deletePlan"]["userErrors"] == []
        assert _sim(gql, running["id"]) is None
        assert _sim(gql, queued["id"]) is None
        # One worker: a run of another plan starts only once the worker let both go.
        after = _run(gql, other, iterations=200, seed=3)
        done = _poll(lambda: _sim(gql, after["id"]), lambda s: s["status"] in ("SUCCEEDED", "FAILED"))
    assert done["status"] == "SUCCEEDED", done["error"]
    records = [r for r in caplog.records if r.name == "planner.simulations"]
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []
    assert not any(r.exc_info for r in records)
    assert any("deleted with its plan" in r.getMessage() for r in records)
    with app.engine.connect() as conn:
        query = select(func.count()).select_from(simulations).where(simulations.c.plan_id == raw_id(big, "Plan"))
        left = conn.execute(query)
        assert left.scalar_one() == 0


# resolveExternalEvent


def _ingest(gql: GraphQL, plan_id: str, **fields: Any) -> dict:
    base = {"planId": plan_id, "eventType": "supplier_delay", "severity": "HIGH", "title": "Parts late"}
    return gql(INGEST, {"i": {**base, **fields}})["ingestExternalEvent"]


def _resolve(gql: GraphQL, event_id: str, status: str, **extra: Any) -> dict:
    return gql(RESOLVE, {"i": {"id": event_id, "status": status, **extra}})["resolveExternalEvent"]


def test_resolve_external_event_keeps_the_event_as_history(gql: GraphQL, app: Application) -> None:
    plan_id = _create_plan(gql)["id"]
    event = _ingest(gql, plan_id, delayDays=3)["externalEvent"]
    assert (event["status"], event["statusChangedAt"], event["statusChangedBy"]) == ("OPEN", None, None)

    add_member(gql, plan_id, "pat@example.com", "EDITOR")  # editors may resolve the plan's events
    planner = gql.as_("planner", user="pat@example.com")
    resolved = _resolve(planner, event["id"], "RESOLVED", note="  parts arrived  ")
    assert resolved["userErrors"] == []
    changed = resolved["externalEvent"]
    assert changed["status"] == "RESOLVED"
    assert changed["statusChangedBy"] == "pat@example.com"
    assert changed["statusChangedAt"].endswith("Z")
    assert changed["statusNote"] == "  parts arrived  "
    assert _outbox(app, "EXTERNAL_EVENT_UPDATED")[-1].data["status"] == "RESOLVED"

    # The status it has already: answered as it is, with no new event.
    again = _resolve(gql, event["id"], "RESOLVED", note="something else")
    assert again == {"externalEvent": changed, "userErrors": []}
    assert len(_outbox(app, "EXTERNAL_EVENT_UPDATED")) == 1

    withdrawn = _resolve(gql.as_("admin", user="ada@example.com"), event["id"], "WITHDRAWN")["externalEvent"]
    assert (withdrawn["status"], withdrawn["statusNote"], withdrawn["statusChangedBy"]) == (
        "WITHDRAWN",
        None,
        "ada@example.com",
    )
    assert withdrawn["statusChangedAt"] >= changed["statusChangedAt"]
    reopened = _resolve(gql, event["id"], "OPEN", note="it is back")["externalEvent"]
    assert reopened["status"] == "OPEN"
    updates = _outbox(app, "EXTERNAL_EVENT_UPDATED")
    assert [u.data["status"] for u in updates] == ["RESOLVED", "WITHDRAWN", "OPEN"]
    assert {u.entity_id for u in updates} == {raw_id(event["id"], "ExternalEvent")}

    listed = gql(PLAN_EVENTS, {"id": plan_id})["plan"]["externalEvents"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"] == reopened


def test_resolve_external_event_user_errors(gql: GraphQL) -> None:
    plan_id = _create_plan(gql)["id"]
    event_id = _ingest(gql, plan_id)["externalEvent"]["id"]
    missing = to_global_id("ExternalEvent", "00000000-0000-7000-8000-000000000000")
    assert _codes(_resolve(gql, missing, "RESOLVED")) == [("NOT_FOUND", ["input", "id"])]
    assert _codes(_resolve(gql, plan_id, "RESOLVED")) == [("INVALID_INPUT", ["input", "id"])]
    assert _codes(_resolve(gql, event_id, "RESOLVED", note="n" * 2001)) == [("INVALID_INPUT", ["input", "note"])]
    add_member(gql, plan_id, "someone@example.com", "VIEWER")
    forbidden = _resolve(gql.as_("viewer"), event_id, "WITHDRAWN")
    assert forbidden["externalEvent"] is None
    assert [e["code"] for e in forbidden["userErrors"]] == ["FORBIDDEN"]
    assert gql(PLAN_EVENTS, {"id": plan_id})["plan"]["externalEvents"]["edges"][0]["node"]["status"] == "OPEN"


def _on_time(gql: GraphQL, plan_id: str) -> float:
    run = _run(gql, plan_id, iterations=3000, seed=3)
    done = _poll(lambda: _sim(gql, run["id"]), lambda s: s["status"] in ("SUCCEEDED", "FAILED"))
    assert done["status"] == "SUCCEEDED", done["error"]
    return float(done["result"]["onTimeProbability"])


def test_a_resolved_event_no_longer_weighs_on_simulations(gql: GraphQL, app: Application) -> None:
    plan_id = _small_plan(app)
    before = _on_time(gql, plan_id)
    tasks_page = gql(
        "query($id: ID!) { plan(id: $id) { tasks(first: 500) { edges { node { id status } } } } }", {"id": plan_id}
    )
    open_tasks = [e["node"]["id"] for e in tasks_page["plan"]["tasks"]["edges"] if e["node"]["status"] != "COMPLETED"]
    event = _ingest(gql, plan_id, delayDays=15, affectedTaskIds=open_tasks)["externalEvent"]
    delayed = _on_time(gql, plan_id)
    assert delayed < before

    assert _resolve(gql, event["id"], "RESOLVED")["userErrors"] == []
    assert _on_time(gql, plan_id) == before
    assert _resolve(gql, event["id"], "OPEN")["userErrors"] == []
    assert _on_time(gql, plan_id) == delayed
    assert _resolve(gql, event["id"], "WITHDRAWN")["userErrors"] == []
    assert _on_time(gql, plan_id) == before


# cancelSimulation


def _kinds_of(app: Application, simulation_id: str) -> list[str]:
    with SqlUnitOfWork(app.engine) as uow:
        return [
            m.event.kind.value
            for m in uow.outbox.read_after(0, 100_000)
            if m.event.entity_id == raw_id(simulation_id, "Simulation") and m.event.kind.value != "SIMULATION_PROGRESS"
        ]


def test_cancel_a_queued_and_a_running_simulation(gql: GraphQL, app: Application) -> None:
    big = _big_plan(app)
    other = _small_plan(app)
    running = _run(gql, big, iterations=1_000_000, seed=1)
    queued = _run(gql, big, iterations=100, seed=2)
    _poll(lambda: _sim(gql, running["id"])["status"], lambda s: s == "RUNNING")

    # The queued run (the one worker is busy with the other): cancelled at once, never started.
    cancelled = gql(CANCEL, {"i": {"id": queued["id"]}})["cancelSimulation"]
    assert cancelled["userErrors"] == []
    assert cancelled["simulation"]["status"] == "CANCELLED"
    assert cancelled["simulation"]["completedAt"] is not None
    assert _sim(gql, queued["id"])["status"] == "CANCELLED"

    # The running one: the worker notices at its next progress write and lets go.
    stopped = gql(CANCEL, {"i": {"id": running["id"]}})["cancelSimulation"]
    assert stopped["userErrors"] == []
    assert stopped["simulation"]["status"] == "CANCELLED"
    after = _run(gql, other, iterations=200, seed=3)
    done = _poll(lambda: _sim(gql, after["id"]), lambda s: s["status"] in ("SUCCEEDED", "FAILED"))
    assert done["status"] == "SUCCEEDED", done["error"]

    for run, kinds in ((queued, ["SIMULATION_CANCELLED"]), (running, ["SIMULATION_STARTED", "SIMULATION_CANCELLED"])):
        final = _sim(gql, run["id"])
        assert final["status"] == "CANCELLED"
        assert final["result"] is None
        assert final["error"] is None
        assert _kinds_of(app, run["id"]) == kinds
    final = _sim(gql, running["id"])
    assert final["completedIterations"] < final["iterations"]
    # Not started again by a sweep either: recover() takes only QUEUED and stale RUNNING runs.
    app.services.simulations.recover()
    assert _sim(gql, queued["id"])["status"] == "CANCELLED"


def test_cancel_refuses_runs_that_have_ended(gql: GraphQL, app: Application) -> None:
    plan_id = _small_plan(app)
    run = _run(gql, plan_id, iterations=200, seed=1)
    done = _poll(lambda: _sim(gql, run["id"]), lambda s: s["status"] in ("SUCCEEDED", "FAILED"))
    assert done["status"] == "SUCCEEDED"

    refused = gql(CANCEL, {"i": {"id": run["id"]}})["cancelSimulation"]
    assert refused["simulation"] is None
    assert _codes(refused) == [("INVALID_INPUT", ["input", "id"])]
    assert "SUCCEEDED" in refused["userErrors"][0]["message"]
    assert _sim(gql, run["id"]) == done

    missing = to_global_id("Simulation", "00000000-0000-7000-8000-000000000000")
    assert _codes(gql(CANCEL, {"i": {"id": missing}})["cancelSimulation"]) == [("NOT_FOUND", ["input", "id"])]
    assert _codes(gql(CANCEL, {"i": {"id": plan_id}})["cancelSimulation"]) == [("INVALID_INPUT", ["input", "id"])]
    add_member(gql, plan_id, "someone@example.com", "VIEWER")
    forbidden = gql.as_("viewer")(CANCEL, {"i": {"id": run["id"]}})["cancelSimulation"]
    assert [e["code"] for e in forbidden["userErrors"]] == ["FORBIDDEN"]
    assert _kinds_of(app, run["id"]) == ["SIMULATION_STARTED", "SIMULATION_COMPLETED"]


def test_a_cancelled_run_cannot_be_cancelled_again(gql: GraphQL, app: Application) -> None:
    big = _big_plan(app)
    running = _run(gql, big, iterations=1_000_000, seed=1)
    assert gql(CANCEL, {"i": {"id": running["id"]}})["cancelSimulation"]["userErrors"] == []
    again = gql(CANCEL, {"i": {"id": running["id"]}})["cancelSimulation"]
    assert _codes(again) == [("INVALID_INPUT", ["input", "id"])]
    assert "CANCELLED" in again["userErrors"][0]["message"]
    assert _kinds_of(app, running["id"]).count("SIMULATION_CANCELLED") == 1


# ingestExternalEvent: an idempotency key stands for one content


def test_an_idempotency_key_used_for_other_content_is_a_conflict(gql: GraphQL) -> None:
    plan_id = _create_plan(gql)["id"]
    first_task = _create_task(gql, plan_id, "Receive parts", durationDays=4)
    second_task = _create_task(gql, plan_id, "Assemble", durationDays=2)
    content = {
        "description": "Port congestion",
        "source": "erp",
        "delayDays": 5,
        "probability": 0.5,
        "payload": json.dumps({"supplier": "ACME", "containers": [1, 2]}),
        "affectedTaskIds": [first_task, second_task],
        "idempotencyKey": "erp-1",
    }
    first = _ingest(gql, plan_id, **content)
    assert first["userErrors"] == []
    stored = first["externalEvent"]

    # The same content, the tasks in another order and the payload's keys too: the stored event.
    replay = {
        **content,
        "affectedTaskIds": [second_task, first_task],
        "payload": json.dumps({"containers": [1, 2], "supplier": "ACME"}),
    }
    assert _ingest(gql, plan_id, **replay) == {"externalEvent": stored, "userErrors": []}

    for change in (
        {"title": "Parts very late"},
        {"severity": "LOW"},
        {"eventType": "strike"},
        {"description": None},
        {"source": "email"},
        {"delayDays": 6},
        {"probability": None},
        {"payload": json.dumps({"supplier": "ACME", "containers": [1, 2, 3]})},
        {"affectedTaskIds": [first_task]},
    ):
        conflict = _ingest(gql, plan_id, **{**content, **change})
        assert conflict["externalEvent"] is None, change
        assert _codes(conflict) == [("CONFLICT", ["input", "idempotencyKey"])], change

    # occurredAt counts only when sent: the first one's is its time of receipt.
    timed = {**content, "idempotencyKey": "erp-2", "occurredAt": "2025-02-05T10:30:00+01:00"}
    second = _ingest(gql, plan_id, **timed)["externalEvent"]
    assert _ingest(gql, plan_id, **{**timed, "occurredAt": "2025-02-05T09:30:00Z"})["externalEvent"] == second
    late = _ingest(gql, plan_id, **{**timed, "occurredAt": "2025-02-06T09:30:00Z"})
    assert _codes(late) == [("CONFLICT", ["input", "idempotencyKey"])]
    assert _ingest(gql, plan_id, **{**timed, "occurredAt": None})["externalEvent"] == second

    assert gql(PLAN_EVENTS, {"id": plan_id})["plan"]["externalEvents"]["totalCount"] == 2


def test_racing_ingests_of_one_key_store_one_event_and_conflict_on_other_content(app: Application) -> None:
    plan = app.services.plans.create(CreatePlan(name="Race"), ADMIN)
    titles = ["A", "B"] * 4
    barrier = threading.Barrier(len(titles))
    answers: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def ingest(title: str) -> None:
        cmd = IngestExternalEvent(plan.id, "feed", Severity.LOW, title, idempotency_key="same-key")
        barrier.wait()
        try:
            answer: Any = app.services.external_events.ingest(cmd, ADMIN)
        except DomainError as exc:
            answer = exc
        with lock:
            answers.append((title, answer))

    threads = [threading.Thread(target=ingest, args=(t,)) for t in titles]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == len(titles)
    with SqlUnitOfWork(app.engine) as uow:
        (stored,) = uow.external_events.for_plan(plan.id)
    for title, answer in answers:
        if title == stored.title:
            assert answer == stored
        else:
            assert isinstance(answer, DomainError)
            assert answer.code is ErrorCode.CONFLICT


def test_the_new_mutations_run_without_strawberry_on_appsync_shaped_input(app: Application) -> None:
    """AppSync sends raw arguments: an absent key leaves a field alone, null clears it."""
    from resolvers.registry import resolve

    ctx = app.context(Principal("lambda@example.com", frozenset({"planner"})))

    async def scenario() -> None:
        created = await resolve(
            ctx, "Mutation", "createPlan", None, {"input": {"name": "Raw", "eventDate": "2025-03-31"}}
        )
        plan_id = to_global_id("Plan", created.plan.id)
        kept = await resolve(ctx, "Mutation", "updatePlan", None, {"input": {"id": plan_id, "name": "Raw 2"}})
        assert kept.user_errors == []
        assert (kept.plan.name, kept.plan.event_date, kept.plan.version) == ("Raw 2", date(2025, 3, 31), 2)
        cleared = await resolve(ctx, "Mutation", "updatePlan", None, {"input": {"id": plan_id, "eventDate": None}})
        assert (cleared.plan.event_date, cleared.plan.version) == (None, 3)
        deleted = await resolve(ctx, "Mutation", "deletePlan", None, {"input": {"id": plan_id}})
        assert (deleted.deleted_plan_id, deleted.user_errors) == (plan_id, [])

    asyncio.run(scenario())
