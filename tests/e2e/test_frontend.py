"""The local server as a frontend team uses it, through a real server, Node and headless Chromium:
the npm ``graphql-http`` audit, a browser app on another origin, GraphiQL offline, and ``/metrics``.

Node (20+, with npm) and Chromium (the Debian package, installed by ``make test`` through
scripts/ensure-chromium.sh) are required: where one is missing these tests fail and say what to
install, they do not skip. One server serves the whole module, so the browser starts once.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
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

from tests.graphql_client import OPERATIONS

NODE_DIR = Path(__file__).resolve().parent / "node"
CHROMIUM = "/usr/bin/chromium"
AUDITS = 61


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "Node.js 20+ with npm is needed for the GraphQL-over-HTTP audit and the browser tests "
            "(apt-get install nodejs npm); README, 'Tests that need Node and Chromium'"
        )
    lock = NODE_DIR / "package-lock.json"
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True)
    return node


class Server:
    def __init__(self, root: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PLANNER_DATABASE_URL": f"sqlite:///{root}/planner.db",
            "PLANNER_GRAPH_URL": f"gremlite:{root}/graph.db",
            "PLANNER_DATA_DIR": str(root),
        }
        self.log = root / "server.log"
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "adapters.cli", "serve", "--demo", "--port", str(self.port)],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(self.log.read_text())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("the server did not start in 60 s")

    def token(self, groups: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "adapters.cli", "token", "issue", "--user", "you@example.com", "--groups", groups],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("frontend"))
    yield running
    running.stop()


def test_the_graphql_over_http_audit_passes_61_of_61(server: Server) -> None:
    done = subprocess.run(
        [_node(), "audit.mjs", f"{server.url}/graphql"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout)
    for result in report["results"]:
        if result["status"] != "ok":
            print(f"{result['status']}: {result['name']}: {result['reason']}")
    assert report["total"] == AUDITS
    assert [r["name"] for r in report["results"] if r["status"] != "ok"] == []


class _Frontend(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def frontend(server: Server) -> Iterator[tuple[str, str]]:
    """A page on another origin (localhost, another port) that runs PlanList and PlanTasks."""
    token = server.token("admin")
    config = {
        "api": f"{server.url}/graphql",
        "token": token,
        "document": (OPERATIONS / "plans.graphql").read_text(encoding="utf-8"),
    }
    page = (NODE_DIR / "frontend.html").read_text(encoding="utf-8").replace("__CONFIG__", json.dumps(config))
    handler = type("Frontend", (_Frontend,), {"page": page.encode()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{httpd.server_address[1]}/", token
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server: Server, frontend: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What headless Chromium saw on the frontend page and in GraphiQL."""
    node = _node()
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `bash scripts/ensure-chromium.sh` installs it (make test runs it)")
    url, token = frontend
    config = {
        "chromium": CHROMIUM,
        "frontendUrl": url,
        "graphiqlUrl": f"{server.url}/graphql",
        "token": token,
        "userDataDir": str(tmp_path_factory.mktemp("chromium-profile")),
    }
    done = subprocess.run(
        [node, "browser.mjs", json.dumps(config)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:] + server.log.read_text()[-4000:]
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


def test_a_page_on_another_origin_runs_plan_list_and_plan_tasks(browser: dict[str, Any]) -> None:
    shown = browser["frontend"]
    assert "error" not in shown, shown
    assert shown["planList"]["status"] == 200
    assert shown["planList"]["type"].startswith("application/graphql-response+json")
    assert len(shown["planList"]["names"]) == 1
    tasks = shown["planTasks"]
    assert tasks["total"] > 0
    assert len(tasks["titles"]) == min(tasks["total"], 50)
    assert shown["shown"] == 1 + len(tasks["titles"])


def test_graphiql_renders_and_runs_a_query_with_no_network_beyond_localhost(browser: dict[str, Any]) -> None:
    assert browser["blocked"] == []
    assert browser["graphiql"]["editor"] is True
    assert json.loads(browser["graphiql"]["result"])["data"]["plans"]["edges"][0]["node"]["name"]
    assert "planner token issue --user you@example.com --groups planner" in browser["tokenHelp"]
    assert "Headers" in browser["tokenHelp"]


def test_metrics_count_a_query_by_its_operation_name(server: Server, browser: dict[str, Any]) -> None:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    counted = re.search(r'^planner_graphql_requests_total\{operation="PlanList",outcome="ok"\} (\S+)$', text, re.M)
    assert counted is not None, text
    assert float(counted.group(1)) >= 1
    assert re.search(r'^planner_graphql_request_duration_seconds_count\{operation="PlanTasks"\} ', text, re.M)
