"""`make probe`: the requests of issue 8 and graphql-cop's probes against a local `planner serve`,
with what each answered and how long the server took (its own request log); then the worst
documents the bounds admit, timed through parsing and validation; then /healthz while eight
clients send the slowest of them. Reports; asserts nothing (tests/e2e/test_probes.py checks the
answers, never the times).

    .venv/bin/python -m bench.probe [--tasks 800] [--repeat 5] [--seconds 5]

The server runs on a temporary SQLite database, or on ``PLANNER_PROBE_DATABASE_URL`` (an empty
database), with a plan of ``--tasks`` tasks imported first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from graphql import get_introspection_query, specified_rules
from strawberry.extensions import MaxAliasesLimiter

from schema.cost import CostModel
from schema.limits import SchemaLimits, measure, prepare
from schema.root import build_schema

REPO = Path(__file__).resolve().parents[1]
HEADERS = {"X-Planner-User": "probe@example.com", "X-Planner-Groups": "admin"}
TARGET_MS = 100.0
LONE = chr(0xD800)


def plan_document(tasks: int) -> dict[str, Any]:
    """``tasks`` tasks, each after one to three of the twenty before it."""
    rng = random.Random(8)
    dependencies = []
    for i in range(1, tasks):
        for before in {rng.randrange(max(0, i - 20), i) for _ in range(rng.randint(1, 3))}:
            dependencies.append({"predecessor": f"t{before}", "successor": f"t{i}"})
    return {
        "name": "Probed",
        "tasks": [{"key": f"t{i}", "title": f"Task {i}", "durationDays": 1 + i % 5} for i in range(tasks)],
        "dependencies": dependencies,
    }


def probes(plan: str, task: str) -> list[tuple[str, str, dict[str, Any] | list[Any] | str, str]]:
    """(name, method, body, content type): what issue 8 lists under "Why", and graphql-cop sends."""
    costly = (
        'a{i}: plan(id: "PLAN_ID") { tasks(first: 500) { edges { node { riskScore slackDays upstream { id } '
        "downstream { id } dependsOn { id } dependents { id } } } } }"
    ).replace("PLAN_ID", plan)
    ingest = (
        "mutation($input: IngestExternalEventInput!) { ingestExternalEvent(input: $input) { "
        "externalEvent { id } userErrors { code field } } }"
    )
    event = {"planId": plan, "eventType": "probe", "severity": "LOW", "title": "Probe"}
    filtered = 'query($f: TaskFilter) { plan(id: "PLAN_ID") { tasks(filter: $f) { totalCount } } }'.replace(
        "PLAN_ID", plan
    )
    deep_list: Any = "a"
    for _ in range(700):
        deep_list = [deep_list]

    def q(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"query": query, "variables": variables or {}}

    return [
        ("990 x plans { totalCount } (20 KB)", "POST", q("{" + " plans { totalCount }" * 990 + "}"), "json"),
        (
            "500 x criticalPath { durationDays }",
            "POST",
            q(f'{{ plan(id: "{plan}") {{' + " criticalPath { durationDays }" * 500 + " } }"),
            "json",
        ),
        (
            "30 aliases of a plan's graph (cost)",
            "POST",
            q("{ " + " ".join(costly.replace("{i}", str(i)) for i in range(30)) + " }"),
            "json",
        ),
        (
            "10 aliases of a plan's graph (cost)",
            "POST",
            q("{ " + " ".join(costly.replace("{i}", str(i)) for i in range(10)) + " }"),
            "json",
        ),
        ("AWSJSON nested 950 deep", "POST", q(ingest, {"input": {**event, "payload": "[" * 950 + "]" * 950}}), "json"),
        (
            "lists nested 700 deep in variables",
            "POST",
            q(
                "mutation($input: UpdateTaskInput!) { updateTask(input: $input) { task { id } } }",
                {"input": {"id": task, "assignees": deep_list}},
            ),
            "json",
        ),
        (
            "lone surrogate in idempotencyKey",
            "POST",
            q(ingest, {"input": {**event, "idempotencyKey": "k" + LONE}}),
            "json",
        ),
        (
            "lone surrogate in titleContains",
            "POST",
            q(
                filtered,
                {"f": {"titleContains": LONE}},
            ),
            "json",
        ),
        (
            "NUL in assignee filter",
            "POST",
            q(
                filtered,
                {"f": {"assignee": "a\x00"}},
            ),
            "json",
        ),
        (
            "101 aliases (graphql-cop)",
            "POST",
            q("query cop { " + " ".join(f"alias{i}:__typename" for i in range(101)) + " }"),
            "json",
        ),
        ("batch of 10 (graphql-cop)", "POST", [q("query cop { __typename }")] * 10, "json"),
        ("500 x __typename (graphql-cop)", "POST", q("query cop { " + "__typename " * 500 + "}"), "json"),
        ("directive overloading (graphql-cop)", "POST", q("query cop { __typename " + "@aa" * 10 + " }"), "json"),
        (
            "circular fragments",
            "POST",
            q("query cop { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"),
            "json",
        ),
        (
            "circular introspection (graphql-cop)",
            "POST",
            q("query cop { __schema { types { fields { type { fields { type { fields { name } } } } } } } }"),
            "json",
        ),
        (
            "deep nesting (dependsOn x 20)",
            "POST",
            q(
                f'{{ plan(id: "{plan}") {{ tasks {{ edges {{ node {{ '
                + "dependsOn { " * 20
                + "id"
                + " }" * 20
                + " } } } } }"
            ),
            "json",
        ),
        ("10,000 tokens", "POST", q("query cop { plans { " + "totalCount " * 10_000 + "} }"), "json"),
        (
            "mutation over GET (graphql-cop)",
            "GET",
            'mutation cop { createPlan(input: {name: "CSRF"}) { plan { id } } }',
            "query",
        ),
        (
            "form-encoded mutation (graphql-cop)",
            "POST",
            "query=mutation%20%7B%20__typename%20%7D",
            "application/x-www-form-urlencoded",
        ),
        ("unhandled error detection (graphql-cop)", "POST", q("query cop { __typename {}"), "json"),
        ("(reference) GraphiQL's introspection", "POST", q(get_introspection_query(descriptions=True)), "json"),
        (
            "(reference) PlanTasks(first: 100)",
            "POST",
            q(
                f'{{ plan(id: "{plan}") {{ tasks(first: 100) {{ totalCount edges {{ node {{ id title status '
                "dependsOn { id } } } } } }"
            ),
            "json",
        ),
    ]


def outcome(status: int, body: str) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        return f"HTTP {status}"
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if errors:
        code = (errors[0].get("extensions") or {}).get("code") or "-"
        return f"HTTP {status} {code}: {errors[0]['message'][:70]}"
    data = answer.get("data") or {}
    for payload in data.values():
        if isinstance(payload, dict) and payload.get("userErrors"):
            first = payload["userErrors"][0]
            return f"HTTP {status} userError {first['code']} {first['field']}"
    return f"HTTP {status} answered, cost {answer.get('extensions', {}).get('cost')}"


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


class Server:
    """A `planner serve` of its own, and the durations its request log gives each request id."""

    def __init__(self, folder: str, database_url: str, tasks: int) -> None:
        document = Path(folder) / "plan.json"
        document.write_text(json.dumps(plan_document(tasks)), encoding="utf-8")
        self.env = {
            **os.environ,
            "PLANNER_DATABASE_URL": database_url,
            "PLANNER_GRAPH_URL": f"gremlite:{folder}/graph.db",
            "PLANNER_DATA_DIR": folder,
            "PLANNER_LOG_JSON": "1",
        }
        subprocess.run(
            [sys.executable, "-m", "adapters.cli", "import", str(document)],
            env=self.env,
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        self.log_path = Path(folder) / "server.log"
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "adapters.cli", "serve", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log, cwd=REPO)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"probe: the server stopped:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("probe: the server did not start within 90 s")
            time.sleep(0.2)

    def durations(self) -> dict[str, float]:
        """Request id → the server's duration_ms, from its JSON request log."""
        found: dict[str, float] = {}
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("event") == "request" and "request_id" in entry:
                found[entry["request_id"]] = float(entry["duration_ms"])
        return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worst_documents() -> dict[str, str]:
    """Valid documents at the edge of the bounds, made to be slow to validate."""
    limits = SchemaLimits()
    r, f = limits.max_repeats, limits.max_fragments
    inner = " ".join(["dependsOn { id title }"] * r)
    nested = " ".join([f"tasks {{ edges {{ node {{ {inner} }} }} }}"] * r)
    fragments = " ".join(
        f"fragment H{i} on Plan {{ criticalPath {{ durationDays tasks {{ id title }} }} tasks {{ totalCount }} }}"
        for i in range(f)
    )
    spreads = " ".join(f"...H{i}" for i in range(f))
    return {
        f"{r} x {r} repeated lists": f'{{ plan(id: "x") {{ {nested} }} }}',
        f"{f} fragments under {r} repeats": "{ " + " ".join([f'plan(id: "x") {{ {spreads} }}'] * r) + " } " + fragments,
        "300 fields": '{ plan(id: "x") { tasks { edges { node { '
        + " ".join(f"f{i}: title" for i in range(29))
        + " "
        + " ".join(
            ["id status percentComplete startDate dueDate durationDays assignees version createdAt updatedAt"] * 5
        )
        + " } } } } }",
        "GraphiQL's introspection": get_introspection_query(descriptions=True),
    }


def report_probes(client: httpx.Client, server: Server, plan_id: str, repeat: int) -> None:
    first_task = client.post(
        "/graphql",
        json={"query": f'{{ plan(id: "{plan_id}") {{ tasks(first: 1) {{ edges {{ node {{ id }} }} }} }} }}'},
    ).json()["data"]["plan"]["tasks"]["edges"][0]["node"]["id"]
    sent: list[tuple[str, list[str], httpx.Response]] = []
    for name, method, body, kind in probes(plan_id, first_task):
        ids: list[str] = []
        response: httpx.Response | None = None
        for _ in range(repeat):
            if method == "GET":
                response = client.get("/graphql", params={"query": body})
            elif kind == "json":
                raw = json.dumps(body).encode()
                response = client.post("/graphql", content=raw, headers={"content-type": "application/json"})
            else:
                response = client.post("/graphql", content=str(body), headers={"content-type": kind})
            ids.append(response.headers.get("x-request-id", ""))
        assert response is not None
        sent.append((name, ids, response))
    time.sleep(0.5)  # the log line of the last request
    durations = server.durations()
    print(f"{'probe':42} {'server ms':>9}  answer (target: each within {TARGET_MS:.0f} ms of server time)")
    slow = 0
    for name, ids, response in sent:
        times = [durations[i] for i in ids if i in durations]
        ms = statistics.median(times) if times else float("nan")
        over = ms > TARGET_MS and not name.startswith("(reference)")
        slow += over
        flag = "  <-- over target" if over else ""
        print(f"{name:42} {ms:9.1f}  {outcome(response.status_code, response.text)}{flag}")
    print(f"\n{slow} probe(s) over {TARGET_MS:.0f} ms (reference rows are answered documents, not probes)\n")


def report_validation(repeat: int) -> None:
    schema: Any = build_schema()
    limits = SchemaLimits()
    rules = (*specified_rules, *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules)
    print(f"{'admitted document (parse, bounds, cost, validation)':52} {'ms':>8} fields expanded  cost")
    for name, query in worst_documents().items():
        ms, prepared = timed(
            lambda query=query: prepare(
                schema._schema,
                query,
                parse_options={"max_tokens": limits.max_tokens},
                variables={},
                operation_name=None,
                rules=rules,
                limits=limits,
                model=CostModel(),
            ),
            repeat,
        )
        shape = measure(prepared.document)
        refused = [e.message[:40] for e in prepared.errors if (e.extensions or {}).get("code")]
        note = f"  REFUSED {refused}" if refused else ""
        print(f"{name:52} {ms:8.1f} {shape.fields:6} {shape.expanded_fields:8} {prepared.cost}{note}")
    print("(these run in the graphql-prepare threads, never on the event loop)\n")


def report_health_under_load(server: Server, seconds: float) -> None:
    limits = SchemaLimits()
    slowest = worst_documents()[f"{limits.max_fragments} fragments under {limits.max_repeats} repeats"]
    body = json.dumps({"query": slowest}).encode()
    health: list[float] = []
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def costly() -> None:
        with httpx.Client(base_url=server.base, headers=HEADERS, timeout=30) as client:
            while not stop.is_set():
                answer = client.post("/graphql", content=body, headers={"content-type": "application/json"})
                statuses[answer.status_code] += 1
                if answer.status_code == 503:
                    time.sleep(float(answer.headers.get("retry-after", "1")) / 10)

    workers = [threading.Thread(target=costly) for _ in range(8)]
    for worker in workers:
        worker.start()
    with httpx.Client(base_url=server.base, timeout=30) as probe:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ms, _ = timed(lambda: probe.get("/healthz"), 1)
            health.append(ms)
            time.sleep(0.05)
    stop.set()
    for worker in workers:
        worker.join()
    health.sort()
    print(
        f"/healthz while 8 clients send the slowest admitted document for {seconds:.0f} s "
        f"(answers {dict(statuses)}): {len(health)} probes, p50 {statistics.median(health):.1f} ms, "
        f"p99 {health[max(0, int(len(health) * 0.99) - 1)]:.1f} ms, max {health[-1]:.1f} ms (client side)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=800)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="planner-probe-") as folder:
        url = os.environ.get("PLANNER_PROBE_DATABASE_URL", f"sqlite:///{folder}/planner.db")
        server = Server(folder, url, args.tasks)
        try:
            print(
                f"server pid {server.process.pid} on {server.base}; a plan of {args.tasks} tasks; "
                f"median of {args.repeat} runs each\n"
            )
            with httpx.Client(base_url=server.base, headers=HEADERS, timeout=60) as client:
                plans = client.post("/graphql", json={"query": "{ plans { edges { node { id } } } }"}).json()
                plan_id = plans["data"]["plans"]["edges"][0]["node"]["id"]
                client.post(
                    "/graphql", json={"query": f'{{ plan(id: "{plan_id}") {{ criticalPath {{ durationDays }} }} }}'}
                )
                report_probes(client, server, plan_id, args.repeat)
            report_validation(args.repeat)
            report_health_under_load(server, args.seconds)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
