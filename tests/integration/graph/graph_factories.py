"""Builders and raw-count helpers for the graph integration tests."""

from __future__ import annotations

from pathlib import Path

from gremlin_python.process.anonymous_traversal import traversal
from gremlite import SQLiteConnection

from planning.ports.graph import GraphEdge, GraphTask


def task(task_id: str, plan_id: str = "p1", **overrides: object) -> GraphTask:
    fields: dict[str, object] = {
        "task_id": task_id,
        "plan_id": plan_id,
        "status": "NOT_STARTED",
        "percent_complete": 0,
        "optimistic_days": 1.0,
        "most_likely_days": 2.0,
        "pessimistic_days": 4.5,
    }
    fields.update(overrides)
    return GraphTask(**fields)  # type: ignore[arg-type]


def edge(dep_id: str, pred: str, succ: str, plan_id: str = "p1", lag: float = 0.0) -> GraphEdge:
    return GraphEdge(dependency_id=dep_id, plan_id=plan_id, predecessor_id=pred, successor_id=succ, lag_days=lag)


class RawCounts:
    """Counts read straight from the SQLite file, bypassing the adapter."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _count(self, build) -> int:  # type: ignore[no-untyped-def]
        con = SQLiteConnection(str(self.path))
        try:
            return int(build(traversal().with_remote(con)).count().next())
        finally:
            con.close()

    def vertices(self) -> int:
        return self._count(lambda g: g.V())

    def edges(self) -> int:
        return self._count(lambda g: g.E())
