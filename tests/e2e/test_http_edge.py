"""The HTTP edge: what a request may be (size, encoding, nesting), load shedding, the probes, and
`planner serve --workers`.

Refusals are JSON (``{"errors": [{"message", "extensions": {"code"}}]}``) with a short message
that quotes at most about 100 characters of what was sent; nothing here answers 500.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import Application, bootstrap
from adapters.config import Settings
from planning.ports import DependencyGraph
from tests.graph_doubles import SwitchableGraph
from tests.graphql_client import ADMIN_HEADERS, GraphQL

PLANS = "{ plans { totalCount } }"
LIMIT = 1 << 20
ECHO = 100


def _refusal(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == code
    message: str = error["message"]
    assert len(message) < 300, message
    return message


def _longest_run(text: str, char: str) -> int:
    return max((len(run) for run in re.findall(f"{re.escape(char)}+", text)), default=0)


def _still_serving(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    answer = client.post("/graphql", json={"query": PLANS}).json()
    assert isinstance(answer["data"]["plans"]["totalCount"], int), answer


# The body -------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_413_and_the_server_stays_healthy(client: TestClient) -> None:
    filler = "x" * LIMIT
    huge = json.dumps({"query": "query($v: String) { plans { totalCount } }", "variables": {"v": filler}})
    declared = client.post("/graphql", content=huge, headers={"content-type": "application/json"})
    message = _refusal(declared, 413, "PAYLOAD_TOO_LARGE")
    assert str(LIMIT) in message
    assert _longest_run(message, "x") == 0

    # Without a Content-Length (chunked), the body is counted as it arrives.
    def chunks() -> Iterator[bytes]:
        data = huge.encode()
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    streamed = client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    _refusal(streamed, 413, "PAYLOAD_TOO_LARGE")
    _still_serving(client)


def test_a_body_just_under_the_limit_is_read(client: TestClient) -> None:
    envelope = json.dumps({"query": PLANS, "variables": {"pad": ""}})
    body = json.dumps({"query": PLANS, "variables": {"pad": "y" * (LIMIT - len(envelope))}})
    assert len(body.encode()) == LIMIT
    answer = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200
    assert isinstance(answer.json()["data"]["plans"]["totalCount"], int)


def test_the_body_limit_is_a_setting(settings: Settings) -> None:
    app = bootstrap(dataclasses.replace(settings, max_body_bytes=2048))
    try:
        with TestClient(create_asgi_app(app), headers=ADMIN_HEADERS) as client:
            over = client.post("/graphql", json={"query": PLANS, "variables": {"v": "z" * 2100}})
            assert "2048 bytes" in _refusal(over, 413, "PAYLOAD_TOO_LARGE")
            _still_serving(client)
    finally:
        app.close()


def test_a_content_length_that_is_not_a_number_is_a_bad_request(client: TestClient) -> None:
    for declared in (b"1e9" + b"9" * 500, "\u00b2".encode("latin-1")):
        response = client.post(
            "/graphql", content=b"{}", headers={"content-type": "application/json", "content-length": declared}
        )
        message = _refusal(response, 400, "BAD_REQUEST")
        assert _longest_run(message, "9") <= 20
    huge = client.post(
        "/graphql", content=b"{}", headers={"content-type": "application/json", "content-length": "9" * 5000}
    )
    _refusal(huge, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ plans { totalCount } }", "variables": {"v": "\xc3\x28"}}',  # a broken 2-byte sequence
        b'{"query": "{ plans { totalCount } }", "variables": {"v": "\xed\xa0\x80"}}',  # an encoded surrogate
        b"\xff\xfe{\x00}\x00",  # UTF-16
        b'{"query": "' + b"\x80" * 5000 + b'"}',
    ],
    ids=["broken-sequence", "encoded-surrogate", "utf-16", "long-garbage"],
)
def test_a_body_that_is_not_utf8_is_a_bad_request(client: TestClient, body: bytes) -> None:
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert "UTF-8" in _refusal(response, 400, "BAD_REQUEST")
    _still_serving(client)


def test_json_nested_5000_deep_is_a_bad_request(client: TestClient) -> None:
    deep = "[" * 5000 + "]" * 5000
    for body in (
        deep,
        '{"query": "{ plans { totalCount } }", "variables": {"v": ' + deep + "}}",
        '{"query": "{ plans { totalCount } }", "variables": {"v": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}}",
        # Deep enough to pass Python's own parser, deeper than the edge allows.
        '{"query": "{ plans { totalCount } }", "variables": {"v": ' + "[" * 200 + "]" * 200 + "}}",
    ):
        response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert "nested deeper than" in _refusal(response, 400, "BAD_REQUEST")
    as_get = client.get("/graphql", params={"query": PLANS, "variables": '{"v": ' + deep + "}"})
    assert "nested deeper than" in _refusal(as_get, 400, "BAD_REQUEST")
    _still_serving(client)


def test_variables_nested_a_little_are_accepted(client: TestClient) -> None:
    nested: Any = "leaf"
    for _ in range(30):
        nested = [nested]
    answer = client.post("/graphql", json={"query": PLANS, "variables": {"unused": nested}})
    assert answer.status_code == 200
    assert isinstance(answer.json()["data"]["plans"]["totalCount"], int)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"null", "JSON object"),
        (b"42", "JSON object"),
        (b'"' + b"q" * 5000 + b'"', "JSON object"),
        (b'{"query": "{ plans { totalCount } }", "variables": {"v": NaN}}', "NaN"),
        (b'{"query": "{ plans { totalCount } }", "variables": {"v": ' + b"9" * 5000 + b"}}", "digits"),
        (b'{"query": "' + b"q" * 5000, "not valid JSON"),
        (b"", "not valid JSON"),
    ],
    ids=["null", "number", "string", "nan", "huge-integer", "unterminated", "empty"],
)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(client: TestClient, body: bytes, says: str) -> None:
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    message = _refusal(response, 400, "BAD_REQUEST")
    assert says in message
    assert _longest_run(message, "q") <= ECHO
    assert _longest_run(message, "9") <= ECHO


def test_no_refusal_quotes_more_than_100_characters_of_what_was_sent(client: TestClient) -> None:
    """A huge operation name, a huge broken document and a huge variable of the wrong type, each
    well under the body limit: whatever answers, no message quotes more than ~100 of its characters."""
    filler = "w" * 500_000
    requests: list[dict[str, Any]] = [
        {"query": PLANS, "operationName": filler},
        {"query": "{ plans { totalCount } " + filler},
        {"query": PLANS, "operationName": {"name": filler}},
        {"query": "query($n: Int) { plans(first: $n) { totalCount } }", "variables": {"n": filler}},
        {
            "query": "mutation($name: String!) { createPlan(input: {name: $name}) { userErrors { message } } }",
            "variables": {"name": filler},
        },
    ]
    for body in requests:
        response = client.post("/graphql", json=body)
        assert response.status_code < 500, response.text[:300]
        assert len(response.content) < 5000, response.text[:300]
        assert _longest_run(response.text, "w") <= ECHO, response.text[:600]
    _still_serving(client)


def test_the_views_own_refusals_are_json_too(client: TestClient) -> None:
    wrong_type = client.post("/graphql", content="query=x", headers={"content-type": "text/plain"})
    _refusal(wrong_type, 400, "BAD_REQUEST")
    batch = client.post("/graphql", json=[{"query": PLANS}, {"query": PLANS}])
    assert "Batching" in _refusal(batch, 400, "BAD_REQUEST")
    mutation = 'mutation { createPlan(input: {name: "G"}) { plan { id } } }'
    mutation_by_get = client.get("/graphql", params={"query": mutation})
    assert "mutations" in _refusal(mutation_by_get, 400, "BAD_REQUEST")


# Load shedding and the probes -----------------------------------------------------------------


@pytest.fixture
def held(settings: Settings) -> Iterator[tuple[Application, SwitchableGraph]]:
    """A server process that admits one request at a time, on a graph whose reads a test can hold."""
    doubles: list[SwitchableGraph] = []

    def wrap(real: DependencyGraph) -> SwitchableGraph:
        doubles.append(SwitchableGraph(real))
        return doubles[-1]

    application = bootstrap(dataclasses.replace(settings, max_in_flight=1), wrap_graph=wrap)
    (double,) = doubles
    try:
        yield application, double
    finally:
        if double.gate is not None:
            double.gate.set()
        double.down = False
        application.close()


CRITICAL_PATH = "query($id: ID!) { plan(id: $id) { criticalPath { durationDays tasks { title } } } }"


def _plan_with_tasks(gql: GraphQL) -> str:
    created = gql('mutation { createPlan(input: {name: "Edge"}) { plan { id } userErrors { message } } }')
    plan_id: str = created["createPlan"]["plan"]["id"]
    previous: list[str] = []
    for title in ("design", "build"):
        made = gql(
            "mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } userErrors { message } } }",
            {"input": {"planId": plan_id, "title": title, "durationDays": 2, "dependsOn": previous}},
        )
        previous = [made["createTask"]["task"]["id"]]
    return plan_id


def test_past_the_in_flight_bound_the_server_answers_503_with_retry_after_at_once(
    held: tuple[Application, SwitchableGraph],
) -> None:
    app, double = held
    with TestClient(create_asgi_app(app), raise_server_exceptions=False, headers=ADMIN_HEADERS) as client:
        gql = GraphQL(client)
        plan_id = _plan_with_tasks(gql)
        assert gql(CRITICAL_PATH, {"id": plan_id})["plan"]["criticalPath"]["durationDays"] == 4.0
        assert client.get("/readyz").json()["graph"] == "up"
        # A change, so that the next critical path is read from the graph, not remembered.
        gql(
            "mutation($input: CreateTaskInput!) { createTask(input: $input) { userErrors { message } } }",
            {"input": {"planId": plan_id, "title": "test", "durationDays": 1}},
        )

        # One request is inside, waiting for the graph.
        double.gate_calls = frozenset({"plan_graph"})
        double.gate = threading.Event()
        answers: list[httpx.Response] = []
        inside = threading.Thread(
            target=lambda: answers.append(
                client.post("/graphql", json={"query": CRITICAL_PATH, "variables": {"id": plan_id}})
            )
        )
        inside.start()
        assert double.entered.wait(30), "the first request never reached the graph"

        refused = client.post("/graphql", json={"query": PLANS}, headers={"Origin": "http://localhost:5173"})
        message = _refusal(refused, 503, "UNAVAILABLE")
        assert "busy" in message
        # A browser app on another origin may read why (CORS headers on the refusal too).
        assert refused.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 503

        # The probes are not counted, and answer while the graph holds the request: the graph,
        # which answered a moment ago, is up or slow (busy), and the process stays ready.
        assert client.get("/healthz").json() == {"status": "ok", "database": "up"}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["store"] == "up"
        assert body["graph"] in ("up", "slow")
        assert body["load"] == {"inFlight": 1, "maxInFlight": 1, "refused": 2}
        assert inside.is_alive()

        double.gate.set()
        inside.join(30)
        (first,) = answers
        assert first.status_code == 200
        assert first.json()["data"]["plan"]["criticalPath"]["durationDays"] == 4.0
        # The slot is free again.
        assert isinstance(gql(PLANS)["plans"]["totalCount"], int)
        assert client.get("/readyz").json()["load"]["inFlight"] == 0


def _readyz_until(client: TestClient, status: int) -> dict[str, Any]:
    """/readyz answers from checks up to a second old: ask until it says ``status`` (at most 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        response = client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.1)


def test_readyz_reports_the_store_the_graph_and_the_projection(client: TestClient, app: Application) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert (body["store"], body["graph"]) == ("up", "up")
    assert body["pid"] == os.getpid()
    assert body["projection"] == {"pending": 0, "breakerOpen": False}
    assert body["load"] == {"inFlight": 0, "maxInFlight": app.settings.max_in_flight, "refused": 0}


def test_readyz_answers_503_while_the_graph_is_down(held: tuple[Application, SwitchableGraph]) -> None:
    app, double = held
    with TestClient(create_asgi_app(app), raise_server_exceptions=False, headers=ADMIN_HEADERS) as client:
        assert client.get("/readyz").status_code == 200
        double.down = True
        body = _readyz_until(client, 503)
        assert (body["status"], body["store"], body["graph"]) == ("unavailable", "up", "down")
        # Alive all the same: the store answers.
        assert client.get("/healthz").status_code == 200
        double.down = False
        assert _readyz_until(client, 200)["graph"] == "up"


def test_readyz_answers_503_when_the_graph_hangs_and_never_answered(
    held: tuple[Application, SwitchableGraph],
) -> None:
    app, double = held
    double.gate_calls = frozenset({"plan_graph"})
    double.gate = threading.Event()
    with TestClient(create_asgi_app(app), raise_server_exceptions=False, headers=ADMIN_HEADERS) as client:
        hung = client.get("/readyz")
        assert hung.status_code == 503
        assert (hung.json()["store"], hung.json()["graph"]) == ("up", "timeout")
        assert client.get("/healthz").status_code == 200
        double.gate.set()
        assert _readyz_until(client, 200)["graph"] == "up"


def test_the_edge_settings_are_read_and_checked() -> None:
    default = Settings.from_env({})
    assert default.max_body_bytes == LIMIT
    assert default.max_in_flight >= 1
    read = Settings.from_env({"PLANNER_MAX_BODY_BYTES": "65536", "PLANNER_MAX_IN_FLIGHT": "3"})
    assert (read.max_body_bytes, read.max_in_flight) == (65536, 3)
    for name, value in (
        ("PLANNER_MAX_IN_FLIGHT", "0"),
        ("PLANNER_MAX_IN_FLIGHT", "many"),
        ("PLANNER_MAX_BODY_BYTES", "12"),
    ):
        with pytest.raises(ValueError, match=name):
            Settings.from_env({name: value})


# planner serve --workers ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_workers_runs_processes_on_postgresql_and_one_on_sqlite(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PLANNER_DATABASE_URL": database_url,
        "PLANNER_GRAPH_URL": f"gremlite:{tmp_path}/graph.db",
        "PLANNER_DATA_DIR": str(tmp_path),
        "PLANNER_LOG_JSON": "1",
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
        )
    pids: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while len(pids) < 2 and time.monotonic() < deadline:
            assert server.poll() is None, log_path.read_text()[-3000:]
            try:
                # A new connection each time, so that either process may accept it.
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            if response.status_code == 200:
                pids.add(response.json()["pid"])
                if database_url.startswith("sqlite") and len(pids) == 1:
                    # Ask a while longer: a second process would show up.
                    for _ in range(40):
                        pids.add(httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()["pid"])
                    break
            else:
                time.sleep(0.1)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    output = log_path.read_text()
    if database_url.startswith("sqlite"):
        assert pids == {server.pid}, output[-3000:]
        assert "--workers needs PostgreSQL" in output
        assert "one process write at a time" in output
    else:
        assert len(pids) == 2, output[-3000:]
        assert server.pid not in pids
        assert "serving from 2 processes" in output
