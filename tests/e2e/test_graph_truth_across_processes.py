"""Graph answers stay true across processes: a server killed mid-write, an import beside a server.

Real `planner serve` and `planner import` processes on one store and graph, as a user runs them.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
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

from tests.graphql_client import operation
from tests.integration.graph_reference import RefTask, finish_date, plan_document, reference_schedule

GRAPH = operation("graph.graphql")
PLANS = operation("plans.graphql")
PLANNER = [sys.executable, "-m", "adapters.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PLANNER_DATABASE_URL": database_url,
        "PLANNER_GRAPH_URL": f"gremlite:{tmp_path}/graph.db",
        "PLANNER_LOG_JSON": "1",
    }


class Server:
    """A `planner serve` process on a free port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [*PLANNER, "serve", "--port", str(self.port)], env=env, stdout=self._log, stderr=self._log
        )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

    def graphql(self, document: str, variables: dict[str, Any], name: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": document, "variables": variables, "operationName": name},
            # A development server trusts identity headers; a request without any is anonymous.
            headers={"X-Planner-User": "tester@example.com", "X-Planner-Groups": "admin"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def servers(env: dict[str, str], tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _planner(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PLANNER, *args], env=env, capture_output=True, text=True, timeout=600, check=False)


def _random_plan(count: int, edges_per_task: int, seed: int) -> tuple[list[RefTask], list[tuple[str, str, float]]]:
    rng = random.Random(seed)
    tasks = [RefTask(f"t{i:05d}", float(rng.randint(1, 10))) for i in range(count)]
    edges: set[tuple[str, str, float]] = set()
    seen: set[tuple[int, int]] = set()
    for succ in range(1, count):
        for _ in range(edges_per_task):
            pred = rng.randrange(max(0, succ - 50), succ)
            if (pred, succ) not in seen:
                seen.add((pred, succ))
                edges.add((tasks[pred].key, tasks[succ].key, float(rng.choice((0, 0, 1)))))
    return tasks, sorted(edges)


def _titles_by_id(server: Server, plan_id: str) -> dict[str, str]:
    titles: dict[str, str] = {}
    after = None
    while True:
        page = server.graphql(PLANS, {"planId": plan_id, "first": 500, "after": after}, "PlanTasks")
        tasks = page["data"]["plan"]["tasks"]
        titles.update((e["node"]["id"], e["node"]["title"]) for e in tasks["edges"])
        if not tasks["pageInfo"]["hasNextPage"]:
            return titles
        after = tasks["pageInfo"]["endCursor"]


def _assert_critical_path_is_the_oracles(
    server: Server, plan_id: str, tasks: list[RefTask], edges: list[tuple[str, str, float]]
) -> None:
    oracle = reference_schedule(tasks, edges)
    answer = server.graphql(GRAPH, {"planId": plan_id}, "CriticalPath")
    assert "errors" not in answer, answer
    path = answer["data"]["plan"]["criticalPath"]
    assert path["durationDays"] == pytest.approx(oracle.duration)
    assert path["finishDate"] == finish_date(oracle.duration).isoformat()
    titles = _titles_by_id(server, plan_id)
    keys = [titles[t["id"]] for t in path["tasks"]]
    assert keys, "an empty critical path"
    assert all(oracle.critical(k) for k in keys)
    assert oracle.ef[keys[-1]] == pytest.approx(oracle.duration)
    for pred, succ in itertools.pairwise(keys):
        assert oracle.ef[pred] + oracle.lag(pred, succ) == pytest.approx(oracle.es[succ])


def test_an_import_beside_a_running_server_shows_in_its_next_critical_path(
    env: dict[str, str], servers: list[Server], tmp_path: Path
) -> None:
    server = Server(env, tmp_path / "server.log")
    servers.append(server)
    tasks, edges = _random_plan(2000, 3, seed=7)
    document = tmp_path / "big.json"
    document.write_text(json.dumps(plan_document("Two thousand", tasks, edges)))
    imported = _planner(env, "import", str(document))
    assert imported.returncode == 0, imported.stderr
    plan_id = imported.stdout.strip().rsplit(" ", 1)[-1]
    # The very next request, from the server that was running all along.
    _assert_critical_path_is_the_oracles(server, plan_id, tasks, edges)


# serial: it bounds how long the backlog takes to project (10 s), so nothing else runs beside it.
@pytest.mark.serial
def test_after_a_kill_during_writes_the_next_server_projects_the_backlog_at_once(
    env: dict[str, str], servers: list[Server], tmp_path: Path
) -> None:
    tasks, edges = _random_plan(40, 2, seed=3)
    document = tmp_path / "plan.json"
    document.write_text(json.dumps(plan_document("Killed", tasks, edges)))
    imported = _planner(env, "import", str(document))
    assert imported.returncode == 0, imported.stderr
    plan_id = imported.stdout.strip().rsplit(" ", 1)[-1]

    first = Server(env, tmp_path / "first.log")
    servers.append(first)
    ids = {title: task_id for task_id, title in _titles_by_id(first, plan_id).items()}
    durations = {t.key: t.most_likely for t in tasks}
    written: list[tuple[str, float]] = []
    stop = threading.Event()

    def write_until_killed() -> None:
        rng = random.Random(11)
        while not stop.is_set():
            key = rng.choice(list(ids))
            days = float(rng.randint(1, 30))
            try:
                estimate = {"optimisticDays": days, "mostLikelyDays": days, "pessimisticDays": days}
                answer = first.graphql(PLANS, {"input": {"id": ids[key], "estimate": estimate}}, "UpdateTask")
            except httpx.HTTPError:
                return  # the server is gone
            if not answer["data"]["updateTask"]["userErrors"]:
                written.append((key, days))

    writer = threading.Thread(target=write_until_killed)
    writer.start()
    deadline = time.monotonic() + 60
    while len(written) < 25:
        assert writer.is_alive(), "the writer stopped before 25 writes went through"
        assert time.monotonic() < deadline, "writes did not go through"
        time.sleep(0.01)
    first.kill()  # in the middle of the stream of writes
    stop.set()
    writer.join(30)

    # What the store committed is the truth, whatever the graph saw before the kill.
    for key, days in written:
        durations[key] = days
    truth = [RefTask(t.key, durations[t.key]) for t in tasks]

    second = Server(env, tmp_path / "second.log")
    servers.append(second)
    began = time.monotonic()
    while True:
        check = _planner(env, "graph", "check")
        if check.returncode == 0 and " 0 outbox events not yet projected" in check.stdout:
            break
        assert time.monotonic() - began < 10, check.stdout + check.stderr
        time.sleep(0.2)
    _assert_critical_path_is_the_oracles(second, plan_id, truth, edges)
