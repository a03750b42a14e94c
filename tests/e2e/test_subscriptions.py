"""Live updates over real websockets: a uvicorn server (on a thread) and the `websockets` client.

Each store (SQLite, PostgreSQL) serves the subscriptions of the contract's
``subscriptions.graphql``; events come from the committed outbox, whoever committed them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from adapters.bootstrap import Application
from adapters.config import Settings
from resolvers.ids import raw_id, to_global_id
from tests.graphql_client import ADMIN_HEADERS, operation
from tests.live_client import PLAN_EVENTS, SIMULATION_PROGRESS, LiveClient, ThreadServer, open_websocket

PLANS = operation("plans.graphql")
EVENTS = operation("events.graphql")
SIMULATION = operation("simulation.graphql")
CONTRACT = operation("subscriptions.graphql")
ADD_MEMBER = """mutation($i: AddPlanMemberInput!) { addPlanMember(input: $i) { userErrors { code } } }"""
REMOVE_MEMBER = """mutation($i: RemovePlanMemberInput!) { removePlanMember(input: $i) { userErrors { code } } }"""


class Api:
    """GraphQL over HTTP to a running server, as one caller."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = dict(ADMIN_HEADERS) if headers is None else headers

    def __call__(self, document: str, variables: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"query": document, "variables": variables}
        if name:
            body["operationName"] = name
        response = httpx.post(f"{self.url}/graphql", json=body, headers=self.headers, timeout=60)
        assert response.status_code == 200, response.text
        result = response.json()
        assert not result.get("errors"), result["errors"]
        data: dict[str, Any] = result["data"]
        return data

    def plan(self, name: str) -> str:
        created = self(PLANS, {"input": {"name": name, "eventDate": "2025-03-31"}}, "CreatePlan")["createPlan"]
        return str(created["plan"]["id"])

    def task(self, plan_id: str, title: str, days: float = 3) -> str:
        created = self(PLANS, {"input": {"planId": plan_id, "title": title, "durationDays": days}}, "CreateTask")
        assert created["createTask"]["userErrors"] == []
        return str(created["createTask"]["task"]["id"])

    def rename(self, task_id: str, title: str) -> None:
        updated = self(PLANS, {"input": {"id": task_id, "title": title}}, "UpdateTask")["updateTask"]
        assert updated["userErrors"] == []


@pytest.fixture
def server(app: Application) -> Iterator[ThreadServer]:
    running = ThreadServer(app)
    yield running
    running.stop()


@pytest.fixture
def clients() -> Iterator[list[LiveClient]]:
    opened: list[LiveClient] = []
    yield opened
    for client in opened:
        client.close()


def _client(
    clients: list[LiveClient], url: str, payload: dict[str, Any], protocol: str = "graphql-transport-ws"
) -> LiveClient:
    client = LiveClient(url, payload, protocol)
    clients.append(client)
    return client


def test_subscribers_receive_their_plans_committed_changes_in_order_and_nothing_else(
    server: ThreadServer, clients: list[LiveClient]
) -> None:
    api = Api(server.url)
    plan_a, plan_b = api.plan("A"), api.plan("B")
    task = api.task(plan_a, "Receive parts")
    api(ADD_MEMBER, {"i": {"planId": plan_b, "userId": "bob@example.com", "role": "VIEWER"}})

    owner = _client(clients, server.url, ADMIN_HEADERS)
    on_a = owner.subscribe(CONTRACT, {"planId": plan_a}, "OnPlanEvent")
    # The legacy graphql-ws protocol, identity headers in the connection_init payload.
    bob = _client(
        clients, server.url, {"X-Planner-User": "bob@example.com", "X-Planner-Groups": "viewer"}, "graphql-ws"
    )
    on_b = bob.subscribe(PLAN_EVENTS, {"planId": plan_b})
    stranger = _client(clients, server.url, {"X-Planner-User": "eve@example.com", "X-Planner-Groups": "planner"})
    refused = stranger.receive_error(stranger.subscribe(PLAN_EVENTS, {"planId": plan_a}))
    missing = stranger.receive_error(stranger.subscribe(PLAN_EVENTS, {"planId": to_global_id("Plan", "nope")}))
    assert refused["message"] == missing["message"]
    assert refused["extensions"]["code"] == missing["extensions"]["code"] == "NOT_FOUND"
    # A subscription answers once it follows the outbox: a change now reaches it.
    api.rename(task, "Receive parts from ACME")
    updated = owner.next(on_a)["onPlanEvent"]
    assert updated["kind"] == "TASK_UPDATED"
    assert updated["planId"] == plan_a
    assert updated["entityId"] == task
    snapshot = json.loads(updated["data"])
    assert snapshot["id"] == task
    assert snapshot["planId"] == plan_a
    assert snapshot["title"] == "Receive parts from ACME"
    assert snapshot["version"] == 2

    ingested = api(
        EVENTS,
        {
            "input": {
                "planId": plan_a,
                "eventType": "supplier_delay",
                "severity": "HIGH",
                "title": "Supplier ships late",
                "occurredAt": "2025-02-05T10:30:00Z",
                "delayDays": 5,
                "affectedTaskIds": [task],
            }
        },
        "IngestExternalEvent",
    )["ingestExternalEvent"]
    received = owner.next(on_a)["onPlanEvent"]
    assert received["kind"] == "EXTERNAL_EVENT_RECEIVED"
    assert received["entityId"] == ingested["externalEvent"]["id"]
    assert json.loads(received["data"])["affectedTaskIds"] == [task]

    # Bob's first event is his plan's, though plan A's came first: he received none of those.
    api.task(plan_b, "Book the venue")
    first = bob.event(on_b)
    assert (first["kind"], first["planId"], first["data"]["title"]) == ("TASK_CREATED", plan_b, "Book the venue")
    assert first["position"] > 0
    # Neither did the stranger: its connection's next message is the end of the next operation.
    refused_again = stranger.receive_error(stranger.subscribe(PLAN_EVENTS, {"planId": plan_a}))
    assert refused_again["extensions"]["code"] == "NOT_FOUND"


def test_a_member_who_loses_access_stops_receiving(server: ThreadServer, clients: list[LiveClient]) -> None:
    api = Api(server.url)
    plan = api.plan("A")
    api(ADD_MEMBER, {"i": {"planId": plan, "userId": "bob@example.com", "role": "VIEWER"}})
    bob = _client(clients, server.url, {"X-Planner-User": "bob@example.com", "X-Planner-Groups": "viewer"})
    op = bob.subscribe(PLAN_EVENTS, {"planId": plan})
    api.task(plan, "Seen")
    assert bob.event(op)["kind"] == "TASK_CREATED"
    api(REMOVE_MEMBER, {"i": {"planId": plan, "userId": "bob@example.com"}})
    api.task(plan, "Not seen")
    assert bob.receive() == {"id": op, "type": "complete"}


def test_a_client_that_reconnects_with_its_last_position_receives_what_it_missed(
    server: ThreadServer, clients: list[LiveClient]
) -> None:
    api = Api(server.url)
    plan = api.plan("A")
    first = _client(clients, server.url, ADMIN_HEADERS)
    op = first.subscribe(PLAN_EVENTS, {"planId": plan})
    api.task(plan, "one")
    last = first.event(op)["position"]
    first.close()
    api.task(plan, "two")
    api.task(plan, "three")
    again = _client(clients, server.url, ADMIN_HEADERS)
    op = again.subscribe(PLAN_EVENTS, {"planId": plan, "after": last})
    missed = [again.event(op), again.event(op)]
    assert [e["data"]["title"] for e in missed] == ["two", "three"]
    api.task(plan, "four")
    assert again.event(op)["data"]["title"] == "four"


def test_a_stalled_client_does_not_delay_a_healthy_one(server: ThreadServer, clients: list[LiveClient]) -> None:
    api = Api(server.url)
    plan = api.plan("A")
    task = api.task(plan, "t")
    # A client that subscribes and then reads nothing more (its library buffers one frame).
    stalled = open_websocket(server.url, max_queue=1, close_timeout=1)
    stalled.send(json.dumps({"type": "connection_init", "payload": ADMIN_HEADERS}))
    assert json.loads(stalled.recv(timeout=30))["type"] == "connection_ack"
    stalled.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PLAN_EVENTS, "variables": {"planId": plan}}})
    )
    healthy = _client(clients, server.url, ADMIN_HEADERS)
    op = healthy.subscribe(PLAN_EVENTS, {"planId": plan})
    for n in range(15):
        api.rename(task, f"title {n}")
    titles = [healthy.event(op)["data"]["title"] for _ in range(15)]
    assert titles == [f"title {n}" for n in range(15)]
    stalled.close()


def test_simulation_progress_reports_every_tenth_and_ends_with_its_status(
    server: ThreadServer, clients: list[LiveClient]
) -> None:
    api = Api(server.url)
    plan = api.plan("A")
    for n in range(3):
        api.task(plan, f"t{n}", days=2 + n)
    watcher = _client(clients, server.url, ADMIN_HEADERS)
    on_plan = watcher.subscribe(PLAN_EVENTS, {"planId": plan})
    run = api(SIMULATION, {"input": {"planId": plan, "iterations": 40_000, "seed": 1}}, "RunSimulation")
    simulation = run["runSimulation"]["simulation"]["id"]
    on_run = watcher.subscribe(SIMULATION_PROGRESS, {"id": simulation})
    updates: list[dict[str, Any]] = []
    plan_events: list[str] = []
    while not updates or updates[-1]["status"] not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        message = watcher.receive()
        assert message["type"] == "next", message
        if message["id"] == on_run:
            updates.append(message["payload"]["data"]["onSimulationProgress"])
        else:
            plan_events.append(message["payload"]["data"]["onPlanEvent"]["kind"])
    assert watcher.receive() == {"id": on_run, "type": "complete"}
    assert updates[-1]["status"] == "SUCCEEDED"
    assert updates[-1]["progress"] == 1.0
    assert updates[-1]["completedIterations"] == 40_000
    assert {u["simulationId"] for u in updates} == {simulation}
    assert {u["planId"] for u in updates} == {plan}
    running = [u for u in updates if u["status"] == "RUNNING"]
    steps = [b["progress"] - a["progress"] for a, b in zip(running, running[1:] + updates[-1:], strict=True)]
    # At least every tenth (the engine reports per block of iterations), never a flood.
    assert 9 <= len(running) <= 12
    assert all(0 <= step <= 0.15 for step in steps), steps
    while "SIMULATION_COMPLETED" not in plan_events:
        plan_events.append(watcher.event(on_plan)["kind"])
    assert plan_events[0] == "SIMULATION_STARTED"
    assert "SIMULATION_PROGRESS" not in plan_events


def test_a_change_committed_by_another_process_reaches_subscribers(
    server: ThreadServer, clients: list[LiveClient], settings: Settings, tmp_path: Path
) -> None:
    api = Api(server.url)
    plan = api.plan("A")
    watcher = _client(clients, server.url, ADMIN_HEADERS)
    op = watcher.subscribe(PLAN_EVENTS, {"planId": plan})
    # Another process writes through the planning services, as an import or a sync worker does.
    script = (
        "import sys\n"
        "from adapters.bootstrap import bootstrap\n"
        "from adapters.config import Settings\n"
        "from planning.commands import CreateTask\n"
        "from planning.principal import Principal\n"
        "app = bootstrap(Settings(database_url=sys.argv[1], graph_url=sys.argv[2], data_dir=sys.argv[3]))\n"
        "app.services.tasks.create(CreateTask(plan_id=sys.argv[4], title='from elsewhere', duration_days=2),\n"
        "    Principal('cli', frozenset({'admin'})))\n"
        "app.close(finish_projection_s=10)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, settings.database_url, settings.graph_url, str(tmp_path), raw_id(plan, "Plan")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    created = watcher.event(op)
    assert (created["kind"], created["data"]["title"]) == ("TASK_CREATED", "from elsewhere")


def test_an_invalid_token_is_refused_at_connection_init(server: ThreadServer) -> None:
    ws = open_websocket(server.url)
    ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}}))
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=30)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


def test_a_development_token_in_the_payload_signs_in(
    server: ThreadServer, app: Application, clients: list[LiveClient]
) -> None:
    from adapters.identity import local_signer

    api = Api(server.url)
    plan = api.plan("A")
    token = local_signer(app.settings).issue("admin@example.com", ["admin"])
    for authorization in (token, f"Bearer {token}"):
        client = _client(clients, server.url, {"Authorization": authorization})
        op = client.subscribe(PLAN_EVENTS, {"planId": plan, "after": 0})
        assert client.event(op)["kind"] == "PLAN_CREATED"


def test_metrics_count_the_subscriptions_open(server: ThreadServer, clients: list[LiveClient]) -> None:
    api = Api(server.url)
    plan = api.plan("Counted")
    task = api.task(plan, "Watched")

    def open_now() -> float:
        text = httpx.get(f"{server.url}/metrics", timeout=30).text
        (line,) = [x for x in text.splitlines() if x.startswith("planner_subscriptions_open ")]
        return float(line.split()[1])

    watcher = _client(clients, server.url, ADMIN_HEADERS)
    on_plan = watcher.subscribe(PLAN_EVENTS, {"planId": plan})
    api.rename(task, "Watched closely")
    assert watcher.next(on_plan)["onPlanEvent"]["kind"] == "TASK_UPDATED"  # it follows the broker now
    assert open_now() == 1
    watcher.close()
    clients.remove(watcher)
    deadline = time.monotonic() + 20
    while open_now() != 0:
        assert time.monotonic() < deadline, "the closed subscription is still counted"
        time.sleep(0.05)


def test_a_page_on_an_allowed_origin_may_subscribe_and_another_may_not(server: ThreadServer) -> None:
    """Browsers do not preflight websockets: the CORS rule decides the handshake too."""
    allowed = open_websocket(server.url, origin="http://localhost:5173")
    try:
        allowed.send(json.dumps({"type": "connection_init", "payload": ADMIN_HEADERS}))
        assert json.loads(allowed.recv(timeout=30))["type"] == "connection_ack"
    finally:
        allowed.close()
    with pytest.raises(InvalidStatus) as refused:
        open_websocket(server.url, origin="https://elsewhere.example")
    assert refused.value.response.status_code == 403
