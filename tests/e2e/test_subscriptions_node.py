"""The npm `graphql-ws` client (what the frontend uses) against the local server.

``tests/e2e/node`` pins it (package.json, package-lock.json); ``npm ci`` installs it there when
it is missing. Node and npm are part of the development and CI machines.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.graphql_client import ADMIN_HEADERS, operation
from tests.live_client import ThreadServer

NODE_DIR = Path(__file__).parent / "node"
PLANS = operation("plans.graphql")


@pytest.fixture(scope="module")
def node_client() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node is not None, "Node 20 is needed (CI and development machines have it)"
    assert npm is not None, "npm is needed (CI and development machines have it)"
    if not (NODE_DIR / "node_modules" / "graphql-ws").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            check=False,
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert installed.returncode == 0, installed.stderr
    return NODE_DIR / "subscribe.mjs"


def _gql(url: str, variables: dict[str, object], name: str) -> dict[str, object]:
    body = {"query": PLANS, "variables": variables, "operationName": name}
    result = httpx.post(f"{url}/graphql", json=body, headers=ADMIN_HEADERS, timeout=60).json()
    assert not result.get("errors"), result
    data: dict[str, object] = result["data"]
    return data


def test_the_npm_graphql_ws_client_receives_a_plans_events(app, node_client: Path) -> None:
    server = ThreadServer(app)
    try:
        plan = _gql(server.url, {"input": {"name": "Node"}}, "CreatePlan")["createPlan"]["plan"]["id"]  # type: ignore[index]
        _gql(server.url, {"input": {"planId": plan, "title": "seen by node", "durationDays": 1}}, "CreateTask")
        ws_url = server.url.replace("http://", "ws://") + "/graphql"
        ran = subprocess.run(
            ["node", str(node_client), ws_url, str(plan), "3", json.dumps(ADMIN_HEADERS)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.stop()
    assert ran.returncode == 0, ran.stderr
    events = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [e["kind"] for e in events] == ["PLAN_CREATED", "MEMBER_ADDED", "TASK_CREATED"]
    assert json.loads(events[-1]["data"])["title"] == "seen by node"
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
