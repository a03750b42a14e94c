"""`planner graph check | rebuild | project` on the demo plan, with the graph file lost."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adapters.asgi.app import create_asgi_app
from adapters.bootstrap import bootstrap
from adapters.cli import demo_document, main
from adapters.config import Settings
from tests.graphql_client import GraphQL, operation

GRAPH = operation("graph.graphql")
PLANS = operation("plans.graphql")


@pytest.fixture
def env(monkeypatch, database_url: str, tmp_path: Path) -> Path:
    graph_file = tmp_path / "graph.db"
    monkeypatch.setenv("PLANNER_DATABASE_URL", database_url)
    monkeypatch.setenv("PLANNER_GRAPH_URL", f"gremlite:{graph_file}")
    return graph_file


def _answers() -> dict:
    """The CriticalPath and TaskImpact answers of the demo plan, read through a fresh app."""
    app = bootstrap(Settings.from_env())
    try:
        gql = GraphQL(TestClient(create_asgi_app(app), raise_server_exceptions=False))
        plans = gql("{ plans { edges { node { id } } } }")["plans"]["edges"]
        assert len(plans) == 1
        plan_id = plans[0]["node"]["id"]
        path = gql(GRAPH, {"planId": plan_id}, "CriticalPath")["plan"]["criticalPath"]
        tasks = gql(PLANS, {"planId": plan_id}, "PlanTasks")["plan"]["tasks"]["edges"]
        ids = [t["node"]["id"] for t in tasks]
        picked = [ids[0], ids[len(ids) // 2], ids[-1], *(t["id"] for t in path["tasks"][:2])]
        impacts = {}
        for task_id in picked:
            for depth in (None, 1):
                node = gql(GRAPH, {"id": task_id, "maxDepth": depth}, "TaskImpact")["node"]
                impacts[(task_id, depth)] = node
        return {"path": path, "impacts": impacts, "tasks": len(ids)}
    finally:
        app.close()


def test_graph_check_and_rebuild_after_the_graph_file_is_lost(env: Path, tmp_path: Path, capsys) -> None:
    source = tmp_path / "demo.json"
    source.write_text(json.dumps(demo_document()))
    assert main(["import", str(source)]) == 0
    capsys.readouterr()
    assert main(["graph", "check"]) == 0
    assert "in sync" in capsys.readouterr().out

    before = _answers()
    assert before["tasks"] == 36
    assert before["path"]["tasks"], "the demo plan has a critical path"
    assert before["path"]["durationDays"] > 0
    assert any(n["upstream"] or n["downstream"] for n in before["impacts"].values())

    for leftover in env.parent.glob(env.name + "*"):
        os.remove(leftover)
    assert main(["graph", "check"]) == 1
    out = capsys.readouterr().out
    assert "tasks missing from the graph: 36" in out
    assert "dependencies missing from the graph" in out
    assert "drift found" in out
    assert "in sync" not in out.splitlines()

    assert main(["graph", "rebuild"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("graph rebuilt: 36 tasks, ")

    assert _answers() == before
    assert main(["graph", "check"]) == 0
    out = capsys.readouterr().out
    assert "in sync" in out
    assert "0 outbox events not yet projected" in out


def test_graph_project_applies_pending_events(env: Path, tmp_path: Path, capsys) -> None:
    source = tmp_path / "demo.json"
    source.write_text(json.dumps(demo_document()))
    assert main(["import", str(source)]) == 0
    capsys.readouterr()
    assert main(["graph", "project"]) == 0
    assert capsys.readouterr().out.startswith("applied 0 events")
    # Move the checkpoint back: the projector re-applies everything, idempotently.
    app = bootstrap(Settings.from_env())
    try:
        from adapters.sql import SqlUnitOfWork

        with SqlUnitOfWork(app.engine) as uow:
            last = uow.outbox.last_position()
            uow.outbox.save_checkpoint("graph", 0)
            uow.commit()
    finally:
        app.close()
    assert main(["graph", "check"]) == 0
    assert f"{last} outbox events not yet projected" in capsys.readouterr().out
    assert main(["graph", "project"]) == 0
    assert capsys.readouterr().out.strip() == f"applied {last} events; graph at outbox position {last}"
    assert main(["graph", "check"]) == 0
    assert "in sync" in capsys.readouterr().out
