"""The ``planner`` command, run as a user runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from adapters.cli import demo_document, main
from planning.documents import parse_document

PLAN_LIST = "{ plans { edges { node { id name taskCount eventDate } } } }"
#: A development server trusts identity headers; a request without any is anonymous.
ADMIN = {"X-Planner-User": "tester@example.com", "X-Planner-Groups": "admin"}


@pytest.fixture
def env(monkeypatch, database_url: str, tmp_path: Path) -> dict[str, str]:
    monkeypatch.setenv("PLANNER_DATABASE_URL", database_url)
    monkeypatch.setenv("PLANNER_GRAPH_URL", f"gremlite:{tmp_path}/graph.db")
    return {**os.environ, "PLANNER_DATABASE_URL": database_url, "PLANNER_GRAPH_URL": f"gremlite:{tmp_path}/graph.db"}


def test_import_then_export_round_trips(env, tmp_path: Path, capsys) -> None:
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(demo_document()))
    assert main(["import", str(source)]) == 0
    imported = capsys.readouterr().out
    plan_id = imported.strip().split(" as ")[-1]
    assert main(["export", plan_id, "-o", str(tmp_path / "out.json")]) == 0
    exported = json.loads((tmp_path / "out.json").read_text())
    original = parse_document(demo_document())
    again = parse_document(exported)
    assert again.name == original.name
    assert again.event_date == original.event_date
    assert again.calendar == original.calendar
    assert [(t.title, t.status, t.estimate, t.assignees) for t in again.tasks] == [
        (t.title, t.status, t.estimate, t.assignees) for t in original.tasks
    ]
    keys = {t.key: t.title for t in original.tasks}
    new_keys = {t.key: t.title for t in again.tasks}
    assert sorted((keys[d.predecessor], keys[d.successor], d.lag_days) for d in original.dependencies) == sorted(
        (new_keys[d.predecessor], new_keys[d.successor], d.lag_days) for d in again.dependencies
    )
    assert main(["plans"]) == 0
    assert "36 tasks" in capsys.readouterr().out


def test_a_bad_document_gets_one_clear_message_and_imports_nothing(env, tmp_path: Path, capsys) -> None:
    doc = demo_document()
    doc["tasks"][-1]["estimate"] = {"optimisticDays": 9, "mostLikelyDays": 3, "pessimisticDays": 12}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert main(["import", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    last_key = doc["tasks"][-1]["key"]
    assert err.startswith("planner: ")
    assert f"task {last_key!r}" in err
    assert "estimate" in err
    assert len(err.splitlines()) == 1
    assert main(["plans"]) == 0
    assert capsys.readouterr().out == ""


def test_unreadable_files_get_clean_messages(env, tmp_path: Path, capsys) -> None:
    assert main(["import", str(tmp_path / "missing.json")]) == 1
    assert "no such file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json")
    assert main(["import", str(broken)]) == 1
    assert "not valid JSON (line 1" in capsys.readouterr().err
    assert main(["export", "UGxhbjpub3BlCg"]) == 1
    assert "no plan has the id" in capsys.readouterr().err


def test_db_upgrade(env, capsys) -> None:
    from alembic.script import ScriptDirectory

    from adapters.sql.migrate import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    assert main(["db", "upgrade"]) == 0
    assert f"database at revision {head}" in capsys.readouterr().out


def test_schema_export_check_passes_on_the_committed_files(capsys) -> None:
    assert main(["schema", "export", "--check"]) == 0


def test_schema_export_check_fails_on_a_stale_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "schema.graphql").write_text("type Query { old: Int }\n")
    assert main(["schema", "export", "--check", "--output-dir", str(tmp_path)]) == 1
    assert "out of date" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not start in 30 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_serve_demo_answers_plan_list_and_keeps_data_across_a_restart(env, tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    proc = _serve(env, port, log)
    try:
        _wait_for(f"{base}/healthz", proc, log)
        plans = httpx.post(f"{base}/graphql", json={"query": PLAN_LIST}, headers=ADMIN).json()["data"]["plans"]["edges"]
        assert [p["node"]["taskCount"] for p in plans] == [36]
        plan_id = plans[0]["node"]["id"]
        added = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
                "variables": {"i": {"planId": plan_id, "title": "Added before restart", "durationDays": 1}},
            },
            headers=ADMIN,
        ).json()
        assert added["data"]["createTask"]["task"]["id"]
    finally:
        _stop(proc)
    logs = log.read_text()
    assert "demo plan loaded" in logs
    assert "status=200" in logs
    assert "QUAD QUERY" not in logs

    proc = _serve(env, port, log)
    try:
        _wait_for(f"{base}/healthz", proc, log)
        plans = httpx.post(f"{base}/graphql", json={"query": PLAN_LIST}, headers=ADMIN).json()["data"]["plans"]["edges"]
        assert [p["node"]["taskCount"] for p in plans] == [37]
    finally:
        _stop(proc)


def test_standard_output_carries_only_the_answer(env, tmp_path: Path, capsys) -> None:
    """Logs go to standard error, so `planner export ID > plan.json` writes a valid document."""
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(demo_document()))
    assert main(["import", str(source)]) == 0
    plan_id = capsys.readouterr().out.strip().split(" as ")[-1]
    assert main(["export", plan_id]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["name"] == demo_document()["name"]
