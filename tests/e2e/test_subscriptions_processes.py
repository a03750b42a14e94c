"""Live updates across real processes: two `planner serve` on one PostgreSQL database, and the
`planner subscribe` command-line client."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _empty_postgres
from tests.e2e.test_graph_truth_across_processes import PLANNER, Server
from tests.graphql_client import operation
from tests.live_client import PLAN_EVENTS, LiveClient

PLANS = operation("plans.graphql")


@pytest.fixture
def postgres_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    yield {
        **os.environ,
        "PLANNER_DATABASE_URL": url,
        "PLANNER_GRAPH_URL": f"gremlite:{tmp_path}/graph.db",
        "PLANNER_DATA_DIR": str(tmp_path),
        "PLANNER_LOG_JSON": "1",
    }
    _empty_postgres(url)


@pytest.fixture
def two_servers(postgres_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    first = Server(postgres_env, tmp_path / "first.log")
    try:
        second = Server(postgres_env, tmp_path / "second.log")
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


def _data(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("errors"), result["errors"]
    data: dict[str, Any] = result["data"]
    return data


def test_a_change_through_one_server_reaches_a_subscriber_of_the_other(two_servers: tuple[Server, Server]) -> None:
    first, second = two_servers
    plan = _data(first.graphql(PLANS, {"input": {"name": "Shared"}}, "CreatePlan"))["createPlan"]["plan"]["id"]
    watcher = LiveClient(second.url, {"X-Planner-User": "tester@example.com", "X-Planner-Groups": "admin"})
    try:
        op = watcher.subscribe(PLAN_EVENTS, {"planId": plan})
        created = _data(first.graphql(PLANS, {"input": {"planId": plan, "title": "via the first"}}, "CreateTask"))
        event = watcher.event(op)
        assert event["kind"] == "TASK_CREATED"
        assert event["entityId"] == created["createTask"]["task"]["id"]
        assert event["data"]["title"] == "via the first"
    finally:
        watcher.close()


def test_planner_subscribe_prints_a_plans_events_as_json_lines_or_says_why_not(
    two_servers: tuple[Server, Server],
) -> None:
    first, second = two_servers
    plan = _data(first.graphql(PLANS, {"input": {"name": "Followed"}}, "CreatePlan"))["createPlan"]["plan"]["id"]
    who = ["--url", second.url, "--user", "tester@example.com", "--groups", "admin"]
    client = subprocess.Popen(
        [*PLANNER, "subscribe", plan, *who, "--after", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        first_line = json.loads(client.stdout.readline())
        assert (first_line["kind"], first_line["planId"]) == ("PLAN_CREATED", plan)
        _data(first.graphql(PLANS, {"input": {"planId": plan, "title": "printed"}}, "CreateTask"))
        seen = [json.loads(client.stdout.readline())]
        while seen[-1]["kind"] != "TASK_CREATED":
            seen.append(json.loads(client.stdout.readline()))
        assert json.loads(seen[-1]["data"])["title"] == "printed"
    finally:
        client.terminate()
        client.wait(30)

    # A plan the caller may not read: a one-line reason and status 1.
    refused = subprocess.run(
        [*PLANNER, "subscribe", plan, "--url", second.url, "--user", "eve@example.com"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    assert "no plan has the id" in refused.stderr
